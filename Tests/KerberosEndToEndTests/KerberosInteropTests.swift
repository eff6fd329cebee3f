import FleetTestSupport
import Foundation
import Inventory
import WinRMSim
import TestSupport
import XCTest
@testable import Fleet

/// Independent clients against the Kerberos simulator: pypsrp (pyspnego + python-gssapi) over the
/// wire, and the `winfleet` executable (`winfleet sim --auth kerberos --keytab`, then `winfleet run`).
/// Addresses: 127.1.122.1-2, 127.1.123.1-3.
final class KerberosInteropTests: KDCTestCase {
    private var scratch: URL!

    override class func startRealm() throws -> TestKDC {
        try TestKDC.start(realm: "INTEROP.WINFLEET.TEST", hosts: simHostNames(3))
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("krb-interop-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }


    // MARK: pypsrp

    /// pypsrp with auth="kerberos" sends a raw Kerberos AP-REQ under `Negotiate` (the scheme the host
    /// names first) and seals with the SPNEGO protocol name; the host's SPN comes from
    /// negotiate_hostname_override while the TCP connection goes to 127.1.122.x.
    func testPypsrpKerberosRunsCommandsAgainstTheSimulator() throws {
        let python = try pythonWithPypsrp()
        for (first, auth) in [("127.1.122.1", SimAuth.kerberos), ("127.1.122.11", SimAuth.negotiate)] {
            let sim = try SimulatedFleetFixture.kerberos(realm: realm, first: first, hosts: 1, auth: auth)
            defer { sim.shutdown() }
            let host = try XCTUnwrap(sim.fleet.hosts.first)
            let script = scratch.appendingPathComponent("pypsrp_kerberos.py")
            try Self.pypsrpScript.write(to: script, atomically: true, encoding: .utf8)
            let output = try TestKDC.run(python, [script.path, host.address, "win0001.interop.winfleet.test"],
                                           environment: ["KRB5_CONFIG": realm.krb5Config,
                                                         "KRB5CCNAME": "FILE:" + scratch.appendingPathComponent("py-ccache").path,
                                                         "PEER_USER": realm.user, "PEER_PASSWORD": realm.password])
            XCTAssertEqual(output.status, 0, "\(auth): pypsrp failed: \(output.stderr.suffix(3000))")
            XCTAssertEqual(output.stdout.split(separator: "\n").map(String.init),
                           ["hostname WIN0001 rc 0", "echo kerberos via pypsrp rc 0", "exit rc 7"], "\(auth): \(output.stderr.suffix(2000))")
            let counters = sim.counters
            XCTAssertEqual(counters.authenticationsByMechanism["kerberos"], counters.authenticationsCompleted, "\(auth)")
            XCTAssertGreaterThanOrEqual(counters.authenticationsCompleted, 1)
            XCTAssertEqual(counters.plainBodyRefusals, 0, "pypsrp sealed every body")
            XCTAssertEqual(counters.integrityFailures, 0)
            XCTAssertEqual(counters.commandsStarted, 3)
        }
    }

    private static let pypsrpScript = """
    import os, sys
    from pypsrp.client import Client
    address, spn_host = sys.argv[1], sys.argv[2]
    client = Client(address, port=5985, ssl=False, auth="kerberos", encryption="always",
                    username=os.environ["PEER_USER"], password=os.environ["PEER_PASSWORD"],
                    negotiate_service="HTTP", negotiate_hostname_override=spn_host)
    for label, command, args in [("hostname", "hostname", None), ("echo", "echo", ["kerberos", "via", "pypsrp"]),
                                 ("exit", "exit", ["7"])]:
        out, err, rc = client.execute_cmd(command + ("" if args is None else " " + " ".join(args)))
        text = out.strip() if label != "exit" else ""
        print(("%s %s rc %d" % (label, text, rc)).replace("  ", " "), flush=True)
    """

    private func pythonWithPypsrp() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = path.split(separator: ":").map { "\($0)/python3" } + ["/usr/local/bin/python3", "/usr/bin/python3"]
        guard let python = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestKDC.Failure(description: "python3 not found")
        }
        let check = try TestKDC.run(python, ["-c", "import pypsrp, spnego, gssapi, krb5"], environment: [:])
        guard check.status == 0 else {
            throw TestKDC.Failure(description: "pypsrp with Kerberos support is missing: pip install pypsrp \"pyspnego[kerberos]\" (scripts/setup) — \(check.stderr)")
        }
        return python
    }

    // MARK: the winfleet executable

    func testWinfleetSimAndRunWithKerberos() throws {
        let executable = TestKDC.repositoryRoot.appendingPathComponent(".build/debug/winfleet").path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw TestKDC.Failure(description: "\(executable) is missing: run swift build first")
        }
        let inventory = scratch.appendingPathComponent("fleet.json").path
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys where key.lowercased().hasSuffix("_proxy") { environment[key] = nil }
        environment["NO_PROXY"] = "*"
        environment["KRB5_CONFIG"] = realm.krb5Config
        environment["KRB5CCNAME"] = "FILE:" + scratch.appendingPathComponent("cli-ccache").path
        environment["XDG_STATE_HOME"] = scratch.appendingPathComponent("state").path
        environment["WINFLEET_DEMO_PASSWORD"] = realm.password
        environment["WINFLEET_SIM_PASSWORD"] = realm.password

        let sim = Process()
        sim.executableURL = URL(fileURLWithPath: executable)
        sim.arguments = ["sim", "--hosts", "3", "--first-address", "127.1.123.1", "--auth", "kerberos",
                         "--keytab", realm.keytab, "--realm", realm.realm, "--user", "INTEROP\\operator",
                         "--inventory-out", inventory]
        sim.environment = environment
        let simOut = Pipe(), simErr = Pipe()
        sim.standardOutput = simOut
        sim.standardError = simErr
        try sim.run()
        defer {
            if sim.isRunning { sim.terminate() }
            sim.waitUntilExit()
        }
        let ready = String(decoding: simOut.fileHandleForReading.availableData, as: UTF8.self)
        XCTAssertEqual(ready.trimmingCharacters(in: .whitespacesAndNewlines), "ready 3 hosts",
                       String(decoding: sim.isRunning ? Data() : simErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))

        let written = try String(contentsOfFile: inventory, encoding: .utf8)
        XCTAssertTrue(written.contains("\"auth\": \"kerberos\""), written)
        XCTAssertTrue(written.contains("\"spn\": \"HTTP/win0001.interop.winfleet.test\""), written)

        let run = try TestKDC.run(executable, ["run", "--inventory", inventory, "--format", "jsonl", "--", "hostname"],
                                    environment: environment)
        XCTAssertEqual(run.status, 0, "winfleet run: \(run.stderr) \(run.stdout)")
        let lines = run.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        XCTAssertEqual(lines.count, 3, run.stdout)
        for line in lines {
            XCTAssertEqual(line["status"] as? String, "ok", "\(line)")
            XCTAssertEqual(line["stdout"] as? String, "\(line["host"] as? String ?? "?")\r\n", "\(line)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("cli-ccache").path),
                       "the CLI's password tickets stayed in memory")

        let wrong = try TestKDC.run(executable, ["run", "--inventory", inventory, "--format", "jsonl", "--target", "WIN0001",
                                                   "--", "hostname"],
                                      environment: environment.merging(["WINFLEET_DEMO_PASSWORD": "Wrong-Pass-1"]) { $1 })
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.stdout.contains("kerberos:preauth_failed"), wrong.stdout)
        XCTAssertFalse(wrong.stdout.contains("Wrong-Pass-1") || wrong.stderr.contains("Wrong-Pass-1"), "password leaked")

        sim.terminate()
        sim.waitUntilExit()
        XCTAssertEqual(sim.terminationStatus, 0, String(decoding: simErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }
}
