import Foundation
import XCTest
@testable import FleetStore

final class RunStoreRecordingTests: XCTestCase {
    private var temp: TemporaryDirectory!
    private var path: String!
    private var store: RunStore!

    override func setUpWithError() throws {
        temp = try TemporaryDirectory()
        path = temp.file("history.sqlite")
        store = try RunStore(path: path)
    }

    override func tearDown() {
        store?.close()
        store = nil
        temp = nil
    }

    func testRunRoundTripWithMegabyteOutputAndUnicode() throws {
        let newRun = NewRun(command: "Get-ChildItem 'C:\\Données\\日本語' | % { $_.Name } # 🚀",
                            kind: .powershell, target: "tag:paris & !srv-ü-*", who: "zoë",
                            controllerHost: "ctl-01", pid: getpid(), startedAt: storeTime(1_700_000_000.001),
                            hostCount: 2)
        let id = try store.beginRun(newRun)

        var megabyte = Data(count: 1_048_576)
        for index in megabyte.indices { megabyte[index] = UInt8(truncatingIfNeeded: index &* 2_654_435_761 >> 7) }
        megabyte[0] = 0xFF  // not valid UTF-8: outputs are bytes, not text
        let big = HostResultRecord(
            runID: id, host: "srv-ü-01", route: "proxy:squid-1", iteration: 1, status: .ok, exitCode: 0,
            stdout: megabyte, stderr: Data("avertissement : ½ fini — 終わり\u{0}après le NUL".utf8),
            startedAt: storeTime(1_700_000_000.002), finishedAt: storeTime(1_700_000_003.999), durationMs: 3997)
        let failed = HostResultRecord(
            runID: id, host: "srv-ü-02", route: "direct", iteration: 2, status: .error, exitCode: nil,
            errorKind: "auth", errorMessage: "Anmeldung fehlgeschlagen für „zoë“", errorCode: "0x80090308",
            startedAt: storeTime(1_700_000_000.5), finishedAt: storeTime(1_700_000_001), durationMs: 500)
        let huge = HostResultRecord(
            runID: id, host: "srv-ü-03", route: "direct", status: .failed, exitCode: 3_221_225_477,  // 0xC0000005
            stdout: Data(), startedAt: storeTime(1_700_000_000), finishedAt: storeTime(1_700_000_000), durationMs: 0)
        try store.record(result: big)
        try store.record(results: [failed, huge])
        try store.finishRun(id: id, status: .failed, finishedAt: storeTime(1_700_000_004.25))

        let results = try store.results(runID: id)
        XCTAssertEqual(results.count, 3)
        XCTAssertEqual(results, [big, failed, huge])
        XCTAssertEqual(results[0].stdout.count, 1_048_576)
        XCTAssertEqual(results[0].stderrText, "avertissement : ½ fini — 終わり\u{0}après le NUL")

        let summary = try XCTUnwrap(try store.run(id: id))
        XCTAssertEqual(summary.run, RunRecord(
            id: id, command: newRun.command, kind: .powershell, target: newRun.target, who: "zoë",
            controllerHost: "ctl-01", pid: getpid(), startedAt: newRun.startedAt,
            finishedAt: storeTime(1_700_000_004.25), status: .failed, hostCount: 2))
        XCTAssertEqual(summary.counts, ResultCounts(ok: 1, failed: 1, error: 1))
        XCTAssertEqual(summary.counts.total, 3)
    }

    func testRunsAreListedNewestFirstWithCountsPerStatus() throws {
        let first = try store.beginRun(sampleRun(command: "first"))
        let second = try store.beginRun(sampleRun(command: "second"))
        let third = try store.beginRun(sampleRun(command: "third"))
        let statuses: [HostResultStatus] = [.ok, .ok, .failed, .error, .timeout, .cancelled, .ok]
        for (index, status) in statuses.enumerated() {
            try store.record(result: sampleResult(runID: second, host: "h\(index)", status: status))
        }
        try store.record(result: sampleResult(runID: third, host: "h0", status: .timeout))

        let listed = try store.runs(last: 2)
        XCTAssertEqual(listed.map(\.run.id), [third, second])
        XCTAssertEqual(listed.map(\.run.command), ["third", "second"])
        XCTAssertEqual(listed[1].counts, ResultCounts(ok: 3, failed: 1, error: 1, timeout: 1, cancelled: 1))
        XCTAssertEqual(listed[0].counts, ResultCounts(timeout: 1))
        XCTAssertEqual(listed.map(\.run.status), [.running, .running])
        XCTAssertNil(listed[0].run.finishedAt)

        XCTAssertEqual(try store.runs(last: 10).map(\.run.id), [third, second, first])
        XCTAssertEqual(try store.runs(last: 0), [])
        XCTAssertEqual(try store.run(id: first)?.counts, ResultCounts())
        XCTAssertNil(try store.run(id: 9_999))
        XCTAssertEqual(try store.results(runID: 9_999), [])
    }

    func testBatchIsOneTransaction() throws {
        let id = try store.beginRun(sampleRun())
        // The second record names a run that does not exist: the foreign key fails, and the first is rolled back.
        let batch = [sampleResult(runID: id, host: "a"), sampleResult(runID: 12_345, host: "b")]
        assertStoreError(.other, path: path, containing: ["FOREIGN KEY"]) {
            try store.record(results: batch)
        }
        XCTAssertEqual(try store.results(runID: id), [])

        try store.record(results: [sampleResult(runID: id, host: "a"), sampleResult(runID: id, host: "b")])
        XCTAssertEqual(try store.results(runID: id).map(\.host), ["a", "b"])
        try store.record(results: [])
    }

    func testSessionEventsBelongToTheirRun() throws {
        let id = try store.beginRun(sampleRun())
        let other = try store.beginRun(sampleRun())
        let events = [
            SessionEventRecord(runID: id, host: "web01", at: storeTime(1_700_000_000.1), kind: .authOK,
                               detail: "NTLM, sealed"),
            SessionEventRecord(runID: id, host: "web01", at: storeTime(1_700_000_000.2), kind: .affinityLost,
                               detail: "server closed the connection after 401; re-authenticating"),
            SessionEventRecord(runID: id, host: "web02", at: storeTime(1_700_000_000.3), kind: .shellReopened),
            SessionEventRecord(runID: id, host: "web02", at: storeTime(1_700_000_000.4), kind: "custom_kind",
                               detail: "kinds are an open set"),
        ]
        for event in events { try store.record(event: event) }
        try store.record(event: SessionEventRecord(runID: other, host: "web09", at: storeTime(1_700_000_000),
                                                   kind: .quota, detail: "MaxShellsPerUser"))
        try store.record(event: SessionEventRecord(runID: nil, host: "web03", at: storeTime(1_700_000_000),
                                                   kind: .reconnect, detail: "outside a run"))

        XCTAssertEqual(try store.events(runID: id), events)
        XCTAssertEqual(try store.events(runID: other).map(\.kind), [.quota])
        let raw = try SQLiteConnection(path: path, readOnly: true)
        defer { raw.close() }
        XCTAssertEqual(try raw.scalarText("SELECT detail FROM session_events WHERE run_id IS NULL", operation: "test"),
                       "outside a run")
    }

    func testFinishRunChecksTheRunAndTheStatus() throws {
        assertStoreError(.other, path: path, containing: ["no run 77"]) {
            try store.finishRun(id: 77, status: .completed, finishedAt: Date())
        }
        let id = try store.beginRun(sampleRun())
        assertStoreError(.other, path: path, containing: ["final status"]) {
            try store.finishRun(id: id, status: .running, finishedAt: Date())
        }
        try store.finishRun(id: id, status: .cancelled, finishedAt: storeTime(1_700_000_009))
        XCTAssertEqual(try store.run(id: id)?.run.status, .cancelled)
        XCTAssertEqual(try store.run(id: id)?.run.finishedAt, storeTime(1_700_000_009))
    }

    func testUseAfterCloseIsAnError() throws {
        store.close()
        store.close()
        assertStoreError(.other, path: path, containing: ["closed"]) { try store.runs(last: 1) }
        assertStoreError(.other, path: path, containing: ["closed"]) { try store.beginRun(sampleRun()) }
    }

    func testConcurrentWritersAndReadersFromManyThreads() throws {
        let id = try store.beginRun(sampleRun(hostCount: 800))
        let store = self.store!
        let failures = FailureCollector()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            do {
                for index in 0..<100 {
                    try store.record(result: sampleResult(runID: id, host: "w\(worker)-\(index)"))
                    if index % 10 == 0 {
                        try store.record(event: SessionEventRecord(runID: id, host: "w\(worker)", at: Date(),
                                                                   kind: .reconnect))
                        _ = try store.runs(last: 3)
                    }
                }
            } catch {
                failures.add(error)
            }
        }
        XCTAssertEqual(failures.errors.map { "\($0)" }, [])
        XCTAssertEqual(try store.run(id: id)?.counts.ok, 800)
        XCTAssertEqual(Set(try store.results(runID: id).map(\.host)).count, 800)
        XCTAssertEqual(try store.events(runID: id).count, 80)
    }

    func testUnknownStatusWrittenByNewerVersionIsAClearError() throws {
        let id = try store.beginRun(sampleRun())
        try store.withConnectionForTesting { connection in
            try connection.execute("UPDATE runs SET status = 'paused' WHERE id = \(id)", operation: "test")
        }
        assertStoreError(.corrupt, path: path, containing: ["\"paused\"", "runs.status", "upgrade winfleet"]) {
            try store.run(id: id)
        }
    }
}

final class FailureCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [Error] = []
    func add(_ error: Error) { lock.lock(); collected.append(error); lock.unlock() }
    var errors: [Error] { lock.lock(); defer { lock.unlock() }; return collected }
}
