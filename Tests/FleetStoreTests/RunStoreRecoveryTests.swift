import Foundation
import XCTest
@testable import FleetStore

final class RunStoreRecoveryTests: XCTestCase {
    func testRunOfDeadProcessIsMarkedInterruptedOnOpen() throws {
        let temp = try TemporaryDirectory()
        let path = temp.file("history.sqlite")
        let store = try RunStore(path: path)
        let dead = try deadPid()
        let orphan = try store.beginRun(sampleRun(pid: dead))
        try store.record(result: sampleResult(runID: orphan, host: "a", finishedAt: storeTime(1_700_000_005)))
        try store.record(result: sampleResult(runID: orphan, host: "b", finishedAt: storeTime(1_700_000_007.5)))
        let orphanWithoutResults = try store.beginRun(sampleRun(pid: dead))
        let alive = try store.beginRun(sampleRun(pid: getpid()))
        let elsewhere = try store.beginRun(sampleRun(pid: dead, controllerHost: "another-controller"))
        let finished = try store.beginRun(sampleRun(pid: dead))
        try store.finishRun(id: finished, status: .completed, finishedAt: storeTime(1_700_000_010))
        store.close()

        let reopened = try RunStore(path: path)
        defer { reopened.close() }
        XCTAssertEqual(reopened.recoveredInterruptedRuns, [orphan, orphanWithoutResults])

        let recovered = try XCTUnwrap(try reopened.run(id: orphan))
        XCTAssertEqual(recovered.run.status, .interrupted)
        XCTAssertEqual(recovered.run.finishedAt, storeTime(1_700_000_007.5), "last sign of life: its last result")
        XCTAssertEqual(recovered.counts.ok, 2)
        XCTAssertEqual(try reopened.run(id: orphanWithoutResults)?.run.finishedAt, sampleRun().startedAt)
        XCTAssertEqual(try reopened.run(id: alive)?.run.status, .running, "this process is alive")
        XCTAssertEqual(try reopened.run(id: elsewhere)?.run.status, .running, "cannot check another host's pid")
        XCTAssertEqual(try reopened.run(id: finished)?.run.status, .completed)

        let again = try RunStore(path: path)
        defer { again.close() }
        XCTAssertEqual(again.recoveredInterruptedRuns, [], "recovery happens once")
    }

    func testReusedPidIsSeenByItsStartTime() throws {
        #if os(Linux)
        let temp = try TemporaryDirectory()
        let path = temp.file("history.sqlite")
        let store = try RunStore(path: path)
        let ours = try store.beginRun(sampleRun(pid: getpid()))
        let reused = try store.beginRun(sampleRun(pid: getpid()))
        // As if an earlier process with our pid (a restarted container) had started `reused`.
        try store.withConnectionForTesting { connection in
            XCTAssertEqual(try connection.scalarText("SELECT pid_start_token FROM runs WHERE id = \(ours)", operation: "test"),
                           ProcessLiveness.startToken(of: getpid()))
            try connection.execute("UPDATE runs SET pid_start_token = 'another-boot:12345' WHERE id = \(reused)",
                                   operation: "test")
        }
        store.close()

        let reopened = try RunStore(path: path)
        defer { reopened.close() }
        XCTAssertEqual(reopened.recoveredInterruptedRuns, [reused])
        XCTAssertEqual(try reopened.run(id: ours)?.run.status, .running)
        #else
        throw XCTSkip("process start tokens come from /proc (Linux)")
        #endif
    }

    func testLivenessCheck() throws {
        XCTAssertTrue(ProcessLiveness.isAlive(pid: getpid(), recordedStartToken: ProcessLiveness.startToken(of: getpid())))
        XCTAssertFalse(ProcessLiveness.isAlive(pid: try deadPid(), recordedStartToken: nil))
        XCTAssertFalse(ProcessLiveness.isAlive(pid: 0, recordedStartToken: nil), "0 would mean our process group")
        XCTAssertFalse(ProcessLiveness.isAlive(pid: -1, recordedStartToken: nil))
        #if os(Linux)
        XCTAssertTrue(ProcessLiveness.isAlive(pid: 1, recordedStartToken: nil), "pid 1 exists (EPERM counts as alive)")
        XCTAssertFalse(ProcessLiveness.isAlive(pid: getpid(), recordedStartToken: "x:1"))
        #endif
    }
}
