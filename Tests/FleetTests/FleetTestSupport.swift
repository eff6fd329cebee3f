import Foundation
import Inventory
import WinRMSim
import WinRMTransport
import XCTest
@testable import Fleet

/// Records what the engine hands to its store, in order.
final class MemoryRecorder: RunRecorder, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var results: [HostResult] = []
    private(set) var events: [SessionEvent] = []
    private(set) var finished: [(Int64, Bool)] = []

    func beginRun(command: String, isPowerShell: Bool, target: String, hostCount: Int) throws -> Int64 { 1 }
    func record(_ entries: [RecorderEntry]) throws {
        lock.withLock {
            for entry in entries {
                switch entry {
                case .result(let result, _): results.append(result)
                case .event(let event, _): events.append(event)
                }
            }
        }
    }
    func finishRun(_ runID: Int64, cancelled: Bool) throws { lock.withLock { finished.append((runID, cancelled)) } }

    var recordedResults: [HostResult] { lock.withLock { results } }
}

extension XCTestCase {
    /// Polls `condition` every 20 ms until it holds or `timeout` passes.
    func waitUntil(_ timeout: TimeInterval, _ what: String, file: StaticString = #filePath, line: UInt = #line,
                   _ condition: () -> Bool) async {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline {
                XCTFail("timed out after \(timeout) s waiting for \(what)", file: file, line: line)
                return
            }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }
}

func describe(_ results: [HostResult]) -> String {
    results.map { "\($0.host) \($0.status.rawValue) exit \($0.exitCode.map(String.init) ?? "-") \($0.error.map(String.init(describing:)) ?? "")" }
        .joined(separator: "\n")
}
