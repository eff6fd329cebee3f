import Foundation
import XCTest
import WSMan
import WinRMAuth
@testable import WinRMSim

/// WinRS behaviour over real sockets (Basic over plain http with AllowUnencrypted, to keep the tests fast).
final class WinRSBehaviourTests: XCTestCase {
    let user = SimulatorConfig.demoUser

    private func client(_ fleet: SimulatedFleet, host index: Int = 0, operationTimeout: Int = 20,
                        maxEnvelopeSize: Int = 153_600) throws -> WinRSTestClient {
        let host = fleet.hosts[index]
        let client = WinRSTestClient(connection: try RawHTTPConnection(host: host.address, port: host.port), https: false,
                                     operationTimeoutSeconds: operationTimeout, maxEnvelopeSize: maxEnvelopeSize)
        client.useBasic(user: user.user, password: user.password)
        return client
    }

    private func plainFleet(_ configure: (inout SimulatorConfig) -> Void = { _ in }) throws -> SimulatedFleet {
        try TestFleet.start {
            $0.auth = .basic
            $0.allowUnencrypted = true
            configure(&$0)
        }
    }

    func testUnknownShellIDGetsInvalidSelectorsFault() throws {
        let fleet = try plainFleet()
        defer { fleet.shutdown() }
        let client = try client(fleet)
        let bogus = "11111111-2222-3333-4444-555555555555"
        XCTAssertThrowsError(try client.startCommand(shellID: bogus, "hostname")) { error in
            let failure = error as? WinRSTestClient.Failure
            XCTAssertEqual(failure?.status, 500)
            XCTAssertEqual(failure?.fault?.code, 2150858843)
            XCTAssertEqual(failure?.fault?.subcode, "w:InvalidSelectors")
            XCTAssertEqual(failure?.fault?.soapCode, "s:Sender")
            XCTAssertEqual(failure?.fault?.faultDetail, "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors")
            XCTAssertEqual(failure?.fault?.machine, fleet.hosts[0].address)
        }
        XCTAssertEqual(fleet.counters.unknownShellFaults, 1)
    }

    func testUnknownCommandIDOnReceiveAndSignal() throws {
        let fleet = try plainFleet()
        defer { fleet.shutdown() }
        let client = try client(fleet)
        let shell = try client.createShell()
        XCTAssertThrowsError(try client.receiveAll(shellID: shell.shellID, commandID: "0BAD0BAD-0000-0000-0000-000000000000")) { error in
            XCTAssertEqual((error as? WinRSTestClient.Failure)?.fault?.code, 2150858843)
            XCTAssertTrue((error as? WinRSTestClient.Failure)?.fault?.message.contains("command identifier") ?? false)
        }
        // Windows acknowledges a Signal for an unknown CommandId (fixture winrs_bad_cmd_id).
        XCTAssertNoThrow(try client.signal(shellID: shell.shellID, commandID: "0BAD0BAD-0000-0000-0000-000000000000"))
    }

    func testReceiveLongPollTimesOutThenCompletes() throws {
        let fleet = try plainFleet()
        defer { fleet.shutdown() }
        let client = try client(fleet, operationTimeout: 1)
        let shell = try client.createShell()
        let commandID = try client.startCommand(shellID: shell.shellID, "sleep 2.5")
        let started = Date()
        let request = WinRS.receive(client.ctx, shellID: shell.shellID, commandID: commandID)
        XCTAssertThrowsError(try client.call(request)) { error in
            let fault = (error as? WinRSTestClient.Failure)?.fault
            XCTAssertEqual(fault?.code, 2150858793)
            XCTAssertEqual(fault?.subcode, "w:TimedOut")
            XCTAssertEqual(fault?.soapCode, "s:Receiver")
        }
        let firstFault = Date().timeIntervalSince(started)
        XCTAssertGreaterThanOrEqual(firstFault, 0.9)
        XCTAssertLessThan(firstFault, 1.8)
        let rest = try client.receiveAll(shellID: shell.shellID, commandID: commandID)
        XCTAssertEqual(rest.exitCode, 0)
        XCTAssertGreaterThanOrEqual(rest.timeouts, 1)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 2.4)
        XCTAssertLessThan(Date().timeIntervalSince(started), 4)
        XCTAssertGreaterThanOrEqual(fleet.counters.operationTimeoutFaults, 2)
    }

    func testOutputArrivesAsItIsWritten() throws {
        let fleet = try plainFleet()
        defer { fleet.shutdown() }
        let client = try client(fleet)
        let shell = try client.createShell()
        // The shape of fixture winrs_operation_timeout: output, a pause, more output.
        let commandID = try client.startCommand(shellID: shell.shellID, "powershell.exe",
                                                arguments: ["Write-Host hi; Start-Sleep 1; Write-Host hi again"])
        let request = WinRS.receive(client.ctx, shellID: shell.shellID, commandID: commandID)
        let first = try WinRSResponse.parseReceive(client.call(request), request: request)
        XCTAssertEqual(String(decoding: first.stdout, as: UTF8.self), "hi\n")
        XCTAssertEqual(first.state, .running)
        let rest = try client.receiveAll(shellID: shell.shellID, commandID: commandID)
        XCTAssertEqual(rest.stdoutText, "hi again\n")
        XCTAssertEqual(rest.exitCode, 0)
    }

    func testBigOutputCompletesAcrossSeveralReceives() throws {
        let fleet = try plainFleet()
        defer { fleet.shutdown() }
        let client = try client(fleet)
        let shell = try client.createShell()
        let result = try client.run(shellID: shell.shellID, "big 1000000")
        XCTAssertEqual(result.stdout.count, 1_000_000)
        XCTAssertEqual(result.stdout, CmdInterpreter.bigOutput(bytes: 1_000_000))
        XCTAssertGreaterThan(result.receives, 5, "153600-byte envelopes cannot carry 1 MB at once")
        XCTAssertEqual(result.exitCode, 0)
        XCTAssertTrue(result.stdout.starts(with: Data("00000001 ".utf8)))
    }

    func testPowerShellEncodedCommand() throws {
        let fleet = try plainFleet()
        defer { fleet.shutdown() }
        let client = try client(fleet)
        let shell = try client.createShell()
        let script = "$ProgressPreference = 'SilentlyContinue'\nWrite-Output \"on $env:COMPUTERNAME\"\nhostname\nexit 4"
        let encoded = Data(script.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }).base64EncodedString()
        let result = try client.run(shellID: shell.shellID, "powershell -NoProfile -NonInteractive -EncodedCommand \(encoded)")
        XCTAssertEqual(result.stdoutText, "on WIN0001\r\nWIN0001\r\n")
        XCTAssertEqual(result.exitCode, 4)
        XCTAssertEqual(result.stderr, Data())

        let failing = "Get-Nothing"
        let encodedFailing = Data(failing.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }).base64EncodedString()
        let error = try client.run(shellID: shell.shellID, "powershell.exe", arguments: ["-encodedcommand", encodedFailing])
        XCTAssertEqual(error.exitCode, 1)
        XCTAssertTrue(error.stderrText.hasPrefix("#< CLIXML\r\n<Objs Version=\"1.1.0.1\""))
        XCTAssertTrue(error.stderrText.contains("<S S=\"Error\">Get-Nothing : The term 'Get-Nothing' is not recognized"))
        XCTAssertTrue(error.stderrText.hasSuffix("</Objs>"))
    }

    func testPowerShellReadsItsScriptFromStdin() throws {
        let fleet = try plainFleet()
        defer { fleet.shutdown() }
        let client = try client(fleet)
        let shell = try client.createShell()
        let commandID = try client.startCommand(shellID: shell.shellID, "powershell.exe", arguments: ["-Command", "-"])
        // Fixture winrs_send: two Sends, the second with End="True".
        try client.send(shellID: shell.shellID, commandID: commandID, Data("Write-Host \"output 1\";".utf8), end: false)
        try client.send(shellID: shell.shellID, commandID: commandID, Data("Write-Host \"output 2\";".utf8), end: true)
        let result = try client.receiveAll(shellID: shell.shellID, commandID: commandID)
        XCTAssertEqual(result.stdoutText, "output 1\noutput 2\n")
        XCTAssertEqual(result.exitCode, 0)
    }

    func testReceiveWaitsForStdinThenAnswers() throws {
        let fleet = try plainFleet()
        defer { fleet.shutdown() }
        let receiving = try client(fleet, operationTimeout: 10)
        let shell = try receiving.createShell()
        let commandID = try receiving.startCommand(shellID: shell.shellID, "powershell", arguments: ["-"])
        // Receive long-polls on one connection while stdin arrives on another.
        let sender = try client(fleet)
        let done = expectation(description: "receive answered")
        final class Box: @unchecked Sendable { var text = "" }
        let output = Box()
        DispatchQueue.global().async {
            output.text = (try? receiving.receiveAll(shellID: shell.shellID, commandID: commandID).stdoutText) ?? "failed"
            done.fulfill()
        }
        Thread.sleep(forTimeInterval: 0.3)
        try sender.send(shellID: shell.shellID, commandID: commandID, Data("Write-Output late".utf8), end: true)
        wait(for: [done], timeout: 5)
        XCTAssertEqual(output.text, "late\r\n")
        XCTAssertEqual(fleet.counters.operationTimeoutFaults, 0)
    }

    func testShellEnvironmentAndChaining() throws {
        let fleet = try plainFleet()
        defer { fleet.shutdown() }
        let client = try client(fleet)
        let shell = try client.createShell(ShellOptions(environment: [(name: "STAGE", value: "blue")]))
        let result = try client.run(shellID: shell.shellID, "echo %STAGE% %COMPUTERNAME%& exit 7 && echo never")
        XCTAssertEqual(result.stdoutText, "blue WIN0001\r\n")
        XCTAssertEqual(result.exitCode, 7)
    }

    func testShellIdleTimeoutRemovesTheShell() throws {
        let fleet = try plainFleet { $0.shellIdleTimeoutSeconds = 0.5 }
        defer { fleet.shutdown() }
        let client = try client(fleet)
        let shell = try client.createShell()
        XCTAssertEqual(shell.idleTimeout, 0.5)
        Thread.sleep(forTimeInterval: 0.8)
        XCTAssertThrowsError(try client.startCommand(shellID: shell.shellID, "hostname")) { error in
            XCTAssertEqual((error as? WinRSTestClient.Failure)?.fault?.code, 2150858843)
        }
        XCTAssertEqual(fleet.counters.shellsExpired, 1)
    }

    func testRequestLargerThanMaxEnvelopeGets413() throws {
        let fleet = try plainFleet { $0.maxEnvelopeSize = 20_000 }
        defer { fleet.shutdown() }
        let client = try client(fleet)
        let shell = try client.createShell()
        let request = WinRS.command(client.ctx, shellID: shell.shellID, command: "echo " + String(repeating: "x", count: 30_000))
        let response = try client.exchange(request.body)
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(fleet.counters.oversizeRefusals, 1)
        XCTAssertEqual(fleet.counters.commandsStarted, 0)
    }

    func testLatencyIsAddedBeforeEveryResponse() throws {
        let fleet = try plainFleet { $0.latencyMilliseconds = 150; $0.hostCount = 2; $0.faults.slowHosts = ["WIN0002"]; $0.faults.slowMilliseconds = 300 }
        defer { fleet.shutdown() }
        let fast = try client(fleet)
        var started = Date()
        _ = try fast.createShell()
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.14)
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.4)
        let slow = try client(fleet, host: 1)
        started = Date()
        _ = try slow.createShell()
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.44)

        // A slow host's answer waiting does not hold back a fast host's answer written after it on the
        // same event loop. Connections are spread over the loops in turn, so one slow connection more
        // than there are loops shares the fast connection's loop.
        let slowClients = try (0...ProcessInfo.processInfo.activeProcessorCount).map { _ in try client(fleet, host: 1) }
        let slowAnswers = DispatchGroup()
        for slowClient in slowClients {
            slowAnswers.enter()
            Thread.detachNewThread {
                _ = try? slowClient.createShell()
                slowAnswers.leave()
            }
        }
        Thread.sleep(forTimeInterval: 0.05)
        started = Date()
        _ = try fast.createShell()
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.35, "the fast answer waited for a slow one")
        slowAnswers.wait()
    }

    // MARK: - Fault injection

    func testQuotaFaultEveryNthCommand() throws {
        let fleet = try plainFleet { $0.faults.quotaFaultEvery = 2 }
        defer { fleet.shutdown() }
        let client = try client(fleet)
        let shell = try client.createShell()
        XCTAssertNoThrow(try client.run(shellID: shell.shellID, "echo 1"))
        XCTAssertThrowsError(try client.startCommand(shellID: shell.shellID, "echo 2")) { error in
            let failure = error as? WinRSTestClient.Failure
            XCTAssertEqual(failure?.status, 500)
            XCTAssertEqual(failure?.fault?.code, 2150859174)
            XCTAssertEqual(failure?.fault?.messageID, "HRESULT 0x803381a6")
            XCTAssertTrue(failure?.text.contains("MSFT_WmiError") ?? false)
        }
        XCTAssertNoThrow(try client.run(shellID: shell.shellID, "echo 3"))
        XCTAssertEqual(fleet.counters.commandsStarted, 2, "the refused command never started")
        XCTAssertEqual(fleet.counters.quotaFaults, 1)
    }

    func testShellsExpireAfterNCommands() throws {
        let fleet = try plainFleet { $0.faults.expireShellsAfterCommands = 2 }
        defer { fleet.shutdown() }
        let client = try client(fleet)
        let shell = try client.createShell()
        XCTAssertNoThrow(try client.run(shellID: shell.shellID, "echo 1"))
        XCTAssertNoThrow(try client.run(shellID: shell.shellID, "echo 2"))
        XCTAssertThrowsError(try client.startCommand(shellID: shell.shellID, "echo 3")) { error in
            XCTAssertEqual((error as? WinRSTestClient.Failure)?.fault?.code, 2150858843)
        }
        let fresh = try client.createShell()
        XCTAssertEqual(try client.run(shellID: fresh.shellID, "echo 3").stdoutText, "3\r\n")
        XCTAssertEqual(fleet.counters.commandLog.map(\.commandLine), ["echo 1", "echo 2", "echo 3"])
    }

    func testDropConnectionEveryNthRequest() throws {
        let fleet = try plainFleet { $0.faults.dropConnectionEvery = 2 }
        defer { fleet.shutdown() }
        let client = try client(fleet)
        let shell = try client.createShell()                       // request 1
        let commandID = try client.startCommand(shellID: shell.shellID, "echo dropped")  // request 2: answered, then closed
        XCTAssertFalse(commandID.isEmpty)
        XCTAssertTrue(client.connection.waitUntilClosed())
        XCTAssertEqual(fleet.counters.connectionsDropped, 1)
    }

    func testDropBeforeResponseStillRunsTheCommandOnce() throws {
        let fleet = try plainFleet { $0.faults.dropConnectionEvery = 2; $0.faults.dropBeforeResponse = true }
        defer { fleet.shutdown() }
        let client = try client(fleet)
        let shell = try client.createShell()
        XCTAssertThrowsError(try client.startCommand(shellID: shell.shellID, "echo once-\(UUID().uuidString)")) { error in
            guard case RawHTTPConnection.ClientError.closedByPeer = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(fleet.counters.commandsStarted, 1)
        XCTAssertEqual(fleet.counters.commandsStartedPerHost["WIN0001"], 1)
    }

    func testUnreachableHostsDoNotListen() throws {
        let fleet = try plainFleet { $0.hostCount = 3; $0.faults.unreachableHosts = ["WIN0002"] }
        defer { fleet.shutdown() }
        XCTAssertEqual(fleet.hosts.map(\.listening), [true, false, true])
        XCTAssertThrowsError(try RawHTTPConnection(host: fleet.hosts[1].address, port: fleet.hosts[1].port))
        XCTAssertNoThrow(try RawHTTPConnection(host: fleet.hosts[2].address, port: fleet.hosts[2].port))
    }
}
