import Foundation
import XCTest

/// The repository root, from this file's path (Tests/EndToEndTests/CLISupport.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The `winfleet` executable `swift build` produced.
func winfleetExecutable() throws -> URL {
    let candidates = [".build/debug/winfleet", ".build/x86_64-unknown-linux-gnu/debug/winfleet",
                      ".build/aarch64-unknown-linux-gnu/debug/winfleet"]
    for candidate in candidates {
        let url = repositoryRoot.appendingPathComponent(candidate)
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    throw MissingExecutable()
}

struct MissingExecutable: Error, CustomStringConvertible {
    var description: String { "the winfleet executable is not under \(repositoryRoot.path)/.build: run `swift build` first" }
}

/// A temporary directory removed by `cleanUp()`.
final class Scratch {
    let url: URL
    init(_ label: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("winfleet-e2e-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func cleanUp() { try? FileManager.default.removeItem(at: url) }
}

/// The environment every child gets: no proxy variables (routes must be direct to loopback), the
/// simulator's demo password, and a run history in `stateHome` instead of the user's.
func childEnvironment(stateHome: String, password: String? = "winfleet-demo", extra: [String: String] = [:]) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment
    for key in environment.keys where key.lowercased().hasSuffix("_proxy") { environment[key] = nil }
    environment["NO_PROXY"] = "*"
    environment["no_proxy"] = "*"
    environment["XDG_STATE_HOME"] = stateHome
    environment["WINFLEET_DEMO_PASSWORD"] = password
    for (key, value) in extra { environment[key] = value }
    return environment
}

/// A finished child process.
struct Finished {
    /// The exit status, or the signal number when `reason` is `.uncaughtSignal`.
    var status: Int32
    var reason: Process.TerminationReason
    var stdout: Data
    var stderr: String
    var elapsed: TimeInterval

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }

    /// The lines of `--format jsonl`, decoded.
    func jsonLines(file: StaticString = #filePath, line: UInt = #line) -> [[String: Any]] {
        stdout.split(separator: 10).compactMap { bytes in
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                XCTFail("not a JSON object: \(String(decoding: bytes.prefix(200), as: UTF8.self))", file: file, line: line)
                return nil
            }
            return object
        }
    }

    var summary: String { "exit \(status); stderr: \(stderr.prefix(2000)); stdout: \(stdoutText.prefix(1500))" }
}

/// A child process whose stdout is read line by line as it comes.
final class Child: @unchecked Sendable {
    let process = Process()
    private let condition = NSCondition()
    private var stdoutData = Data()
    private var newlineCount = 0
    private var stderrData = Data()
    private var stdoutClosed = false
    private var stderrClosed = false
    private let started = Date()

    init(_ executable: URL, _ arguments: [String], environment: [String: String], directory: URL? = nil) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        Thread.detachNewThread { [self] in
            while true {
                let chunk = out.fileHandleForReading.availableData
                // Count newlines in the new bytes only: outputs of tens of MB arrive here.
                let newlines = chunk.withUnsafeBytes { raw in raw.reduce(0) { $0 + ($1 == 10 ? 1 : 0) } }
                condition.lock()
                if chunk.isEmpty { stdoutClosed = true; condition.broadcast(); condition.unlock(); return }
                stdoutData.append(chunk)
                newlineCount += newlines
                condition.broadcast()
                condition.unlock()
            }
        }
        Thread.detachNewThread { [self] in
            let data = err.fileHandleForReading.readDataToEndOfFile()
            condition.lock()
            stderrData = data
            stderrClosed = true
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The complete lines of stdout so far.
    var lines: [String] { condition.withLock { completeLines() } }

    private func completeLines() -> [String] {
        guard let last = stdoutData.lastIndex(of: 10) else { return [] }
        return stdoutData[stdoutData.startIndex..<last].split(separator: 10, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    /// Waits until stdout has at least `count` complete lines (or closed); returns them.
    @discardableResult
    func waitForLines(_ count: Int, timeout: TimeInterval) -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while newlineCount < count && !stdoutClosed {
            if !condition.wait(until: deadline) { break }
        }
        return completeLines()
    }

    /// Waits for the process to exit (killing it after `timeout`).
    func finish(timeout: TimeInterval) -> Finished {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        condition.lock()
        while !(stdoutClosed && stderrClosed) {
            if !condition.wait(until: Date().addingTimeInterval(5)) { break }
        }
        let result = Finished(status: process.terminationStatus, reason: process.terminationReason, stdout: stdoutData,
                              stderr: String(decoding: stderrData, as: UTF8.self), elapsed: Date().timeIntervalSince(started))
        condition.unlock()
        return result
    }

    func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }
}

/// Runs `winfleet ARGS` to its end.
func winfleet(_ arguments: [String], environment: [String: String], timeout: TimeInterval = 120) throws -> Finished {
    try Child(try winfleetExecutable(), arguments, environment: environment).finish(timeout: timeout)
}

/// `winfleet sim ...` as a subprocess, ready when it printed `ready N hosts`.
final class SimulatorProcess {
    let child: Child
    let inventoryPath: String

    init(hosts: Int, firstAddress: String, arguments: [String], inventoryPath: String, environment: [String: String],
         file: StaticString = #filePath, line: UInt = #line) throws {
        self.inventoryPath = inventoryPath
        child = try Child(try winfleetExecutable(),
                          ["sim", "--hosts", String(hosts), "--first-address", firstAddress, "--inventory-out", inventoryPath] + arguments,
                          environment: environment)
        let lines = child.waitForLines(1, timeout: 60)
        guard lines.first == "ready \(hosts) hosts" else {
            let finished = child.finish(timeout: 5)
            XCTFail("winfleet sim did not get ready: \(finished.summary)", file: file, line: line)
            throw SimulatorStartFailure()
        }
    }

    struct SimulatorStartFailure: Error {}

    /// SIGTERM (what an operator's ctrl-c or a service manager sends), then wait.
    func stop() {
        child.signal(SIGTERM)
        let finished = child.finish(timeout: 10)
        XCTAssertEqual(finished.status, 0, "winfleet sim did not stop cleanly: \(finished.summary)")
    }
}

/// Rewrites the inventory JSON at `path` with `edit` applied.
func editInventory(_ path: String, to newPath: String? = nil, _ edit: (inout [String: Any]) -> Void) throws {
    var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    edit(&object)
    try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: newPath ?? path))
}

extension Dictionary where Key == String, Value == Any {
    var errorKind: String? { (self["error"] as? [String: Any])?["kind"] as? String }
    var errorMessage: String? { (self["error"] as? [String: Any])?["message"] as? String }
    var exitCode: Int? { self["exit_code"] as? Int }
}
