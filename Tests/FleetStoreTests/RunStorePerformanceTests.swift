import Foundation
import XCTest
@testable import FleetStore

/// Recording speed: each result is its own commit, as in a live run.
final class RunStorePerformanceTests: XCTestCase {
    struct Timing {
        var total: TimeInterval
        var slowest: TimeInterval
        var median: TimeInterval
    }

    private func recordOneByOne(count: Int, synchronous: RunStore.Options.Synchronous) throws -> Timing {
        let temp = try TemporaryDirectory()
        let store = try RunStore(path: temp.file("history.sqlite"), options: .init(synchronous: synchronous))
        defer { store.close() }
        let id = try store.beginRun(sampleRun(hostCount: count))
        let output = Data(repeating: 0x61, count: 100)
        var durations: [TimeInterval] = []
        durations.reserveCapacity(count)
        let start = DispatchTime.now().uptimeNanoseconds
        for index in 0..<count {
            let before = DispatchTime.now().uptimeNanoseconds
            try store.record(result: sampleResult(runID: id, host: "host\(index)", stdout: output))
            durations.append(Double(DispatchTime.now().uptimeNanoseconds - before) / 1e9)
        }
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        XCTAssertEqual(try store.run(id: id)?.counts.ok, count)
        durations.sort()
        return Timing(total: total, slowest: durations.last ?? 0, median: durations[durations.count / 2])
    }

    func testThousandCommitsWithSynchronousNormalTakeWellUnderASecond() throws {
        let timing = try recordOneByOne(count: 1000, synchronous: .normal)
        print(String(format: "synchronous=NORMAL: 1000 commits in %.3f s (median %.3f ms, slowest %.3f ms)",
                     timing.total, timing.median * 1000, timing.slowest * 1000))
        XCTAssertLessThan(timing.total, 1.0)
        // Generous: a checkpoint fsync competes with other builds on a shared disk.
        XCTAssertLessThan(timing.slowest, 0.5, "one record blocked the console too long")
    }

    /// Measured for the record (see the report); asserts only that FULL works, its speed is the disk's.
    func testSynchronousFullCostIsMeasured() throws {
        let timing = try recordOneByOne(count: 200, synchronous: .full)
        print(String(format: "synchronous=FULL: 200 commits in %.3f s (median %.3f ms, slowest %.3f ms)",
                     timing.total, timing.median * 1000, timing.slowest * 1000))
    }
}
