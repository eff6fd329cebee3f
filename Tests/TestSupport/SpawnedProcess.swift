import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, an empty signal mask and default signal handlers.
/// The test runner's threads block signals, and Foundation's `Process` passes that mask on: a proxy
/// started through it ignores SIGTERM, and a tmux server started through it (which also inherits
/// the output pipe) hangs the run.
public final class SpawnedProcess {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let pid: pid_t
    public let executable: String
    private var exited = false
    private var exitStatus: Int32 = -1

    /// Starts `executable arguments…` with stdin from /dev/null and stdout and stderr appended to `outputPath`.
    public init(_ executable: String, _ arguments: [String], outputPath: String) throws {
        self.executable = executable
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard status == 0 else { throw Failure(description: "cannot start \(executable): \(String(cString: strerror(status)))") }
        pid = child
    }

    public var isRunning: Bool {
        if exited { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid { record(status) }
        if result < 0 && errno == ECHILD { exited = true }
        return !exited
    }

    /// Waits for the child to end; its exit status, or -1 when a signal ended it.
    public func waitForExit() -> Int32 {
        var status: Int32 = 0
        while !exited {
            let result = waitpid(pid, &status, 0)
            if result == pid { record(status) } else if errno != EINTR { exited = true }
        }
        return exitStatus
    }

    /// `signal` (SIGTERM unless told), then SIGKILL if it has not exited within `timeout`.
    public func stop(signal: Int32 = SIGTERM, timeout: TimeInterval = 5) {
        guard isRunning else { return }
        kill(pid, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning && Date() < deadline { usleep(20_000) }
        if isRunning {
            kill(pid, SIGKILL)
            _ = waitForExit()
        }
    }

    private func record(_ status: Int32) {
        exited = true
        exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
    }
}
