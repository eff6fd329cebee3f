import Foundation
import WinRMSim
import XCTest

/// The issues' "done when" checks through the built `winfleet` binary.
///
/// Address slices (one per test): 127.1.41.1-20 (sim subprocess, Basic/HTTPS), 127.1.42.1-50 (NTLM/HTTP),
/// 127.1.43.1-50 (NTLM/HTTPS), 127.1.41.101-105 and .111-115 (wrong password), 127.1.41.121-123
/// (--drop-after-auth), 127.1.41.141-142 and .151 (exit statuses).
final class CLIRunTests: XCTestCase {
    private var scratch: Scratch!
    private var environment: [String: String] = [:]
    private var simulators: [SimulatorProcess] = []
    private var fleets: [SimulatedFleet] = []

    override func setUpWithError() throws {
        scratch = try Scratch(name.filter { $0.isLetter || $0.isNumber })
        environment = childEnvironment(stateHome: scratch.path("state"))
    }

    override func tearDown() {
        for simulator in simulators { simulator.stop() }
        simulators = []
        for fleet in fleets { fleet.shutdown() }
        fleets = []
        scratch?.cleanUp()
    }

    private func startFleet(_ config: SimulatorConfig, inventory name: String = "inventory.json") throws -> (SimulatedFleet, String) {
        let fleet = SimulatedFleet(config: config)
        try fleet.start()
        fleets.append(fleet)
        let path = scratch.path(name)
        try fleet.writeInventory(to: path)
        return (fleet, path)
    }

    private func run(_ inventory: String, _ options: [String], _ command: [String], timeout: TimeInterval = 120,
                     environment extra: [String: String]? = nil) throws -> Finished {
        try winfleet(["run", "--inventory", inventory, "--format", "jsonl"] + options + ["--"] + command,
                     environment: extra ?? environment, timeout: timeout)
    }

    private func run(_ inventory: String, _ command: [String], timeout: TimeInterval = 120,
                     environment extra: [String: String]? = nil) throws -> Finished {
        try run(inventory, [], command, timeout: timeout, environment: extra)
    }

    /// A PowerShell script of more than 10,000 characters: too long for cmd.exe's 8191-character line
    /// once encoded, so it must travel over stdin.
    static func longScript() -> (script: String, expected: String) {
        var script = "$greeting = \"long script on $env:COMPUTERNAME\"\nWrite-Output $greeting\n"
        var expected = "long script on HOST\r\n"
        for index in 1...300 {
            script += "Write-Output \"line \(String(format: "%04d", index)) of the long script\"\n"
            expected += "line \(String(format: "%04d", index)) of the long script\r\n"
        }
        return (script, expected)
    }

    // MARK: Basic over HTTPS, simulator as a subprocess

    func testBasicOverHTTPSOnTwentyHostsThroughTheCLI() throws {
        let inventory = scratch.path("fleet.json")
        let simulator = try SimulatorProcess(hosts: 20, firstAddress: "127.1.41.1", arguments: ["--https", "--auth", "basic"],
                                             inventoryPath: inventory, environment: environment)
        simulators.append(simulator)
        let names = (1...20).map { String(format: "WIN%04d", $0) }

        // sleep 30 with OperationTimeout 5 s runs meanwhile: Receive times out on the host six times and is asked again.
        let slowInventory = scratch.path("fleet-optimeout5.json")
        try editInventory(inventory, to: slowInventory) { object in
            var defaults = object["defaults"] as! [String: Any]
            defaults["operation_timeout"] = 5
            object["defaults"] = defaults
        }
        let sleeper = try Child(try winfleetExecutable(),
                                ["run", "--inventory", slowInventory, "--target", "WIN0001", "--format", "jsonl", "--", "sleep", "30"],
                                environment: environment)

        let hostname = try run(inventory, ["hostname"])
        XCTAssertEqual(hostname.status, 0, hostname.summary)
        let lines = hostname.jsonLines()
        XCTAssertEqual(lines.count, 20, hostname.summary)
        XCTAssertEqual(Set(lines.compactMap { $0["host"] as? String }), Set(names))
        for line in lines {
            XCTAssertEqual(line["status"] as? String, "ok", "\(line)")
            XCTAssertEqual(line["stdout"] as? String, "\(line["host"] as! String)\r\n")
            XCTAssertEqual(line.exitCode, 0)
            XCTAssertTrue(line["error"] is NSNull, "\(line)")
        }

        let echo = try run(inventory, ["--target", "WIN000[1-3]"], ["echo", "hello", "fleet"])
        XCTAssertEqual(echo.status, 0, echo.summary)
        XCTAssertEqual(echo.jsonLines().map { $0["stdout"] as? String }, Array(repeating: "hello fleet\r\n", count: 3))

        let exit3 = try run(inventory, ["exit", "3"])
        XCTAssertEqual(exit3.status, 1, "a command exiting non-zero makes winfleet exit 1: \(exit3.summary)")
        XCTAssertEqual(exit3.jsonLines().count, 20)
        for line in exit3.jsonLines() {
            XCTAssertEqual(line["status"] as? String, "failed")
            XCTAssertEqual(line.exitCode, 3)
        }

        let powershell = try run(inventory, ["--powershell"], ["Write-Output \"ps on $env:COMPUTERNAME\""])
        XCTAssertEqual(powershell.status, 0, powershell.summary)
        for line in powershell.jsonLines() {
            XCTAssertEqual(line["stdout"] as? String, "ps on \(line["host"] as! String)\r\n", "\(line)")
        }

        let big = try run(inventory, ["big", "1000000"])
        XCTAssertEqual(big.status, 0, big.summary)
        let bigLines = big.jsonLines()
        XCTAssertEqual(bigLines.count, 20)
        for line in bigLines {
            let stdout = line["stdout"] as? String ?? ""
            XCTAssertEqual(stdout.utf8.count, 1_000_000, "\(line["host"] ?? "?")")
            XCTAssertTrue(stdout.hasPrefix("00000001 "), "first line intact")
            XCTAssertTrue(stdout.contains("00012500 "), "last full line present")
        }

        let (script, expected) = Self.longScript()
        XCTAssertGreaterThan(script.count, 10_000)
        let long = try run(inventory, ["--target", "WIN0002", "--powershell"], [script])
        let longLine = long.jsonLines().first ?? [:]
        XCTAssertEqual(long.status, 0, "long PowerShell script over stdin: \(long.summary)")
        XCTAssertEqual(longLine["stdout"] as? String, expected.replacingOccurrences(of: "HOST", with: "WIN0002"),
                       "stderr: \(longLine["stderr"] as? String ?? "")")

        let slow = sleeper.finish(timeout: 60)
        XCTAssertEqual(slow.status, 0, slow.summary)
        let slowLine = slow.jsonLines().first ?? [:]
        XCTAssertEqual(slowLine["status"] as? String, "ok", slow.summary)
        XCTAssertEqual(slowLine.exitCode, 0)
        XCTAssertGreaterThanOrEqual(slowLine["duration_ms"] as? Int ?? 0, 29_900, "it waited for the command's end")
    }

    // MARK: NTLM, sealed over HTTP and with channel binding over HTTPS

    private func ntlmChecks(_ fleet: SimulatedFleet, inventory: String, hosts: Int, sealed: Bool) throws {
        let hostname = try run(inventory, ["hostname"])
        XCTAssertEqual(hostname.status, 0, hostname.summary)
        let lines = hostname.jsonLines()
        XCTAssertEqual(lines.count, hosts)
        XCTAssertTrue(lines.allSatisfy { $0["status"] as? String == "ok" && $0["stdout"] as? String == "\($0["host"] as! String)\r\n" },
                      hostname.summary)

        let powershell = try run(inventory, ["--powershell"], ["Write-Output \"ps on $env:COMPUTERNAME\"; Write-Error \"oops\""])
        XCTAssertEqual(powershell.status, 1, "Write-Error makes powershell exit 1: \(powershell.summary)")
        for line in powershell.jsonLines() {
            XCTAssertEqual(line["stdout"] as? String, "ps on \(line["host"] as! String)\r\n")
            let stderr = line["stderr"] as? String ?? ""
            XCTAssertTrue(stderr.contains("oops"), stderr)
            XCTAssertFalse(stderr.contains("CLIXML"), "PowerShell's CLIXML stderr is made readable: \(stderr)")
        }

        let big = try run(inventory, ["big", "1000000"], timeout: 180)
        XCTAssertEqual(big.status, 0, big.summary)
        let bigLines = big.jsonLines()
        XCTAssertEqual(bigLines.count, hosts)
        XCTAssertTrue(bigLines.allSatisfy { ($0["stdout"] as? String)?.utf8.count == 1_000_000 })

        let counters = fleet.counters
        XCTAssertEqual(counters.authenticationFailures, 0)
        XCTAssertEqual(counters.integrityFailures, 0)
        XCTAssertEqual(counters.plainBodyRefusals, 0, sealed ? "every body went sealed" : "")
        // One authenticated connection per host per winfleet process.
        XCTAssertEqual(counters.authenticationsCompleted, 3 * hosts)
        XCTAssertEqual(counters.commandsStarted, 3 * hosts)
    }

    func testNTLMOverHTTPSealedOnFiftyHosts() throws {
        let (fleet, inventory) = try startFleet(SimulatorConfig(hostCount: 50, firstAddress: "127.1.42.1", https: false, auth: .ntlm))
        try ntlmChecks(fleet, inventory: inventory, hosts: 50, sealed: true)
    }

    func testNTLMOverHTTPSWithChannelBindingOnFiftyHosts() throws {
        let (fleet, inventory) = try startFleet(SimulatorConfig(hostCount: 50, firstAddress: "127.1.43.1", https: true, auth: .ntlm,
                                                                requireChannelBinding: true))
        try ntlmChecks(fleet, inventory: inventory, hosts: 50, sealed: false)
    }

    // MARK: failures the operator must be told about, without a retry storm

    func testWrongPasswordGivesOneAuthErrorPerHostAndOneAttempt() throws {
        for (first, https, auth) in [("127.1.41.101", false, SimAuth.ntlm), ("127.1.41.111", true, SimAuth.basic)] {
            let (fleet, inventory) = try startFleet(SimulatorConfig(hostCount: 5, firstAddress: first, https: https, auth: auth),
                                                    inventory: "\(auth)-inventory.json")
            let wrong = childEnvironment(stateHome: scratch.path("state"), password: "not-the-password")
            let finished = try run(inventory, ["hostname"], environment: wrong)
            XCTAssertEqual(finished.status, 2, "\(auth): \(finished.summary)")
            let lines = finished.jsonLines()
            XCTAssertEqual(lines.count, 5)
            for line in lines {
                XCTAssertEqual(line["status"] as? String, "error")
                XCTAssertEqual(line.errorKind, "auth", "\(auth): \(line)")
                XCTAssertFalse((line.errorMessage ?? "").contains("not-the-password"), "the password never appears in messages")
            }
            XCTAssertFalse(finished.stderr.contains("not-the-password"))
            let counters = fleet.counters
            XCTAssertEqual(counters.authenticationsCompleted, 0)
            for host in fleet.hosts {
                XCTAssertEqual(counters.authenticationFailuresPerHost[host.name], 1,
                               "\(auth): exactly one rejected AUTHENTICATE for \(host.name), no retry storm")
            }
            XCTAssertEqual(counters.requestsByAction.values.reduce(0, +), 0, "nothing ran")
        }
    }

    func testDropAfterAuthIsReportedAsAffinity() throws {
        let inventory = scratch.path("drop.json")
        let simulator = try SimulatorProcess(hosts: 3, firstAddress: "127.1.41.121", arguments: ["--auth", "ntlm", "--drop-after-auth"],
                                             inventoryPath: inventory, environment: environment)
        simulators.append(simulator)
        let finished = try run(inventory, ["hostname"], timeout: 60)
        XCTAssertEqual(finished.status, 2, finished.summary)
        let lines = finished.jsonLines()
        XCTAssertEqual(lines.count, 3)
        for line in lines {
            XCTAssertEqual(line["status"] as? String, "error")
            XCTAssertEqual(line.errorKind, "affinity", "\(line)")
            XCTAssertTrue((line.errorMessage ?? "").contains("affinity"), line.errorMessage ?? "")
        }
    }

    // MARK: exit statuses

    func testExitStatuses() throws {
        let (fleet, inventory) = try startFleet(SimulatorConfig(hostCount: 2, firstAddress: "127.1.41.141", auth: .ntlm))

        XCTAssertEqual(try run(inventory, ["hostname"]).status, 0)
        XCTAssertEqual(try run(inventory, ["exit", "3"]).status, 1)

        // --repeat: every iteration's result, tagged, over the same sessions (one authentication per host).
        let authenticationsBefore = fleet.counters.authenticationsCompleted
        let repeated = try run(inventory, ["--repeat", "3"], ["hostname"])
        XCTAssertEqual(repeated.status, 0, repeated.summary)
        let iterations = repeated.jsonLines().map { "\($0["host"] as? String ?? "?") \($0["iteration"] as? Int ?? 0)" }
        XCTAssertEqual(Set(iterations), Set(["WIN0001", "WIN0002"].flatMap { host in (1...3).map { "\(host) \($0)" } }))
        XCTAssertEqual(iterations.count, 6)
        XCTAssertEqual(fleet.counters.authenticationsCompleted - authenticationsBefore, 2)

        // A host that cannot be reached: exit 2, kind network.
        let unreachable = scratch.path("unreachable.json")
        try editInventory(inventory, to: unreachable) { object in
            var hosts = object["hosts"] as! [[String: Any]]
            hosts[1]["port"] = 1  // nothing listens on port 1
            object["hosts"] = hosts
        }
        let partly = try run(unreachable, ["hostname"], timeout: 60)
        XCTAssertEqual(partly.status, 2, partly.summary)
        let kinds = Dictionary(uniqueKeysWithValues: partly.jsonLines().map { ($0["host"] as! String, $0) })
        XCTAssertEqual(kinds["WIN0001"]?["status"] as? String, "ok")
        XCTAssertEqual(kinds["WIN0002"]?.errorKind, "network")

        // 64: nothing runs.
        let before = fleet.counters.connectionsAccepted
        let badJSON = scratch.path("bad.json")
        try Data("{\"hosts\": [".utf8).write(to: URL(fileURLWithPath: badJSON))
        let bad = try run(badJSON, ["hostname"])
        XCTAssertEqual(bad.status, 64, bad.summary)
        XCTAssertTrue(bad.stderr.contains("bad.json"), "the message names the file: \(bad.stderr)")

        let unknown = try run(inventory, ["--target", "NOSUCHHOST"], ["hostname"])
        XCTAssertEqual(unknown.status, 64, unknown.summary)
        XCTAssertTrue(unknown.stderr.contains("NOSUCHHOST"), unknown.stderr)

        let missingCommand = try winfleet(["run", "--inventory", inventory], environment: environment)
        XCTAssertEqual(missingCommand.status, 64, missingCommand.summary)
        XCTAssertEqual(fleet.counters.connectionsAccepted, before, "usage errors send nothing")

        let basicFleet = SimulatedFleet(config: SimulatorConfig(hostCount: 1, firstAddress: "127.1.41.151", https: false, auth: .basic))
        try basicFleet.start()
        fleets.append(basicFleet)
        let basicInventory = scratch.path("basic-http.json")
        try basicFleet.writeInventory(to: basicInventory)
        let refused = try run(basicInventory, ["hostname"])
        XCTAssertEqual(refused.status, 64, "basic over http without allow_unencrypted is refused: \(refused.summary)")
        XCTAssertTrue(refused.stderr.contains("rule 3"), refused.stderr)
        XCTAssertTrue(refused.stdoutText.isEmpty, "no result lines: \(refused.stdoutText)")
        XCTAssertEqual(basicFleet.counters.connectionsAccepted, 0, "refused before a single byte was sent")
    }
}
