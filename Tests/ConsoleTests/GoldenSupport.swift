import Foundation
import XCTest
@testable import Console

/// Golden files live in Tests/ConsoleTests/Golden. `WINFLEET_RECORD_GOLDEN=1 swift test` rewrites them;
/// a missing golden file is written and the test fails, so a new screen is always looked at once.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static var recording: Bool { ProcessInfo.processInfo.environment["WINFLEET_RECORD_GOLDEN"] == "1" }

    static func assert(_ actual: String, named name: String, file: StaticString = #filePath, line: UInt = #line) {
        let url = directory.appendingPathComponent(name + ".txt")
        if recording || !FileManager.default.fileExists(atPath: url.path) {
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try! actual.write(to: url, atomically: true, encoding: .utf8)
            if !recording { XCTFail("recorded new golden file \(name).txt; check it and run again", file: file, line: line) }
            return
        }
        let expected = try! String(contentsOf: url, encoding: .utf8)
        if expected != actual {
            let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
            var firstDifference = "lengths differ"
            for (index, pair) in zip(expectedLines, actualLines).enumerated() where pair.0 != pair.1 {
                firstDifference = "line \(index + 1):\n  expected: \(pair.0)\n  actual:   \(pair.1)"
                break
            }
            XCTFail("screen differs from golden \(name).txt (WINFLEET_RECORD_GOLDEN=1 re-records)\n\(firstDifference)",
                    file: file, line: line)
        }
    }
}

/// A console driven by scripted keys against the fake engine, as `ConsoleApp` drives it, but rendering
/// into a recording screen.
final class ConsoleHarness {
    let engine: FakeEngine
    var state = ConsoleState()
    let screen: RecordingScreen
    var effects: [ConsoleEffect] = []

    init(hosts: Int = 120, size: ScreenSize = ScreenSize(rows: 24, cols: 80)) {
        engine = FakeEngine(hostCount: hosts)
        screen = RecordingScreen(size: size)
        state.now = FakeEngine.defaultNow.addingTimeInterval(30)
        state.timeZone = TimeZone(identifier: "UTC")!
        state.resize(to: size)
    }

    var snapshot: FleetSnapshot { engine.snapshot() }

    /// Presses keys (see `Key.script`) and carries out their effects like the app does.
    @discardableResult
    func press(_ script: String) -> [ConsoleEffect] {
        var produced: [ConsoleEffect] = []
        for key in Key.script(script) {
            let result = state.handle(key, snapshot: engine.snapshot())
            produced += result
            for effect in result { perform(effect) }
        }
        effects += produced
        return produced
    }

    func perform(_ effect: ConsoleEffect) {
        switch effect {
        case .startRun(let command, let powershell, let hosts):
            engine.startRun(command: command, powershell: powershell, hosts: hosts)
        case .resolveTarget(let expression):
            do {
                state.targetResolved(expression: expression, hosts: try engine.resolveTarget(expression))
            } catch {
                state.targetFailed(expression: expression, message: String(describing: error))
            }
        case .cancelHost(let host): engine.cancel(host: host)
        case .cancelRun: engine.cancelRun()
        case .setThrottle(let n): engine.setThrottle(n)
        case .openHistoryRun(let id): state.historyRunOpened(id: id, rows: engine.openHistoryRun(id: id))
        case .showPendingSummary: state.showPending(summary: engine.pendingSummary())
        case .loadTheme(let name):
            let loaded = ThemeCatalog(searchDirectories: []).load(ThemeChoice(argument: name), environment: [:])
            screen.apply(theme: loaded.theme)
            state.themeApplied(name: loaded.theme.name, message: loaded.message)
        case .quit: break
        }
    }

    func frame(_ size: ScreenSize? = nil) -> ScreenFrame {
        let size = size ?? screen.size
        state.resize(to: size)
        let frame = render(state: state, snapshot: engine.snapshot(), size: size)
        screen.size = size
        screen.draw(frame)
        return frame
    }

    func text(_ size: ScreenSize? = nil) -> String {
        frame(size).textLines().joined(separator: "\n")
    }

    /// Starts a run on the first `hosts` hosts (by marking them) and finishes `finished` of them.
    func startRun(hosts: Int = 100, finished: Int = 60, command: String = "ipconfig /all") {
        state.marks = Set(engine.snapshot().hosts.prefix(hosts).map(\.name))
        press(":run \(command)<enter>")
        state.marks = []
        engine.advance(results: finished)
    }
}
