import Foundation
import XCTest
@testable import WSMan

/// The simulator's side: reading the requests real clients send, and answering in Windows' shape.
final class ServerTests: XCTestCase {
    func testEveryRecordedRequestParses() throws {
        var actions: [String: Int] = [:]
        for folder in Fixtures.allFolders {
            for exchange in try Fixtures.exchanges(folder) {
                let request = try WinRSServer.parseRequest(exchange.request)
                XCTAssertTrue(request.messageID.hasPrefix("uuid:"), exchange.name)
                XCTAssertNotNil(request.to, exchange.name)
                XCTAssertNotNil(request.operationTimeoutSeconds, exchange.name)
                XCTAssertNotNil(request.maxEnvelopeSize, exchange.name)
                XCTAssertEqual(request.locale, "en-US", exchange.name)
                XCTAssertTrue(request.sessionID?.hasPrefix("uuid:") ?? false, exchange.name)
                let key: String
                switch request.action {
                case .create: key = "create"
                case .command: key = "command"
                case .send: key = "send"
                case .receive: key = "receive"
                case .signal: key = "signal"
                case .delete: key = "delete"
                case .other: key = "other"
                }
                actions[key, default: 0] += 1
                if case .create = request.action {
                    XCTAssertNil(request.shellID, exchange.name)
                } else if !exchange.folder.hasPrefix("wsman_") {
                    XCTAssertNotNil(request.shellID, exchange.name)
                }
            }
        }
        // Counted with grep over the fixture files.
        XCTAssertEqual(actions, ["create": 13, "command": 12, "send": 2, "receive": 16, "signal": 11, "delete": 12, "other": 5])
    }

    func testStandardConversationValues() throws {
        let create = try WinRSServer.parseRequest(Fixtures.exchange("winrs_standard", 1).request)
        XCTAssertEqual(create.messageID, "uuid:FC40E3CD-53E9-4315-B486-6D538B25D1F5")
        XCTAssertEqual(create.actionURI, WSManAction.create)
        XCTAssertEqual(create.resourceURI, WSManURI.cmdShell)
        XCTAssertEqual(create.to, "http://192.168.56.11:5985/wsman")
        XCTAssertEqual(create.operationTimeoutSeconds, 20)
        XCTAssertEqual(create.maxEnvelopeSize, 153600)
        XCTAssertEqual(create.action, .create(ShellOptions(codepage: 437)), "no WINRS_CODEPAGE: Windows' OEM default")

        let command = try WinRSServer.parseRequest(Fixtures.exchange("winrs_standard", 2).request)
        XCTAssertEqual(command.action, .command(command: "cmd.exe", arguments: ["/c", "echo", "hi"], skipCmdShell: false))
        XCTAssertEqual(command.shellID, "4283CBDC-3706-415B-88BD-B385F3E51A53")
        XCTAssertEqual(command.options, ["WINRS_SKIP_CMD_SHELL": "False"])

        let receive = try WinRSServer.parseRequest(Fixtures.exchange("winrs_standard", 3).request)
        XCTAssertEqual(receive.action, .receive(commandID: "CF84C20A-0A35-43FA-AF78-0B4711DA5F30"))
        XCTAssertTrue(receive.optionIsTrue(WinRS.Option.keepAlive))

        let signal = try WinRSServer.parseRequest(Fixtures.exchange("winrs_standard", 4).request)
        XCTAssertEqual(signal.action, .signal(commandID: "CF84C20A-0A35-43FA-AF78-0B4711DA5F30", code: SignalCode.ctrlC.uri))
        XCTAssertEqual(try WinRSServer.parseRequest(Fixtures.exchange("winrs_standard", 5).request).action, .delete)
        let timeout = try WinRSServer.parseRequest(Fixtures.exchange("winrs_operation_timeout", 3).request)
        XCTAssertEqual(timeout.operationTimeoutSeconds, 10)
    }

    func testShellOptionVariants() throws {
        guard case .create(let environment) = try WinRSServer.parseRequest(Fixtures.exchange("winrs_environment", 1).request).action,
              case .create(let extra) = try WinRSServer.parseRequest(Fixtures.exchange("winrs_extra_opts", 1).request).action,
              case .create(let noProfile) = try WinRSServer.parseRequest(Fixtures.exchange("winrs_noprofile", 1).request).action
        else { return XCTFail("not creates") }
        XCTAssertEqual(environment.environment.map(\.name), ["env1", "1234", "_-(){}[]<>*+-/\\?\"!@#$^&|;:i,.`~0"])
        XCTAssertEqual(environment.environment.map(\.value), ["var1", "5678", "_-(){}[]<>*+-/\\?\"!@#$^&|;:i,.`~0"])
        XCTAssertEqual(extra, ShellOptions(codepage: 437, workingDirectory: "C:\\Windows", idleTimeoutSeconds: 60,
                                           lifetimeSeconds: 60, name: "shell 1"))
        XCTAssertTrue(noProfile.noProfile)
        let psrp = try WinRSServer.parseRequest(Fixtures.exchange("psrp_is_alive_invalid_selectors", 1).request)
        guard case .create(let pool) = psrp.action else { return XCTFail("not a create") }
        XCTAssertEqual(pool.inputStreams, "stdin pr")
        XCTAssertEqual(pool.outputStreams, "stdout")
        XCTAssertEqual(psrp.options["protocolversion"], "2.3")
        XCTAssertEqual(psrp.resourceURI, WSManURI.powerShell)
    }

    func testSendAndSkipCmdShell() throws {
        let first = try WinRSServer.parseRequest(Fixtures.exchange("winrs_send", 3).request)
        XCTAssertEqual(first.action, .send(commandID: "B0973E54-434E-4D99-B4BE-ADE584CE3BFB", stream: "stdin",
                                           data: Data("Write-Host \"output 1\";".utf8), end: false))
        let last = try WinRSServer.parseRequest(Fixtures.exchange("winrs_send", 4).request)
        XCTAssertEqual(last.action, .send(commandID: "B0973E54-434E-4D99-B4BE-ADE584CE3BFB", stream: "stdin",
                                          data: Data("Write-Host \"output 2\";".utf8), end: true))
        let skip = try WinRSServer.parseRequest(Fixtures.exchange("winrs_no_cmd_shell", 3).request)
        XCTAssertEqual(skip.action, .command(command: "C:\\Windows\\system32\\WindowsPowerShell\\v1.0\\powershell.exe",
                                             arguments: ["Write-Host", "hi"], skipCmdShell: true))
        let get = try WinRSServer.parseRequest(Fixtures.exchange("wsman_update_envelope_size_500", 1).request)
        XCTAssertEqual(get.action, .other(action: WSManAction.get))
        XCTAssertEqual(get.resourceURI, WSManURI.config)
    }

    func testMalformedRequestsAndTheirFault() throws {
        XCTAssertThrowsError(try WinRSServer.parseRequest(Data("<html/>".utf8)))
        XCTAssertThrowsError(try WinRSServer.parseRequest(Data("not xml".utf8)))
        let ctx = WSManEndpointContext(to: "http://h:5985/wsman")
        let good = WinRS.command(ctx, shellID: "S", command: "x")
        let broken = good.xml.replacingOccurrences(of: "<rsp:Command>x</rsp:Command>", with: "")
        var caught: Error?
        XCTAssertThrowsError(try WinRSServer.parseRequest(Data(broken.utf8))) { caught = $0 }
        let requestError = try XCTUnwrap(caught as? WinRSRequestError)
        XCTAssertEqual(requestError.messageID, good.messageID)
        let fault = WinRSServer.fault(for: requestError, machine: "win01")
        XCTAssertThrowsError(try WinRSResponse.parseCommand(Data(fault.utf8), request: good)) { clientError in
            let parsed = (clientError as? WSManError)?.fault
            XCTAssertEqual(parsed?.code, WSManFault.schemaValidationCode)
            XCTAssertEqual(parsed?.subcode, "w:SchemaValidationError")
            XCTAssertEqual(parsed?.soapCode, "s:Sender")
        }
    }

    // MARK: - Responses, byte for byte against the recordings (MessageID masked)

    func testResponsesMatchRecordedWindowsResponses() throws {
        func recorded(_ folder: String, _ number: Int) throws -> (String, String) {
            let exchange = try Fixtures.exchange(folder, number)
            return (try WinRSServer.parseRequest(exchange.request).messageID, text(exchange.response))
        }
        var (relatesTo, expected) = try recorded("winrs_standard", 1)
        XCTAssertEqual(maskingMessageIDs(WinRSServer.createResponse(
            relatesTo: relatesTo, shellID: "4283CBDC-3706-415B-88BD-B385F3E51A53", address: "http://192.168.56.11:5985/wsman",
            owner: "vagrant", clientIP: "192.168.56.1", idleTimeoutSeconds: 7200, options: ShellOptions())),
                       maskingMessageIDs(expected))

        (relatesTo, expected) = try recorded("winrs_extra_opts", 1)
        XCTAssertEqual(maskingMessageIDs(WinRSServer.createResponse(
            relatesTo: relatesTo, shellID: "CBA3E536-A3A2-4B88-9ED3-4919930E15C2", address: "http://192.168.56.15:5985/wsman",
            owner: "vagrant", clientIP: "192.168.56.1", idleTimeoutSeconds: 60,
            options: ShellOptions(workingDirectory: "C:\\Windows", idleTimeoutSeconds: 60))), maskingMessageIDs(expected))

        (relatesTo, expected) = try recorded("winrs_standard", 2)
        XCTAssertEqual(maskingMessageIDs(WinRSServer.commandResponse(relatesTo: relatesTo,
                                                                     commandID: "CF84C20A-0A35-43FA-AF78-0B4711DA5F30")),
                       maskingMessageIDs(expected))

        (relatesTo, expected) = try recorded("winrs_standard", 3)
        XCTAssertEqual(maskingMessageIDs(WinRSServer.receiveResponse(
            relatesTo: relatesTo, commandID: "CF84C20A-0A35-43FA-AF78-0B4711DA5F30", stdout: [Data("hi\r\n".utf8)],
            done: true, exitCode: 0)), maskingMessageIDs(expected))

        (relatesTo, expected) = try recorded("winrs_operation_timeout", 3)
        XCTAssertEqual(maskingMessageIDs(WinRSServer.receiveResponse(
            relatesTo: relatesTo, commandID: "D644AE56-61E5-4C1A-A135-E599B76B3035",
            stdout: [Data("hi".utf8), Data("\n".utf8)], done: false)), maskingMessageIDs(expected))

        (relatesTo, expected) = try recorded("winrs_send", 3)
        XCTAssertEqual(maskingMessageIDs(WinRSServer.sendResponse(relatesTo: relatesTo)), maskingMessageIDs(expected))
        (relatesTo, expected) = try recorded("winrs_standard", 4)
        XCTAssertEqual(maskingMessageIDs(WinRSServer.signalResponse(relatesTo: relatesTo)), maskingMessageIDs(expected))
        (relatesTo, expected) = try recorded("winrs_standard", 5)
        XCTAssertEqual(maskingMessageIDs(WinRSServer.deleteResponse(relatesTo: relatesTo)), maskingMessageIDs(expected))

        (relatesTo, expected) = try recorded("winrs_operation_timeout", 4)
        XCTAssertEqual(maskingMessageIDs(WinRSServer.operationTimeoutFault(relatesTo: relatesTo, machine: "192.168.56.11")),
                       maskingMessageIDs(expected))
        XCTAssertEqual(maskingMessageIDs(WinRSServer.fault(
            relatesTo: relatesTo, code: 2150858793, machine: "192.168.56.11", message: WinRSServer.operationTimeoutText,
            subcode: "w:TimedOut", soapCode: "s:Receiver", reason: WinRSServer.operationTimeoutText)),
                       maskingMessageIDs(expected))

        (relatesTo, expected) = try recorded("winrs_bad_cmd_id", 3)
        XCTAssertEqual(maskingMessageIDs(WinRSServer.invalidSelectorsFault(relatesTo: relatesTo, machine: "192.168.56.15",
                                                                           unknownCommand: true)),
                       maskingMessageIDs(expected))
    }

    func testEnvironmentEchoMatchesStructurally() throws {
        let exchange = try Fixtures.exchange("client_execute_cmd_environment", 1)
        let request = try WinRSServer.parseRequest(exchange.request)
        guard case .create(let options) = request.action else { return XCTFail("not a create") }
        let ours = WinRSServer.createResponse(relatesTo: request.messageID, shellID: "02D4D656-B777-4F0E-AF04-DB7A7069A2DA",
                                              address: "https://server2016.domain.local:5986/wsman",
                                              owner: "SERVER2016\\vagrant", clientIP: "2001:db8::1", options: options)
        // Windows writes &quot;/&apos; in text where we write the characters; the trees are equal.
        XCTAssertEqual(canonicalTree(try XMLNode.parse(ours), masking: ["MessageID"]),
                       canonicalTree(try XMLNode.parse(exchange.response), masking: ["MessageID"]))
    }

    // MARK: - Responses read back by the client parsers

    func testServerResponsesParseWithClientParsers() throws {
        let ctx = WSManEndpointContext(to: "http://127.0.0.1:5985/wsman")
        var options = ShellOptions(workingDirectory: "C:\\Users\\ops", environment: [(name: "A", value: "1")])
        options.idleTimeoutSeconds = 900
        let create = WinRS.createShell(ctx, options: options)
        let incoming = try WinRSServer.parseRequest(create.body)
        XCTAssertEqual(incoming.action, .create(options))
        let created = try WinRSResponse.parseCreate(Data(WinRSServer.createResponse(
            relatesTo: incoming.messageID, shellID: "SHELL-1", address: ctx.to, owner: "WIN01\\ops", clientIP: "127.0.0.1",
            idleTimeoutSeconds: 900, options: options).utf8), request: create)
        XCTAssertEqual(created, ShellCreated(shellID: "SHELL-1", idleTimeout: 900, address: ctx.to, owner: "WIN01\\ops",
                                             clientIP: "127.0.0.1", resourceURI: WSManURI.cmdShell))

        let command = WinRS.command(ctx, shellID: "SHELL-1", command: "whoami", arguments: ["/all"])
        XCTAssertEqual(try WinRSResponse.parseCommand(Data(WinRSServer.commandResponse(relatesTo: command.messageID,
                                                                                         commandID: "CMD-1").utf8),
                                                      request: command), "CMD-1")

        let receive = WinRS.receive(ctx, shellID: "SHELL-1", commandID: "CMD-1")
        let running = try WinRSResponse.parseReceive(Data(WinRSServer.receiveResponse(
            relatesTo: receive.messageID, commandID: "CMD-1", chunks: [.stdout(Data("a".utf8)), .stderr(Data("e1".utf8)),
                                                                       .stdout(Data()), .stdout(Data("b".utf8))],
            done: false).utf8), request: receive)
        XCTAssertEqual(running, ReceiveOutput(stdout: Data("ab".utf8), stderr: Data("e1".utf8), state: .running))
        let done = try WinRSResponse.parseReceive(Data(WinRSServer.receiveResponse(
            relatesTo: receive.messageID, commandID: "CMD-1", stdout: [Data("x".utf8)], stderr: [Data("y".utf8)],
            done: true, exitCode: -1).utf8), request: receive)
        XCTAssertEqual(done, ReceiveOutput(stdout: Data("x".utf8), stderr: Data("y".utf8), state: .done(exitCode: -1),
                                           stdoutEnded: true, stderrEnded: true))

        let send = WinRS.send(ctx, shellID: "SHELL-1", commandID: "CMD-1", stdin: Data("input".utf8), end: true)
        XCTAssertNoThrow(try WinRSResponse.parseAcknowledgement(Data(WinRSServer.sendResponse(relatesTo: send.messageID).utf8),
                                                                request: send))
        let signal = WinRS.signal(ctx, shellID: "SHELL-1", commandID: "CMD-1", code: .terminate)
        XCTAssertNoThrow(try WinRSResponse.parseAcknowledgement(Data(WinRSServer.signalResponse(relatesTo: signal.messageID).utf8),
                                                                request: signal))
        let delete = WinRS.deleteShell(ctx, shellID: "SHELL-1")
        XCTAssertNoThrow(try WinRSResponse.parseAcknowledgement(Data(WinRSServer.deleteResponse(relatesTo: delete.messageID).utf8),
                                                                request: delete))
        // An acknowledgement of another kind is refused.
        XCTAssertThrowsError(try WinRSResponse.parseAcknowledgement(Data(WinRSServer.sendResponse(relatesTo: delete.messageID).utf8),
                                                                    request: delete))

        XCTAssertThrowsError(try WinRSResponse.parseReceive(Data(WinRSServer.operationTimeoutFault(
            relatesTo: receive.messageID, machine: "win01").utf8), request: receive)) { error in
            let fault = (error as? WSManError)?.fault
            XCTAssertEqual(fault?.isOperationTimeout, true)
            XCTAssertEqual(fault?.machine, "win01")
            XCTAssertEqual(fault?.relatesTo, receive.messageID)
        }
        XCTAssertThrowsError(try WinRSResponse.parseReceive(Data(WinRSServer.invalidSelectorsFault(
            relatesTo: receive.messageID, machine: "win01").utf8), request: receive)) { error in
            XCTAssertEqual((error as? WSManError)?.fault?.isShellGone, true)
        }

        let get = WSManConfig.getRequest(ctx)
        let config = WSManServiceConfig(maxEnvelopeSizeKB: 500, maxTimeoutMs: 60000, maxConcurrentOperationsPerUser: 1500,
                                        maxShellsPerUser: 30, shellIdleTimeoutMs: 7_200_000)
        XCTAssertEqual(try WSManConfig.parse(Data(WinRSServer.configResponse(relatesTo: get.messageID, config: config).utf8),
                                             request: get), config)
    }

    func testResponseMessageIDsAreFresh() throws {
        let a = try XMLNode.parse(WinRSServer.deleteResponse(relatesTo: "uuid:1"))
        let b = try XMLNode.parse(WinRSServer.deleteResponse(relatesTo: "uuid:1"))
        XCTAssertNotEqual(WSManResponse.messageID(of: a), WSManResponse.messageID(of: b))
        XCTAssertEqual(a.qualifiedAttributes["xml:lang"], "en-US")
    }
}
