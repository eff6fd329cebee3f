import Foundation
import XCTest
@testable import FleetStore

/// A fresh temporary directory per test, removed afterwards.
final class TemporaryDirectory {
    let path: String

    init() throws {
        let base = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("fleetstore-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    deinit {
        // Tests may leave directories without write permission; give them back so removal works.
        _ = chmod(path, 0o755)
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A time on a whole millisecond, so it round-trips through the store exactly.
func storeTime(_ secondsSince1970: Double) -> Date {
    Date(timeIntervalSince1970: secondsSince1970)
}

func sampleRun(command: String = "ipconfig /all", pid: Int32 = getpid(),
               controllerHost: String = RunStore.localHostName(), hostCount: Int = 3) -> NewRun {
    NewRun(command: command, kind: .cmd, target: "web*", who: "operator", controllerHost: controllerHost,
           pid: pid, startedAt: storeTime(1_700_000_000.125), hostCount: hostCount)
}

func sampleResult(runID: Int64, host: String = "web01", status: HostResultStatus = .ok,
                  stdout: Data = Data("ok\r\n".utf8), finishedAt: Date = storeTime(1_700_000_001.5)) -> HostResultRecord {
    HostResultRecord(runID: runID, host: host, route: "direct", iteration: 1, status: status,
                     exitCode: status == .ok ? 0 : (status == .failed ? 1 : nil), stdout: stdout,
                     stderr: Data(), startedAt: storeTime(1_700_000_000.25), finishedAt: finishedAt, durationMs: 1250)
}

/// Runs `body`, expects a `StoreError` of `kind` whose message names `path` and contains every `fragment`.
func assertStoreError<T>(_ kind: StoreError.Kind, path: String, containing fragments: [String] = [],
                         file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected a \(kind) StoreError, got success", file: file, line: line)
    } catch let error as StoreError {
        XCTAssertEqual(error.kind, kind, "message: \(error.message)", file: file, line: line)
        XCTAssertEqual(error.path, path, file: file, line: line)
        XCTAssertTrue(error.message.contains(path), "message does not name the path: \(error.message)",
                      file: file, line: line)
        XCTAssertEqual(error.description, error.message, file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(error.message.contains(fragment), "message lacks \"\(fragment)\": \(error.message)",
                          file: file, line: line)
        }
    } catch {
        XCTFail("expected a StoreError, got \(error)", file: file, line: line)
    }
}

/// A pid that belonged to a process which has exited (and was reaped).
func deadPid() throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    try process.run()
    process.waitUntilExit()
    return process.processIdentifier
}
