import Foundation
import XCTest
@testable import WSMan

/// Client-side parsing of every recorded Windows response.
final class ResponseParserTests: XCTestCase {
    /// The request as our client would hold it: MessageID, action and ids of the recorded request.
    private func clientRequest(_ exchange: Fixtures.Exchange) throws -> WSManRequest {
        let incoming = try WinRSServer.parseRequest(exchange.request)
        var commandID: String?
        switch incoming.action {
        case .send(let id, _, _, _), .receive(let id), .signal(let id, _):
            commandID = id.isEmpty ? nil : id
        default:
            break
        }
        return WSManRequest(messageID: incoming.messageID, xml: text(exchange.request), action: incoming.actionURI,
                            shellID: incoming.shellID, commandID: commandID)
    }

    private enum Parsed {
        case created(ShellCreated)
        case command(String)
        case output(ReceiveOutput)
        case acknowledged
        case config(WSManServiceConfig)
        case fault(WSManFault)
    }

    private func parse(_ exchange: Fixtures.Exchange) throws -> Parsed {
        let request = try clientRequest(exchange)
        do {
            switch request.action {
            case WSManAction.create:
                return .created(try WinRSResponse.parseCreate(exchange.response, request: request))
            case WSManAction.command:
                return .command(try WinRSResponse.parseCommand(exchange.response, request: request))
            case WSManAction.receive:
                return .output(try WinRSResponse.parseReceive(exchange.response, request: request))
            case WSManAction.get where request.xml.contains(WSManURI.config):
                return .config(try WSManConfig.parse(exchange.response, request: request))
            default:
                try WinRSResponse.parseAcknowledgement(exchange.response, request: request)
                return .acknowledged
            }
        } catch WSManError.fault(let fault) {
            return .fault(fault)
        }
    }

    /// Every recorded response parses without error; the faults are exactly the recorded ones.
    func testEveryRecordedResponseParses() throws {
        var faults: [String: UInt32] = [:]
        var count = 0
        for folder in Fixtures.allFolders {
            for exchange in try Fixtures.exchanges(folder) {
                count += 1
                if case .fault(let fault) = try parse(exchange) {
                    faults[exchange.name] = fault.code
                    XCTAssertEqual(fault.relatesTo, try clientRequest(exchange).messageID, exchange.name)
                }
            }
        }
        XCTAssertEqual(count, 71)
        XCTAssertEqual(faults, [
            "winrs_operation_timeout/04": 2150858793, "winrs_operation_timeout/05": 2150858793,
            "winrs_bad_cmd_id/03": 2150858843, "psrp_is_alive_invalid_selectors/05": 2150858843,
            "winrs_no_cmd_shell/02": 2147942402,
        ])
    }

    func testCreate() throws {
        guard case .created(let created) = try parse(Fixtures.exchange("winrs_standard", 1)) else {
            return XCTFail("not a create")
        }
        XCTAssertEqual(created, ShellCreated(shellID: "4283CBDC-3706-415B-88BD-B385F3E51A53", idleTimeout: 7200,
                                             address: "http://192.168.56.11:5985/wsman", owner: "vagrant",
                                             clientIP: "192.168.56.1", resourceURI: WSManURI.cmdShell))
        guard case .created(let extra) = try parse(Fixtures.exchange("winrs_extra_opts", 1)) else {
            return XCTFail("not a create")
        }
        XCTAssertEqual(extra.idleTimeout, 60)
        guard case .created(let ipv6) = try parse(Fixtures.exchange("client_execute_cmd_environment", 1)) else {
            return XCTFail("not a create")
        }
        XCTAssertEqual(ipv6.owner, "SERVER2016\\vagrant")
        XCTAssertEqual(ipv6.clientIP, "2001:db8::1")
    }

    func testCommand() throws {
        guard case .command(let id) = try parse(Fixtures.exchange("winrs_standard", 2)) else {
            return XCTFail("not a command")
        }
        XCTAssertEqual(id, "CF84C20A-0A35-43FA-AF78-0B4711DA5F30")
    }

    func testReceiveDone() throws {
        guard case .output(let output) = try parse(Fixtures.exchange("winrs_standard", 3)) else {
            return XCTFail("not output")
        }
        XCTAssertEqual(output, ReceiveOutput(stdout: Data("hi\r\n".utf8), stderr: Data(), state: .done(exitCode: 0),
                                             stdoutEnded: true, stderrEnded: true))
    }

    func testReceiveMultiChunkStdout() throws {
        guard case .output(let output) = try parse(Fixtures.exchange("client_execute_cmd", 3)) else {
            return XCTFail("not output")
        }
        // 3 base64 chunks, 882 bytes in all (counted independently with python3 at test-writing time).
        XCTAssertEqual(output.stdout.count, 882)
        XCTAssertTrue(text(output.stdout).hasPrefix(" Volume in drive C is Windows 2016\r\n Volume Serial Number"))
        XCTAssertTrue(text(output.stdout).hasSuffix("  13 Dir(s)  28,319,084,544 bytes free\r\n"))
        XCTAssertEqual(output.state, .done(exitCode: 0))

        guard case .output(let environment) = try parse(Fixtures.exchange("winrs_environment", 3)) else {
            return XCTFail("not output")
        }
        XCTAssertEqual(environment.stdout.count, 1534)
        XCTAssertTrue(text(environment.stdout).contains("env1=var1\r\n"))
        XCTAssertTrue(text(environment.stdout).contains("_-(){}[]<>*+-/\\?\"!@#$^&|;:i,.`~0=_-(){}[]<>*+-/\\?\"!@#$^&|;:i,.`~0"))
    }

    func testReceiveRunningThenDone() throws {
        guard case .output(let first) = try parse(Fixtures.exchange("winrs_operation_timeout", 3)),
              case .output(let last) = try parse(Fixtures.exchange("winrs_operation_timeout", 6)) else {
            return XCTFail("not output")
        }
        XCTAssertEqual(first, ReceiveOutput(stdout: Data("hi\n".utf8), state: .running))
        XCTAssertFalse(first.state.isDone)
        XCTAssertEqual(text(last.stdout), "hi again\n")
        XCTAssertEqual(last.state, .done(exitCode: 0))
        XCTAssertTrue(last.state.isDone)
    }

    func testPSRPReceiveWithoutCommandID() throws {
        guard case .output(let output) = try parse(Fixtures.exchange("psrp_is_alive_invalid_selectors", 2)) else {
            return XCTFail("not output")
        }
        XCTAssertEqual(output.stdout.count, 1441)
        XCTAssertEqual(output.state, .running, "no CommandState: still running")
    }

    func testAcknowledgementsAndConfig() throws {
        for (folder, number) in [("winrs_standard", 4), ("winrs_standard", 5), ("winrs_send", 3), ("winrs_send", 4),
                                 ("psrp_is_alive_invalid_selectors", 4)] {
            guard case .acknowledged = try parse(Fixtures.exchange(folder, number)) else {
                return XCTFail("\(folder)/\(number) not acknowledged")
            }
        }
        for size in [150, 500, 4096] {
            guard case .config(let config) = try parse(Fixtures.exchange("wsman_update_envelope_size_\(size)", 1)) else {
                return XCTFail("not config")
            }
            XCTAssertEqual(config.maxEnvelopeSizeKB, size)
            XCTAssertEqual(config.maxTimeoutMs, 60000)
            XCTAssertEqual(config.maxConcurrentOperationsPerUser, 1500)
        }
    }

    // MARK: - Faults in the recordings

    func testOperationTimeoutFault() throws {
        guard case .fault(let fault) = try parse(Fixtures.exchange("winrs_operation_timeout", 4)) else {
            return XCTFail("not a fault")
        }
        XCTAssertTrue(fault.isOperationTimeout)
        XCTAssertFalse(fault.isShellGone)
        XCTAssertFalse(fault.isQuota)
        XCTAssertEqual(fault.code, 2150858793)
        XCTAssertEqual(fault.hexCode, "0x80338029")
        XCTAssertEqual(fault.machine, "192.168.56.11")
        XCTAssertEqual(fault.soapCode, "s:Receiver")
        XCTAssertEqual(fault.subcode, "w:TimedOut")
        XCTAssertEqual(fault.message,
                       "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.")
        XCTAssertEqual(fault.reason, fault.message)
        XCTAssertEqual(fault.description,
                       "WS-Management fault 2150858793 (0x80338029, w:TimedOut) from 192.168.56.11: The WS-Management "
                       + "service cannot complete the operation within the time specified in OperationTimeout.")
    }

    func testUnknownCommandAndShellFaults() throws {
        guard case .fault(let command) = try parse(Fixtures.exchange("winrs_bad_cmd_id", 3)),
              case .fault(let shell) = try parse(Fixtures.exchange("psrp_is_alive_invalid_selectors", 5)) else {
            return XCTFail("not faults")
        }
        for fault in [command, shell] {
            XCTAssertTrue(fault.isShellGone)
            XCTAssertEqual(fault.subcode, "w:InvalidSelectors")
            XCTAssertEqual(fault.soapCode, "s:Sender")
            XCTAssertEqual(fault.faultDetail, WSManURI.faultDetailUnexpectedSelectors)
        }
        XCTAssertTrue(command.message.hasPrefix("The Windows Remote Shell received a request to perform an operation on a command identifier"))
        XCTAssertEqual(shell.message,
                       "The WS-Management service cannot process the request because the request contained invalid selectors for the resource.",
                       "text of the nested f:ProviderFault/f:WSManFault/f:Message")
        XCTAssertEqual(shell.providerFault, "Shell provider (%systemroot%\\system32\\WsmSvc.dll)")
        XCTAssertEqual(shell.machine, "127.0.0.1")
    }

    func testProviderFault() throws {
        guard case .fault(let fault) = try parse(Fixtures.exchange("winrs_no_cmd_shell", 2)) else {
            return XCTFail("not a fault")
        }
        XCTAssertEqual(fault.code, 2147942402)
        XCTAssertEqual(fault.subcode, "w:InternalError")
        XCTAssertEqual(fault.message, "The system cannot find the file specified.")
        XCTAssertEqual(fault.providerFault, "Shell cmd plugin (%systemroot%\\system32\\winrscmd.dll)")
        XCTAssertEqual(fault.machine, "server2008r2.domain.local")
    }

    // MARK: - RelatesTo and Action checks

    func testRelatesToMismatch() throws {
        let exchange = try Fixtures.exchange("winrs_standard", 2)
        let other = WSManRequest(messageID: "uuid:00000000-0000-0000-0000-000000000001", xml: "", action: WSManAction.command)
        XCTAssertThrowsError(try WinRSResponse.parseCommand(exchange.response, request: other)) { error in
            XCTAssertEqual(error as? WSManError,
                           .relatesToMismatch(expected: other.messageID, got: "uuid:109656EA-8D8A-46E9-BE22-5AA2199C7A7A"))
            XCTAssertTrue("\(error)".contains("different request"))
        }
        // A fault for another request is a mismatch too, not that request's fault.
        let timeout = try Fixtures.exchange("winrs_operation_timeout", 4)
        XCTAssertThrowsError(try WinRSResponse.parseReceive(timeout.response, request: other)) { error in
            guard case .relatesToMismatch = error as? WSManError else { return XCTFail("\(error)") }
        }
        // Missing RelatesTo on a success response is a mismatch.
        let stripped = text(exchange.response).replacingOccurrences(
            of: "<a:RelatesTo>uuid:109656EA-8D8A-46E9-BE22-5AA2199C7A7A</a:RelatesTo>", with: "")
        let request = try clientRequest(exchange)
        XCTAssertThrowsError(try WinRSResponse.parseCommand(Data(stripped.utf8), request: request)) { error in
            XCTAssertEqual(error as? WSManError, .relatesToMismatch(expected: request.messageID, got: nil))
        }
        // Message ids compare case-insensitively (GUID text).
        let lower = WSManRequest(messageID: request.messageID.lowercased(), xml: "", action: WSManAction.command)
        XCTAssertEqual(try WinRSResponse.parseCommand(exchange.response, request: lower), "CF84C20A-0A35-43FA-AF78-0B4711DA5F30")
    }

    func testWrongActionIsUnexpected() throws {
        let exchange = try Fixtures.exchange("winrs_standard", 4) // SignalResponse
        let incoming = try WinRSServer.parseRequest(exchange.request)
        let asDelete = WSManRequest(messageID: incoming.messageID, xml: "", action: WSManAction.delete)
        XCTAssertThrowsError(try WinRSResponse.parseAcknowledgement(exchange.response, request: asDelete)) { error in
            guard case .unexpectedResponse(let detail) = error as? WSManError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("DeleteResponse"), detail)
        }
    }

    // MARK: - Receive details

    func testUTF8SplitAcrossChunksDecodesAfterJoining() throws {
        let message = "héllo wörld € 😀 ok"
        let bytes = Data(message.utf8)
        let euro = try XCTUnwrap(bytes.firstIndex(of: 0xE2)) // first byte of "€" (E2 82 AC)
        let chunks = [bytes[..<(euro + 1)], bytes[(euro + 1)...]].map { Data($0) }
        XCTAssertNil(String(data: chunks[0], encoding: .utf8), "chunk 1 ends inside a sequence")
        XCTAssertNil(String(data: chunks[1], encoding: .utf8), "chunk 2 starts inside a sequence")
        let request = WinRS.receive(WSManEndpointContext(to: "http://h:5985/wsman"), shellID: "S", commandID: "C")
        let response = WinRSServer.receiveResponse(relatesTo: request.messageID, commandID: "C", stdout: chunks, done: false)
        let output = try WinRSResponse.parseReceive(Data(response.utf8), request: request)
        XCTAssertEqual(String(data: output.stdout, encoding: .utf8), message)
    }

    func testReceiveKeepsOnlyTheCommandsStreamsAndSkipsEmptyOnes() throws {
        let request = WinRS.receive(WSManEndpointContext(to: "http://h:5985/wsman"), shellID: "S", commandID: "AAA")
        let xml = """
        <s:Envelope xmlns:s="\(WSManNamespace.soap)" xmlns:a="\(WSManNamespace.addressing)" xmlns:rsp="\(WSManNamespace.shell)">\
        <s:Header><a:Action>\(WSManAction.receiveResponse)</a:Action><a:RelatesTo>\(request.messageID)</a:RelatesTo></s:Header>\
        <s:Body><rsp:ReceiveResponse>\
        <rsp:Stream Name="stdout" CommandId="AAA">b25l</rsp:Stream>\
        <rsp:Stream Name="stdout" CommandId="BBB">b3RoZXI=</rsp:Stream>\
        <rsp:Stream Name="stderr" CommandId="aaa"></rsp:Stream>\
        <rsp:Stream Name="stderr" CommandId="aaa">ZXJy</rsp:Stream>\
        <rsp:Stream Name="stdout" CommandId="AAA">dHdv</rsp:Stream>\
        <rsp:CommandState CommandId="BBB" State="\(WSManURI.commandStateDone)"><rsp:ExitCode>9</rsp:ExitCode></rsp:CommandState>\
        <rsp:CommandState CommandId="AAA" State="\(WSManURI.commandStateDone)"><rsp:ExitCode>3221225477</rsp:ExitCode></rsp:CommandState>\
        </rsp:ReceiveResponse></s:Body></s:Envelope>
        """
        let output = try WinRSResponse.parseReceive(Data(xml.utf8), request: request)
        XCTAssertEqual(text(output.stdout), "onetwo")
        XCTAssertEqual(text(output.stderr), "err")
        XCTAssertEqual(output.state, .done(exitCode: Int32(bitPattern: 0xC000_0005)), "DWORD exit codes keep their bits")
    }

    func testPendingStateAndBadBase64() throws {
        let request = WinRS.receive(WSManEndpointContext(to: "http://h:5985/wsman"), shellID: "S", commandID: "C")
        func envelope(_ body: String) -> Data {
            Data("""
            <s:Envelope xmlns:s="\(WSManNamespace.soap)" xmlns:a="\(WSManNamespace.addressing)" xmlns:rsp="\(WSManNamespace.shell)">\
            <s:Header><a:Action>\(WSManAction.receiveResponse)</a:Action><a:RelatesTo>\(request.messageID)</a:RelatesTo></s:Header>\
            <s:Body><rsp:ReceiveResponse>\(body)</rsp:ReceiveResponse></s:Body></s:Envelope>
            """.utf8)
        }
        let pending = try WinRSResponse.parseReceive(
            envelope("<rsp:CommandState CommandId=\"C\" State=\"\(WSManURI.commandStatePending)\"/>"), request: request)
        XCTAssertEqual(pending.state, .pending)
        let noExit = try WinRSResponse.parseReceive(
            envelope("<rsp:CommandState CommandId=\"C\" State=\"\(WSManURI.commandStateDone)\"/>"), request: request)
        XCTAssertEqual(noExit.state, .done(exitCode: nil))
        XCTAssertThrowsError(try WinRSResponse.parseReceive(
            envelope("<rsp:Stream Name=\"stdout\" CommandId=\"C\">!!notbase64!!</rsp:Stream>"), request: request))
    }
}
