import Foundation
import XCTest
@testable import WSMan

/// Our request builders against the requests pypsrp sent to real Windows hosts.
final class RequestBuilderTests: XCTestCase {
    /// Values that differ per run and are not part of the shape.
    private let masked: Set<String> = ["MessageID", "SessionId", "To"]

    /// For every recorded request, build the same operation with our builders (inputs taken
    /// from the recorded request via the server-side parser) and compare the element trees.
    func testEveryRecordedRequestRoundTrips() throws {
        var compared = 0
        for folder in Fixtures.allFolders {
            for exchange in try Fixtures.exchanges(folder) {
                let recorded = try XMLNode.parse(exchange.request)
                let incoming = try WinRSServer.parseRequest(exchange.request)
                guard var ours = try rebuild(incoming) else { continue }
                // We always send WINRS_CODEPAGE (pypsrp sends it only when asked); ignore it where
                // the recording has none. testCreateShellSendsCodepage covers our choice.
                if case .create = incoming.action, incoming.options[WinRS.Option.codepage] == nil {
                    ours = try removingOption(WinRS.Option.codepage, from: ours)
                }
                XCTAssertEqual(canonicalTree(try XMLNode.parse(ours.body), masking: masked),
                               canonicalTree(recorded, masking: masked), exchange.name)
                XCTAssertEqual(ours.action, incoming.actionURI, exchange.name)
                compared += 1
            }
        }
        XCTAssertEqual(compared, 68, "every request except the PSRP create/receives is rebuilt")
    }

    private func context(for incoming: WinRSIncomingRequest) -> WSManEndpointContext {
        WSManEndpointContext(to: incoming.to ?? "", operationTimeoutSeconds: Int(incoming.operationTimeoutSeconds ?? 20),
                             maxEnvelopeSize: incoming.maxEnvelopeSize ?? 153600, locale: incoming.locale ?? "en-US",
                             sessionID: incoming.sessionID ?? "", resourceURI: incoming.resourceURI ?? WSManURI.cmdShell)
    }

    private func rebuild(_ incoming: WinRSIncomingRequest) throws -> WSManRequest? {
        let ctx = context(for: incoming)
        let shellID = incoming.shellID ?? ""
        switch incoming.action {
        case .create(let options):
            if incoming.resourceURI != WSManURI.cmdShell { return nil } // PSRP runspace pool create
            return WinRS.createShell(ctx, options: options)
        case .command(let command, let arguments, let skipCmdShell):
            return WinRS.command(ctx, shellID: shellID, command: command, arguments: arguments,
                                 skipCmdShell: skipCmdShell,
                                 consoleModeStdin: incoming.optionIsTrue(WinRS.Option.consoleModeStdin))
        case .send(let commandID, let stream, let data, let end):
            return WinRS.send(ctx, shellID: shellID, commandID: commandID, stdin: data, end: end, stream: stream)
        case .receive(let commandID):
            if commandID.isEmpty { return nil } // PSRP receive without CommandId
            return WinRS.receive(ctx, shellID: shellID, commandID: commandID,
                                 keepAlive: incoming.optionIsTrue(WinRS.Option.keepAlive))
        case .signal(let commandID, let code):
            let signal = try XCTUnwrap(SignalCode(uri: code), "unknown signal \(code)")
            return WinRS.signal(ctx, shellID: shellID, commandID: commandID, code: signal)
        case .delete:
            return WinRS.deleteShell(ctx, shellID: shellID)
        case .other(let action):
            XCTAssertEqual(action, WSManAction.get)
            if incoming.resourceURI == WSManURI.config {
                return WSManConfig.getRequest(ctx)
            }
            return WSMan.request(ctx, action: action, resourceURI: incoming.resourceURI, shellID: incoming.shellID)
        }
    }

    private func removingOption(_ name: String, from request: WSManRequest) throws -> WSManRequest {
        var xml = request.xml
        let option = "<wsman:Option Name=\"\(name)\">[^<]*</wsman:Option>"
        xml = xml.replacingOccurrences(of: option, with: "", options: .regularExpression)
        xml = xml.replacingOccurrences(of: "<wsman:OptionSet s:mustUnderstand=\"true\"></wsman:OptionSet>", with: "")
        return WSManRequest(messageID: request.messageID, xml: xml, action: request.action)
    }

    // MARK: - Details the round trip cannot show

    private let ctx = WSManEndpointContext(to: "https://win01.example.test:5986/wsman",
                                           sessionID: "uuid:A635D444-7E75-4E46-9A68-2FFF53AF45CA")

    func testHeaderOrderAndValues() throws {
        let request = WinRS.receive(ctx, shellID: "S1", commandID: "C1")
        let header = try XCTUnwrap(try XMLNode.parse(request.body).child(WSManNamespace.soap, "Header"))
        XCTAssertEqual(header.children.map(\.localName),
                       ["Action", "DataLocale", "Locale", "MaxEnvelopeSize", "MessageID", "OperationTimeout",
                        "ReplyTo", "ResourceURI", "SessionId", "To", "OptionSet", "SelectorSet"])
        XCTAssertEqual(header.child(WSManNamespace.wsman, "OperationTimeout")?.text, "PT20S")
        XCTAssertEqual(header.child(WSManNamespace.wsman, "MaxEnvelopeSize")?.text, "153600")
        XCTAssertEqual(header.child(WSManNamespace.wsmv, "SessionId")?.text, ctx.sessionID)
        XCTAssertEqual(header.child(WSManNamespace.addressing, "To")?.text, ctx.to)
        XCTAssertEqual(header.child(WSManNamespace.wsman, "Locale")?.qualifiedAttributes["xml:lang"], "en-US")
        XCTAssertEqual(header.child(WSManNamespace.addressing, "MessageID")?.text, request.messageID)
        XCTAssertEqual(request.shellID, "S1")
        XCTAssertEqual(request.commandID, "C1")
    }

    func testMessageIDsAreFreshUpperCaseUUIDs() {
        let a = WinRS.deleteShell(ctx, shellID: "S")
        let b = WinRS.deleteShell(ctx, shellID: "S")
        XCTAssertNotEqual(a.messageID, b.messageID)
        for id in [a.messageID, b.messageID, WSManEndpointContext.newSessionID()] {
            XCTAssertTrue(id.hasPrefix("uuid:"))
            XCTAssertEqual(id, "uuid:" + id.dropFirst(5).uppercased())
            XCTAssertNotNil(UUID(uuidString: String(id.dropFirst(5))))
        }
    }

    func testCreateShellSendsCodepageAndOptions() throws {
        var options = ShellOptions(noProfile: true, workingDirectory: "C:\\Temp",
                                   environment: [(name: "B", value: "2"), (name: "A", value: "1 & <2>")],
                                   idleTimeoutSeconds: 600)
        options.lifetimeSeconds = 3600
        let request = WinRS.createShell(ctx, options: options)
        let root = try XMLNode.parse(request.body)
        let optionSet = try XCTUnwrap(root.descendant(WSManNamespace.wsman, "OptionSet"))
        XCTAssertEqual(optionSet.attribute("mustUnderstand"), "true")
        let wsmanOptions = optionSet.children(WSManNamespace.wsman, "Option")
        XCTAssertEqual(wsmanOptions.map { $0.attribute("Name") }, ["WINRS_NOPROFILE", "WINRS_CODEPAGE"])
        XCTAssertEqual(wsmanOptions.map(\.text), ["TRUE", "65001"])
        XCTAssertEqual(wsmanOptions[0].attribute("MustComply"), "true")
        XCTAssertNil(wsmanOptions[1].attribute("MustComply"))
        let shell = try XCTUnwrap(root.descendant(WSManNamespace.shell, "Shell"))
        XCTAssertEqual(shell.children.map(\.localName),
                       ["InputStreams", "OutputStreams", "IdleTimeOut", "Lifetime", "WorkingDirectory", "Environment"])
        XCTAssertEqual(shell.child(WSManNamespace.shell, "IdleTimeOut")?.text, "PT600S")
        let variables = try XCTUnwrap(shell.child(WSManNamespace.shell, "Environment")).children
        XCTAssertEqual(variables.map { $0.attribute("Name") }, ["B", "A"], "environment order is kept")
        XCTAssertEqual(variables.map(\.text), ["2", "1 & <2>"])
        XCTAssertNil(root.descendant(WSManNamespace.wsman, "SelectorSet"), "Create has no ShellId yet")

        let plain = try XMLNode.parse(WinRS.createShell(ctx).body)
        XCTAssertEqual(plain.descendant(WSManNamespace.wsman, "OptionSet")?.children.map { $0.attribute("Name") },
                       ["WINRS_CODEPAGE"], "no WINRS_NOPROFILE unless asked")
    }

    func testCommandOptions() throws {
        let console = try XMLNode.parse(WinRS.command(ctx, shellID: "S", command: "ipconfig", arguments: ["/all"]).body)
        let options = try XCTUnwrap(console.descendant(WSManNamespace.wsman, "OptionSet")).children
        XCTAssertEqual(options.map { $0.attribute("Name") }, ["WINRS_CONSOLEMODE_STDIN", "WINRS_SKIP_CMD_SHELL"])
        XCTAssertEqual(options.map(\.text), ["TRUE", "False"])
        let piped = try XMLNode.parse(WinRS.command(ctx, shellID: "S", command: "C:\\x.exe", skipCmdShell: true,
                                                    consoleModeStdin: false).body)
        let pipedOptions = try XCTUnwrap(piped.descendant(WSManNamespace.wsman, "OptionSet")).children
        XCTAssertEqual(pipedOptions.map { $0.attribute("Name") }, ["WINRS_SKIP_CMD_SHELL"])
        XCTAssertEqual(pipedOptions.map(\.text), ["True"])
        XCTAssertEqual(piped.descendant(WSManNamespace.shell, "Arguments")?.text, nil)
    }

    func testSignalCodesAndSendEncoding() throws {
        XCTAssertEqual(SignalCode.terminate.uri, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/Terminate")
        XCTAssertEqual(SignalCode(uri: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate"), .terminate)
        XCTAssertEqual(SignalCode(uri: SignalCode.ctrlBreak.uri), .ctrlBreak)
        XCTAssertNil(SignalCode(uri: "http://example.test/other"))
        let signal = try XMLNode.parse(WinRS.signal(ctx, shellID: "S", commandID: "C", code: .terminate).body)
        XCTAssertEqual(signal.descendant(WSManNamespace.shell, "Code")?.text, SignalCode.terminate.uri)

        let bytes = Data([0x00, 0xFF, 0x0D, 0x0A] + Array("Write-Host é".utf8))
        let send = try XMLNode.parse(WinRS.send(ctx, shellID: "S", commandID: "C", stdin: bytes, end: true).body)
        let stream = try XCTUnwrap(send.descendant(WSManNamespace.shell, "Stream"))
        XCTAssertEqual(stream.attribute("End"), "True")
        XCTAssertEqual(stream.attribute("Name"), "stdin")
        XCTAssertEqual(Data(base64Encoded: stream.text), bytes)
    }

    func testSendChunkBudgetFitsTheEnvelope() throws {
        var small = ctx
        small.maxEnvelopeSize = 153600
        let budget = WinRS.maxStdinBytesPerSend(small)
        let request = WinRS.send(small, shellID: UUID().uuidString, commandID: UUID().uuidString,
                                 stdin: Data(repeating: 0x41, count: budget), end: false)
        XCTAssertLessThanOrEqual(request.body.count, small.maxEnvelopeSize)
        XCTAssertGreaterThan(budget, 100_000)
    }
}

final class MessageIdentifierTests: XCTestCase {
    func testIdsAreVersion4GUIDsAndNeverRepeat() {
        var seen = Set<String>()
        for _ in 0..<20_000 {
            let id = MessageIdentifier.next()
            XCTAssertEqual(id.count, 36)
            XCTAssertNotNil(UUID(uuidString: id), id)
            XCTAssertEqual(Array(id)[14], "4", "version nibble: \(id)")
            XCTAssertTrue("89AB".contains(Array(id)[19]), "variant: \(id)")
            XCTAssertEqual(id, id.uppercased())
            XCTAssertTrue(seen.insert(id).inserted, "repeated \(id)")
        }
        XCTAssertTrue(WSMan.newMessageID().hasPrefix("uuid:"))
    }

    func testMixIsABijectionOnASample() {
        let mixed = Set((0..<50_000).map { MessageIdentifier.mix(UInt64($0)) })
        XCTAssertEqual(mixed.count, 50_000)
    }
}
