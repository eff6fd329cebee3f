import Foundation
import WinRMSim
import XCTest

/// pywinrm from PyPI (installed by scripts/setup) as an independent client of the simulator.
/// A missing module is a failure: the interop proof must not silently disappear.
///
/// Address slices: 127.1.45.1 (Basic/HTTPS), 127.1.45.11 (NTLM/HTTP sealed).
final class PyWinRMClientTests: XCTestCase {
    private func python(_ script: String) throws -> Finished {
        let environment = childEnvironment(stateHome: FileManager.default.temporaryDirectory.path,
                                           extra: ["WF_USER": SimulatorConfig.demoUser.user,
                                                   "WF_PASSWORD": SimulatorConfig.demoUser.password])
        return try Child(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script], environment: environment)
            .finish(timeout: 120)
    }

    /// Prints one `NAME status_code repr(std_out) repr(std_err)` line per call.
    private static let prelude = """
        import os, sys
        try:
            import winrm
        except ImportError as error:
            print('MISSING', error)
            sys.exit(3)
        def show(name, r):
            print(name, r.status_code, repr(r.std_out), repr(r.std_err[:300]))
        """

    private func assertPyWinRMWorks(_ finished: Finished, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(finished.stdoutText.contains("MISSING"), "pywinrm is not installed (scripts/setup installs it): \(finished.summary)",
                       file: file, line: line)
        XCTAssertEqual(finished.status, 0, finished.summary, file: file, line: line)
    }

    func testPyWinRMBasicOverHTTPS() throws {
        let fleet = SimulatedFleet(config: SimulatorConfig(hostCount: 1, firstAddress: "127.1.45.1", https: true, auth: .basic))
        try fleet.start()
        defer { fleet.shutdown() }
        let host = fleet.hosts[0]
        let finished = try python(Self.prelude + """

            s = winrm.Session('https://\(host.address):\(host.port)/wsman', auth=(os.environ['WF_USER'], os.environ['WF_PASSWORD']),
                              transport='ssl', server_cert_validation='ignore')
            show('HOSTNAME', s.run_cmd('hostname'))
            show('EXIT', s.run_cmd('exit 3'))
            show('ARGS', s.run_cmd('echo', ['one', 'two']))
            show('PS', s.run_ps('$name = $env:COMPUTERNAME\\nWrite-Output "ps on $name"\\nWrite-Host "host line"'))
            show('PSERR', s.run_ps('Write-Error "it broke"'))
            """)
        assertPyWinRMWorks(finished)
        let output = finished.stdoutText
        XCTAssertTrue(output.contains("HOSTNAME 0 b'WIN0001\\r\\n' b''"), output)
        XCTAssertTrue(output.contains("EXIT 3 b'' b''"), output)
        XCTAssertTrue(output.contains("ARGS 0 b'one two\\r\\n'"), output)
        XCTAssertTrue(output.contains("PS 0 b'ps on WIN0001\\r\\nhost line\\n'"), output)
        // pywinrm turns CLIXML stderr into text.
        XCTAssertTrue(output.contains("PSERR 1 b''"), output)
        XCTAssertTrue(output.contains("it broke"), output)
        XCTAssertEqual(fleet.counters.authenticationFailures, 0)
        XCTAssertEqual(fleet.counters.commandsStarted, 5)
    }

    func testPyWinRMNTLMOverHTTPWithMessageEncryption() throws {
        let fleet = SimulatedFleet(config: SimulatorConfig(hostCount: 1, firstAddress: "127.1.45.11", https: false, auth: .ntlm))
        try fleet.start()
        defer { fleet.shutdown() }
        let host = fleet.hosts[0]
        let finished = try python(Self.prelude + """

            s = winrm.Session('http://\(host.address):\(host.port)/wsman', auth=(os.environ['WF_USER'], os.environ['WF_PASSWORD']),
                              transport='ntlm', message_encryption='always')
            show('HOSTNAME', s.run_cmd('hostname'))
            show('WHOAMI', s.run_cmd('whoami'))
            show('EXIT', s.run_cmd('exit 3'))
            show('BIG', type('R', (), {'status_code': 0, 'std_out': str(len(s.run_cmd('big 300000').std_out)).encode(), 'std_err': b''}))
            show('PS', s.run_ps('Write-Output "ps on $env:COMPUTERNAME"'))
            """)
        assertPyWinRMWorks(finished)
        let output = finished.stdoutText
        XCTAssertTrue(output.contains("HOSTNAME 0 b'WIN0001\\r\\n' b''"), output)
        XCTAssertTrue(output.contains("WHOAMI 0 b'winfleet\\\\operator\\r\\n'"), output)
        XCTAssertTrue(output.contains("EXIT 3 b'' b''"), output)
        XCTAssertTrue(output.contains("BIG 0 b'300000'"), output)
        XCTAssertTrue(output.contains("PS 0 b'ps on WIN0001\\r\\n'"), output)
        let counters = fleet.counters
        XCTAssertEqual(counters.plainBodyRefusals, 0, "pywinrm sealed every body")
        XCTAssertEqual(counters.integrityFailures, 0)
        XCTAssertGreaterThanOrEqual(counters.authenticationsCompleted, 1)
        XCTAssertEqual(counters.commandsStarted, 5)
    }
}
