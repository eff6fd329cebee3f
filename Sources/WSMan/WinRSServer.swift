import Foundation

/// What a WinRS request asks the server to do.
public enum WinRSAction: Sendable, Equatable {
    case create(ShellOptions)
    case command(command: String, arguments: [String], skipCmdShell: Bool)
    /// `stream` is the `Name` attribute (normally `stdin`), `data` the decoded bytes.
    case send(commandID: String, stream: String, data: Data, end: Bool)
    /// `commandID` is empty when `rsp:DesiredStream` carries none (PSRP runspace receive).
    case receive(commandID: String)
    /// `code` is the full signal URI as sent (see `SignalCode(uri:)`).
    case signal(commandID: String, code: String)
    case delete
    /// Any other action URI (e.g. transfer `Get`); the body is left to the caller.
    case other(action: String)
}

/// A request as the server side sees it.
public struct WinRSIncomingRequest: Sendable, Equatable {
    public var action: WinRSAction
    /// `wsa:MessageID`, to be echoed in the response's `a:RelatesTo`.
    public var messageID: String
    public var resourceURI: String?
    public var to: String?
    /// `wsman:OperationTimeout` in seconds.
    public var operationTimeoutSeconds: Double?
    /// `wsman:MaxEnvelopeSize` in bytes.
    public var maxEnvelopeSize: Int?
    /// `wsman:OptionSet` values by option name.
    public var options: [String: String]
    /// The `ShellId` selector.
    public var shellID: String?
    /// `wsa:Action` URI as sent.
    public var actionURI: String
    /// `wsmv:SessionId`.
    public var sessionID: String?
    /// `wsman:Locale/@xml:lang`.
    public var locale: String?

    public init(action: WinRSAction, messageID: String, resourceURI: String? = nil, to: String? = nil,
                operationTimeoutSeconds: Double? = nil, maxEnvelopeSize: Int? = nil,
                options: [String: String] = [:], shellID: String? = nil, actionURI: String = "",
                sessionID: String? = nil, locale: String? = nil) {
        self.action = action
        self.messageID = messageID
        self.resourceURI = resourceURI
        self.to = to
        self.operationTimeoutSeconds = operationTimeoutSeconds
        self.maxEnvelopeSize = maxEnvelopeSize
        self.options = options
        self.shellID = shellID
        self.actionURI = actionURI
        self.sessionID = sessionID
        self.locale = locale
    }

    /// Option value compared case-insensitively with `TRUE`.
    public func optionIsTrue(_ name: String) -> Bool {
        options[name]?.lowercased() == "true"
    }
}

/// A request the server side cannot read; `WinRSServer.fault(for:relatesTo:machine:)` turns it
/// into the fault Windows would send.
public struct WinRSRequestError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String
    /// Fault subcode to answer with, e.g. `w:SchemaValidationError`.
    public var subcode: String
    /// WSManFault code to answer with.
    public var code: UInt32
    /// MessageID of the request, when it could be read.
    public var messageID: String?

    public init(_ message: String, subcode: String = "w:SchemaValidationError",
                code: UInt32 = WSManFault.schemaValidationCode, messageID: String? = nil) {
        self.message = message
        self.subcode = subcode
        self.code = code
        self.messageID = messageID
    }

    public var description: String { "invalid WinRS request: \(message)" }
}

/// Server side of WinRS (used by the simulator): request parsing and response building in the
/// exact shape recorded from Windows.
public enum WinRSServer {
    /// Reads a request envelope.
    public static func parseRequest(_ data: Data) throws -> WinRSIncomingRequest {
        let root: XMLNode
        do {
            root = try XMLNode.parse(data)
        } catch let error as XMLParseError {
            throw WinRSRequestError("request is not well-formed XML: \(error)")
        }
        guard root.namespace == WSManNamespace.soap, root.localName == "Envelope" else {
            throw WinRSRequestError("root element is \(root.qualifiedName), not a SOAP 1.2 s:Envelope")
        }
        guard let header = root.child(WSManNamespace.soap, "Header") else {
            throw WinRSRequestError("s:Envelope has no s:Header")
        }
        func headerText(_ namespace: String, _ name: String) -> String? {
            header.child(namespace, name)?.trimmedText
        }
        guard let actionURI = headerText(WSManNamespace.addressing, "Action"), !actionURI.isEmpty else {
            throw WinRSRequestError("s:Header has no wsa:Action")
        }
        guard let messageID = headerText(WSManNamespace.addressing, "MessageID"), !messageID.isEmpty else {
            throw WinRSRequestError("s:Header has no wsa:MessageID")
        }

        var request = WinRSIncomingRequest(action: .other(action: actionURI), messageID: messageID,
                                           actionURI: actionURI)
        request.resourceURI = headerText(WSManNamespace.wsman, "ResourceURI")
        request.to = headerText(WSManNamespace.addressing, "To")
        request.sessionID = headerText(WSManNamespace.wsmv, "SessionId")
        request.locale = header.child(WSManNamespace.wsman, "Locale")?.attribute("lang")
        if let timeout = headerText(WSManNamespace.wsman, "OperationTimeout") {
            guard let seconds = WSManDuration.parse(timeout) else {
                throw WinRSRequestError("wsman:OperationTimeout \(timeout) is not an xs:duration", messageID: messageID)
            }
            request.operationTimeoutSeconds = seconds
        }
        if let size = headerText(WSManNamespace.wsman, "MaxEnvelopeSize") {
            guard let bytes = Int(size) else {
                throw WinRSRequestError("wsman:MaxEnvelopeSize \(size) is not a number", messageID: messageID)
            }
            request.maxEnvelopeSize = bytes
        }
        if let optionSet = header.child(WSManNamespace.wsman, "OptionSet") {
            for option in optionSet.children(WSManNamespace.wsman, "Option") {
                if let name = option.attribute("Name") { request.options[name] = option.trimmedText }
            }
        }
        if let selectorSet = header.child(WSManNamespace.wsman, "SelectorSet") {
            request.shellID = selectorSet.children(WSManNamespace.wsman, "Selector")
                .first(where: { $0.attribute("Name") == "ShellId" })?.trimmedText
        }

        let body = root.child(WSManNamespace.soap, "Body")
        func require(_ name: String) throws -> XMLNode {
            guard let node = body?.child(WSManNamespace.shell, name) else {
                throw WinRSRequestError("\(actionURI) request has no rsp:\(name) in s:Body", messageID: messageID)
            }
            return node
        }

        switch actionURI {
        case WSManAction.create:
            request.action = .create(try shellOptions(try require("Shell"), options: request.options, messageID: messageID))
        case WSManAction.command:
            let commandLine = try require("CommandLine")
            guard let command = commandLine.child(WSManNamespace.shell, "Command") else {
                throw WinRSRequestError("rsp:CommandLine has no rsp:Command", messageID: messageID)
            }
            let arguments = commandLine.children(WSManNamespace.shell, "Arguments").map { $0.text }
            request.action = .command(command: command.text, arguments: arguments,
                                      skipCmdShell: request.optionIsTrue(WinRS.Option.skipCmdShell))
        case WSManAction.send:
            guard let stream = try require("Send").child(WSManNamespace.shell, "Stream") else {
                throw WinRSRequestError("rsp:Send has no rsp:Stream", messageID: messageID)
            }
            guard let bytes = WinRSResponse.decodeBase64(stream.trimmedText) else {
                throw WinRSRequestError("rsp:Stream holds invalid base64", messageID: messageID)
            }
            request.action = .send(commandID: stream.attribute("CommandId") ?? "",
                                   stream: stream.attribute("Name") ?? "stdin", data: bytes,
                                   end: stream.attribute("End")?.lowercased() == "true")
        case WSManAction.receive:
            let desired = try require("Receive").child(WSManNamespace.shell, "DesiredStream")
            request.action = .receive(commandID: desired?.attribute("CommandId") ?? "")
        case WSManAction.signal:
            let signal = try require("Signal")
            guard let code = signal.child(WSManNamespace.shell, "Code")?.trimmedText else {
                throw WinRSRequestError("rsp:Signal has no rsp:Code", messageID: messageID)
            }
            request.action = .signal(commandID: signal.attribute("CommandId") ?? "", code: code)
        case WSManAction.delete:
            request.action = .delete
        default:
            break
        }
        return request
    }

    static func shellOptions(_ shell: XMLNode, options: [String: String], messageID: String) throws -> ShellOptions {
        let rsp = WSManNamespace.shell
        var result = ShellOptions()
        // Windows falls back to the OEM code page (437 on en-US) when the client sends none.
        if let codepage = options[WinRS.Option.codepage] {
            guard let value = Int(codepage) else {
                throw WinRSRequestError("WINRS_CODEPAGE \(codepage) is not a number", messageID: messageID)
            }
            result.codepage = value
        } else {
            result.codepage = 437
        }
        result.noProfile = options[WinRS.Option.noProfile]?.lowercased() == "true"
        if let streams = shell.child(rsp, "InputStreams") { result.inputStreams = streams.trimmedText }
        if let streams = shell.child(rsp, "OutputStreams") { result.outputStreams = streams.trimmedText }
        result.workingDirectory = shell.child(rsp, "WorkingDirectory")?.text
        result.name = shell.child(rsp, "Name")?.text
        result.environment = shell.child(rsp, "Environment")?.children(rsp, "Variable")
            .map { (name: $0.attribute("Name") ?? "", value: $0.text) } ?? []
        result.idleTimeoutSeconds = try duration(shell.child(rsp, "IdleTimeOut"), messageID: messageID)
        result.lifetimeSeconds = try duration(shell.child(rsp, "Lifetime"), messageID: messageID)
        return result
    }

    private static func duration(_ node: XMLNode?, messageID: String) throws -> Int? {
        guard let node = node else { return nil }
        guard let seconds = WSManDuration.parse(node.trimmedText) else {
            throw WinRSRequestError("rsp:\(node.localName) \(node.trimmedText) is not an xs:duration", messageID: messageID)
        }
        return Int(seconds.rounded())
    }
}
