import Foundation
import XCTest
@testable import FleetStore

/// Results recorded one by one, each its own commit (the worst case of a live run), are all kept,
/// with either durability setting. How fast that is, is a figure of `bench/StoreBench`, not a test.
final class RunStoreOneByOneTests: XCTestCase {
    private func recordOneByOne(count: Int, synchronous: RunStore.Options.Synchronous) throws {
        let temp = try TemporaryDirectory()
        let store = try RunStore(path: temp.file("history.sqlite"), options: .init(synchronous: synchronous))
        defer { store.close() }
        let id = try store.beginRun(sampleRun(hostCount: count))
        let output = Data(repeating: 0x61, count: 100)
        for index in 0..<count {
            try store.record(result: sampleResult(runID: id, host: "host\(index)", stdout: output))
        }
        XCTAssertEqual(try store.run(id: id)?.counts.ok, count)
        XCTAssertEqual(try store.results(runID: id).count, count)
    }

    func testThousandResultsEachItsOwnCommitAreAllKept() throws {
        try recordOneByOne(count: 1000, synchronous: .normal)
    }

    func testSynchronousFullKeepsEveryResultToo() throws {
        try recordOneByOne(count: 200, synchronous: .full)
    }
}
