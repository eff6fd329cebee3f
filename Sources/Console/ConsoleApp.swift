import CShims
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The interactive console: owns the terminal, reads keys, feeds them to `ConsoleState`, carries out the
/// effects against the engine, and redraws at most 30 times a second (engine updates are coalesced: the
/// update handler only wakes the loop, which then takes one snapshot).
///
/// Terminal restore: `CursesScreen` gives the terminal back when `run()` returns or throws; the C shim's
/// handlers (installed by `wf_curses_start`) do it on exit() and on fatal signals before the signal
/// continues to its previous handler.
public final class ConsoleApp {
    private let engine: ConsoleEngine
    private let themeChoice: ThemeChoice
    private let environment: [String: String]
    private let catalog: ThemeCatalog
    private let waker = Waker()

    /// Frames per second at most.
    public static let maxFrameRate = 30.0

    public init(engine: ConsoleEngine, theme: ThemeChoice, environment: [String: String]) {
        self.engine = engine
        themeChoice = theme
        self.environment = environment
        catalog = ThemeCatalog.standard(environment: environment)
    }

    /// Runs until the user quits. Throws when there is no usable terminal.
    public func run() throws {
        let loaded = catalog.load(themeChoice, environment: environment)
        var state = ConsoleState()
        state.availableThemes = catalog.availableNames()
        state.themeName = loaded.theme.name
        if let message = loaded.message { state.setStatus(message, isError: true) }

        let screen = try CursesScreen(theme: loaded.theme, environment: environment)
        defer { screen.stop() }
        let waker = self.waker
        engine.setUpdateHandler { waker.wake() }

        let framePeriod = 1.0 / Self.maxFrameRate
        var snapshot = engine.snapshot()
        var lastDraw = Date.distantPast
        var dirty = true
        var running = true
        while running {
            let now = Date()
            if dirty && now.timeIntervalSince(lastDraw) >= framePeriod {
                state.now = now
                state.resize(to: screen.size)
                screen.draw(render(state: state, snapshot: snapshot, size: screen.size))
                lastDraw = now
                dirty = false
            }
            // Sleep until a key, an engine update, the next allowed frame, or (during a run) the next
            // clock tick for elapsed time and rate.
            var timeoutMs: Int32 = -1
            if dirty {
                timeoutMs = Int32(max(1, (framePeriod - Date().timeIntervalSince(lastDraw)) * 1000))
            } else if snapshot.run?.isActive == true {
                timeoutMs = 1000
            }
            let (keyReady, woken) = waitForInput(timeoutMs: timeoutMs)
            if woken { waker.drain() }
            let fresh = engine.snapshot()
            if fresh.version != snapshot.version { dirty = true }
            snapshot = fresh
            if !keyReady && !woken && snapshot.run?.isActive == true { dirty = true }
            for key in screen.readKeys() {
                dirty = true
                if key == .resize {
                    screen.refreshSize()
                    state.resize(to: screen.size)
                    continue
                }
                state.resize(to: screen.size)
                for effect in state.handle(key, snapshot: snapshot) where !perform(effect, state: &state, screen: screen) {
                    running = false
                }
                if !running { break }
            }
        }
    }

    /// Carries out one effect; false means quit.
    private func perform(_ effect: ConsoleEffect, state: inout ConsoleState, screen: CursesScreen) -> Bool {
        switch effect {
        case .startRun(let command, let powershell, let hosts):
            engine.startRun(command: command, powershell: powershell, hosts: hosts)
        case .resolveTarget(let expression):
            do {
                state.targetResolved(expression: expression, hosts: try engine.resolveTarget(expression))
            } catch {
                state.targetFailed(expression: expression, message: String(describing: error))
            }
        case .cancelHost(let host):
            engine.cancel(host: host)
        case .cancelRun:
            engine.cancelRun()
        case .setThrottle(let n):
            engine.setThrottle(n)
        case .openHistoryRun(let id):
            state.historyRunOpened(id: id, rows: engine.openHistoryRun(id: id))
        case .showPendingSummary:
            state.showPending(summary: engine.pendingSummary())
        case .loadTheme(let name):
            // Asked for explicitly, so it is honoured even under NO_COLOR.
            let loaded = catalog.load(ThemeChoice(argument: name), environment: environment)
            screen.apply(theme: loaded.theme)
            state.themeApplied(name: loaded.theme.name, message: loaded.message)
        case .quit:
            return false
        }
        return true
    }

    /// Waits for stdin or the waker; returns which is ready.
    private func waitForInput(timeoutMs: Int32) -> (key: Bool, woken: Bool) {
        var fds = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: waker.readFD, events: Int16(POLLIN), revents: 0)]
        let result = poll(&fds, nfds_t(fds.count), timeoutMs)
        guard result > 0 else { return (false, false) }
        return (fds[0].revents != 0, fds[1].revents != 0)
    }
}

/// A self-pipe: the engine's update handler (any thread) writes a byte; the UI loop polls the read end.
final class Waker: @unchecked Sendable {
    let readFD: Int32
    let writeFD: Int32

    init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) != 0 { fds = [-1, -1] }
        readFD = fds[0]
        writeFD = fds[1]
        for fd in fds where fd >= 0 {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
    }

    deinit {
        if readFD >= 0 { close(readFD) }
        if writeFD >= 0 { close(writeFD) }
    }

    func wake() {
        var byte: UInt8 = 1
        // A full pipe already means "woken"; the write may fail then and that is fine.
        _ = write(writeFD, &byte, 1)
    }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(readFD, &buffer, buffer.count) > 0 {}
    }
}
