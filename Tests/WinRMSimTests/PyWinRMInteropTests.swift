import Foundation
import XCTest
@testable import WinRMSim

/// The simulator against a foreign client: pywinrm (requests-ntlm / pyspnego) from PyPI, when installed.
/// Proves the NTLM handshake, MS-WSMV sealing and WinRS shapes are what a real client expects.
final class PyWinRMInteropTests: XCTestCase {
    private func python(_ script: String, environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        env["NO_PROXY"] = "*"
        env["no_proxy"] = "*"
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    private func requirePyWinRM() throws {
        guard (try? python("import winrm"))?.status == 0 else {
            throw MissingPeer(description: "pywinrm is not installed: pip install pywinrm (scripts/setup does)")
        }
    }

    func testPyWinRMOverNTLMWithMessageEncryption() throws {
        try requirePyWinRM()
        let fleet = try TestFleet.start { $0.auth = .ntlm }
        defer { fleet.shutdown() }
        let host = fleet.hosts[0]
        let script = """
            import os, winrm
            s = winrm.Session('http://\(host.address):\(host.port)/wsman', auth=(os.environ['U'], os.environ['P']),
                              transport='ntlm', message_encryption='always')
            r = s.run_cmd('hostname')
            print('CMD', r.status_code, repr(r.std_out), repr(r.std_err))
            r = s.run_cmd('cmd', ['/c', 'exit', '5'])
            print('EXIT', r.status_code)
            r = s.run_ps('Write-Output "ps $env:COMPUTERNAME"')
            print('PS', r.status_code, repr(r.std_out))
            r = s.run_ps('Get-Nothing')
            print('PSERR', r.status_code, 'not recognized' in r.std_err.decode())
            """
        let (status, output) = try python(script, environment: ["U": "WINFLEET\\operator", "P": "winfleet-demo"])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("CMD 0 b'WIN0001\\r\\n' b''"), output)
        XCTAssertTrue(output.contains("EXIT 5"), output)
        XCTAssertTrue(output.contains("PS 0 b'ps WIN0001\\r\\n'"), output)
        XCTAssertTrue(output.contains("PSERR 1 True"), output)
        XCTAssertEqual(fleet.counters.plainBodyRefusals, 0)
        XCTAssertGreaterThanOrEqual(fleet.counters.authenticationsCompleted, 1)
    }

    func testPyWinRMBasicOverHTTPS() throws {
        try requirePyWinRM()
        let fleet = try TestFleet.start { $0.auth = .basic; $0.https = true }
        defer { fleet.shutdown() }
        let host = fleet.hosts[0]
        let script = """
            import os, winrm
            s = winrm.Session('https://\(host.address):\(host.port)/wsman', auth=(os.environ['U'], os.environ['P']),
                              transport='basic', server_cert_validation='ignore')
            r = s.run_cmd('whoami')
            print('CMD', r.status_code, repr(r.std_out))
            """
        let (status, output) = try python(script, environment: ["U": "WINFLEET\\operator", "P": "winfleet-demo"])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("CMD 0 b'winfleet\\\\operator\\r\\n'"), output)
    }

    func testPyWinRMWithoutEncryptionIsRefusedOnHTTP() throws {
        try requirePyWinRM()
        let fleet = try TestFleet.start { $0.auth = .ntlm }
        defer { fleet.shutdown() }
        let host = fleet.hosts[0]
        let script = """
            import os, winrm
            s = winrm.Session('http://\(host.address):\(host.port)/wsman', auth=(os.environ['U'], os.environ['P']),
                              transport='ntlm', message_encryption='never')
            try:
                s.run_cmd('hostname')
                print('UNEXPECTED SUCCESS')
            except Exception as e:
                print('REFUSED', type(e).__name__)
            """
        let (status, output) = try python(script, environment: ["U": "WINFLEET\\operator", "P": "winfleet-demo"])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("REFUSED"), output)
        XCTAssertGreaterThanOrEqual(fleet.counters.plainBodyRefusals, 1)
    }
}

/// pypsrp with `auth="negotiate"`: pyspnego wraps NTLM in SPNEGO (NegTokenInit / NegTokenResp with a
/// mechListMIC in both directions) and binds the TLS channel (CBT).
/// Sealed NTLM-in-SPNEGO over http is a known gap (see `SimConnectionAuth.SPNEGOHandshake`).
final class PyPSRPInteropTests: XCTestCase {
    func testPyPSRPNegotiateOverHTTPS() throws {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import pypsrp.client"]
        try check.run()
        check.waitUntilExit()
        guard check.terminationStatus == 0 else {
            throw MissingPeer(description: "pypsrp is not installed: pip install pypsrp (scripts/setup does)")
        }

        let fleet = try TestFleet.start { $0.auth = .negotiate; $0.https = true }
        defer { fleet.shutdown() }
        let host = fleet.hosts[0]
        let script = """
            import os
            from pypsrp.client import Client
            c = Client('\(host.address)', port=\(host.port), ssl=True, cert_validation=False,
                       username=os.environ['U'], password=os.environ['P'], auth='negotiate')
            out, err, rc = c.execute_cmd('hostname')
            print('CMD', rc, repr(out))
            out, err, rc = c.execute_cmd('echo %USERNAME% & exit 6')
            print('EXIT', rc, repr(out))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        var env = ProcessInfo.processInfo.environment
        env["U"] = "WINFLEET\\operator"
        env["P"] = "winfleet-demo"
        env["NO_PROXY"] = "*"
        env["KRB5_CONFIG"] = "/dev/null"
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, output)
        XCTAssertTrue(output.contains("CMD 0 'WIN0001\\r\\n'"), output)
        XCTAssertTrue(output.contains("EXIT 6 'operator \\r\\n'"), output)
        XCTAssertEqual(fleet.counters.authenticationFailures, 0)
        XCTAssertGreaterThanOrEqual(fleet.counters.authenticationsCompleted, 1)
    }
}

/// An independent peer the interop tests run against is missing: the test fails, it does not skip.
struct MissingPeer: Error, CustomStringConvertible {
    let description: String
}
