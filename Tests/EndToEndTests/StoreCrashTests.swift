import Foundation
import WinRMSim
import XCTest

/// `kill -9` of a headless run: every result it printed must be in the run history, and the next
/// winfleet that opens the history marks the run interrupted.
///
/// The history is read with Python's sqlite3 module (python3 is a test dependency already, for
/// pywinrm), so this target needs no dependency on FleetStore; the reopening is done by the next
/// `winfleet run`, as in real use.
///
/// Address slice: 127.1.44.1-24.
final class StoreCrashTests: XCTestCase {
    private func query(_ database: String, _ sql: String) throws -> [[String]] {
        let script = """
            import json, sqlite3, sys
            connection = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
            rows = connection.execute(sys.argv[2]).fetchall()
            print(json.dumps([[str(value) for value in row] for row in rows]))
            """
        let finished = try Child(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, database, sql],
                                 environment: ProcessInfo.processInfo.environment).finish(timeout: 30)
        guard finished.status == 0,
              let rows = try JSONSerialization.jsonObject(with: finished.stdout) as? [[String]] else {
            XCTFail("cannot read \(database): \(finished.summary)")
            return []
        }
        return rows
    }

    func testKilledRunKeepsEveryPrintedResultAndIsMarkedInterrupted() throws {
        let scratch = try Scratch("crash")
        defer { scratch.cleanUp() }
        let fleet = SimulatedFleet(config: SimulatorConfig(hostCount: 24, firstAddress: "127.1.44.1", auth: .ntlm,
                                                           faults: FaultInjection(slowHosts: ["WIN0003", "WIN0007", "WIN0011"],
                                                                                  slowMilliseconds: 300)))
        try fleet.start()
        defer { fleet.shutdown() }
        let inventory = scratch.path("fleet.json")
        try fleet.writeInventory(to: inventory)
        let database = scratch.path("history.sqlite")
        let environment = childEnvironment(stateHome: scratch.path("state"))

        // 24 hosts, 4 at a time, each about a second (some slower): results trickle out for ~6 s.
        let child = try Child(try winfleetExecutable(),
                              ["run", "--inventory", inventory, "--db", database, "--format", "jsonl", "--throttle", "4",
                               "--", "echo", "working", "&", "sleep", "1"],
                              environment: environment)
        let printed = child.waitForLines(9, timeout: 30)
        XCTAssertGreaterThanOrEqual(printed.count, 9, "results before the kill")
        child.signal(SIGKILL)
        let killed = child.finish(timeout: 10)
        XCTAssertEqual(killed.reason, .uncaughtSignal, "the run was killed mid-way: \(killed.summary)")
        XCTAssertEqual(killed.status, SIGKILL)
        let printedLines = child.lines
        XCTAssertLessThan(printedLines.count, 24, "the kill came before the end")
        let printedHosts = printedLines.compactMap { line -> String? in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["host"] as? String
        }
        XCTAssertEqual(printedHosts.count, printedLines.count, "every printed line is a result")

        let runsBefore = try query(database, "SELECT id, status, host_count FROM runs")
        XCTAssertEqual(runsBefore.count, 1)
        XCTAssertEqual(runsBefore.first?[1], "running", "nothing finished the run: \(runsBefore)")
        let stored = try query(database, "SELECT host, status, stdout FROM results WHERE run_id = 1")
        let storedHosts = Set(stored.map { $0[0] })
        for host in printedHosts {
            XCTAssertTrue(storedHosts.contains(host), "\(host) was printed but is not in the history")
        }
        for row in stored {
            XCTAssertEqual(row[1], "ok", "\(row)")
            XCTAssertTrue(row[2].contains("working"), "stdout kept: \(row)")
        }

        // The next winfleet that opens the history notices the dead run.
        let next = try winfleet(["run", "--inventory", inventory, "--db", database, "--target", "WIN0001", "--format", "jsonl",
                                 "--", "hostname"], environment: environment)
        XCTAssertEqual(next.status, 0, next.summary)
        XCTAssertTrue(next.stderr.contains("run 1 was interrupted"), next.stderr)
        let runsAfter = try query(database, "SELECT id, status, finished_at IS NOT NULL FROM runs ORDER BY id")
        XCTAssertEqual(runsAfter.first?[1], "interrupted", "\(runsAfter)")
        XCTAssertEqual(runsAfter.first?[2], "1", "an interrupted run gets an end time")
        XCTAssertEqual(runsAfter.last?[1], "completed", "\(runsAfter)")
        XCTAssertEqual(Set(try query(database, "SELECT host FROM results WHERE run_id = 1").map { $0[0] }), storedHosts,
                       "recovery keeps every stored result")
    }
}
