import Foundation

/// What a successful Create told us about the new shell.
public struct ShellCreated: Sendable, Equatable {
    public var shellID: String
    /// `rsp:IdleTimeOut` the server applied, in seconds (newer servers echo it, e.g. `PT7200.000S`).
    public var idleTimeout: Double?
    /// `x:ResourceCreated/a:Address`.
    public var address: String?
    /// `rsp:Owner`, e.g. `DOMAIN\user`.
    public var owner: String?
    /// `rsp:ClientIP` as the server saw us (through a proxy: the proxy's address).
    public var clientIP: String?
    /// `rsp:ResourceUri` / `w:ResourceURI`.
    public var resourceURI: String?

    public init(shellID: String, idleTimeout: Double? = nil, address: String? = nil, owner: String? = nil,
                clientIP: String? = nil, resourceURI: String? = nil) {
        self.shellID = shellID
        self.idleTimeout = idleTimeout
        self.address = address
        self.owner = owner
        self.clientIP = clientIP
        self.resourceURI = resourceURI
    }
}

/// `rsp:CommandState/@State` of a command.
public enum CommandState: Sendable, Equatable {
    case running
    case pending
    /// The process ended; `exitCode` is nil when Windows sent no `rsp:ExitCode`.
    case done(exitCode: Int32?)

    public var isDone: Bool {
        if case .done = self { return true }
        return false
    }
}

/// Output of one Receive for one command. Bytes are joined per stream across all `rsp:Stream`
/// chunks; decode them to text only after joining (UTF-8 sequences straddle chunks).
public struct ReceiveOutput: Sendable, Equatable {
    public var stdout: Data
    public var stderr: Data
    public var state: CommandState
    /// A `Name="stdout" End="true"` marker was present.
    public var stdoutEnded: Bool
    /// A `Name="stderr" End="true"` marker was present.
    public var stderrEnded: Bool

    public init(stdout: Data = Data(), stderr: Data = Data(), state: CommandState = .running,
                stdoutEnded: Bool = false, stderrEnded: Bool = false) {
        self.stdout = stdout
        self.stderr = stderr
        self.state = state
        self.stdoutEnded = stdoutEnded
        self.stderrEnded = stderrEnded
    }
}

/// Client-side parsing of WinRS responses. Every parser checks that `a:RelatesTo` equals the
/// request's MessageID and that `a:Action` is the request's action + `Response`; faults throw
/// `WSManError.fault`. Each comes in two forms: from raw bytes, or from an envelope already
/// returned by `WSManResponse.envelope(status:contentType:body:from:)` (no second parse).
public enum WinRSResponse {
    // MARK: Create

    public static func parseCreate(_ data: Data, request: WSManRequest) throws -> ShellCreated {
        try parseCreate(envelope: WSManResponse.document(data), request: request)
    }

    public static func parseCreate(envelope: XMLNode, request: WSManRequest) throws -> ShellCreated {
        let body = try validatedBody(envelope, request: request)
        let resourceCreated = body.child(WSManNamespace.transfer, "ResourceCreated")
        let reference = resourceCreated?.child(WSManNamespace.addressing, "ReferenceParameters")
        let selector = reference?.child(WSManNamespace.wsman, "SelectorSet")?
            .children(WSManNamespace.wsman, "Selector").first(where: { $0.attribute("Name") == "ShellId" })
        let shell = body.child(WSManNamespace.shell, "Shell")
        let shellID = nonEmpty(selector?.trimmedText) ?? nonEmpty(shell?.child(WSManNamespace.shell, "ShellId")?.trimmedText)
        guard let shellID = shellID else {
            throw WSManError.unexpectedResponse("CreateResponse without a ShellId selector (x:ResourceCreated) or rsp:ShellId")
        }
        var created = ShellCreated(shellID: shellID)
        created.address = nonEmpty(resourceCreated?.child(WSManNamespace.addressing, "Address")?.trimmedText)
        created.resourceURI = nonEmpty(reference?.child(WSManNamespace.wsman, "ResourceURI")?.trimmedText)
            ?? nonEmpty(shell?.child(WSManNamespace.shell, "ResourceUri")?.trimmedText)
        if let shell = shell {
            created.owner = nonEmpty(shell.child(WSManNamespace.shell, "Owner")?.trimmedText)
            created.clientIP = nonEmpty(shell.child(WSManNamespace.shell, "ClientIP")?.trimmedText)
            created.idleTimeout = shell.child(WSManNamespace.shell, "IdleTimeOut").flatMap {
                WSManDuration.parse($0.trimmedText)
            }
        }
        return created
    }

    // MARK: Command

    /// Returns the CommandId.
    public static func parseCommand(_ data: Data, request: WSManRequest) throws -> String {
        try parseCommand(envelope: WSManResponse.document(data), request: request)
    }

    public static func parseCommand(envelope: XMLNode, request: WSManRequest) throws -> String {
        let body = try validatedBody(envelope, request: request)
        guard let commandID = nonEmpty(body.child(WSManNamespace.shell, "CommandResponse")?
            .child(WSManNamespace.shell, "CommandId")?.trimmedText) else {
            throw WSManError.unexpectedResponse("CommandResponse without rsp:CommandId")
        }
        return commandID
    }

    // MARK: Receive

    /// Output for `commandID` (default: the request's CommandId). Streams of other commands are
    /// skipped; streams without a CommandId attribute (PSRP) are taken.
    public static func parseReceive(_ data: Data, request: WSManRequest, commandID: String? = nil) throws -> ReceiveOutput {
        try parseReceive(envelope: WSManResponse.document(data), request: request, commandID: commandID)
    }

    public static func parseReceive(envelope: XMLNode, request: WSManRequest,
                                    commandID: String? = nil) throws -> ReceiveOutput {
        let body = try validatedBody(envelope, request: request)
        guard let response = body.child(WSManNamespace.shell, "ReceiveResponse") else {
            throw WSManError.unexpectedResponse("ReceiveResponse without rsp:ReceiveResponse")
        }
        let wanted = commandID ?? request.commandID
        var output = ReceiveOutput()
        for node in response.children where node.namespace == WSManNamespace.shell {
            switch node.localName {
            case "Stream":
                guard belongs(node, to: wanted) else { continue }
                let name = node.attribute("Name") ?? ""
                if node.attribute("End")?.lowercased() == "true" {
                    if name == "stdout" { output.stdoutEnded = true }
                    if name == "stderr" { output.stderrEnded = true }
                }
                if node.text.isEmpty { continue }
                guard let bytes = decodeBase64(node.text) else {
                    throw WSManError.unexpectedResponse("rsp:Stream \(name) holds invalid base64")
                }
                if name == "stdout" {
                    output.stdout.append(bytes)
                } else if name == "stderr" {
                    output.stderr.append(bytes)
                }
            case "CommandState":
                guard belongs(node, to: wanted) else { continue }
                output.state = try commandState(node)
            default:
                continue
            }
        }
        return output
    }

    // MARK: Send, Signal, Delete

    /// Checks a response that carries nothing but an acknowledgement (SendResponse,
    /// SignalResponse, DeleteResponse).
    public static func parseAcknowledgement(_ data: Data, request: WSManRequest) throws {
        try parseAcknowledgement(envelope: WSManResponse.document(data), request: request)
    }

    public static func parseAcknowledgement(envelope: XMLNode, request: WSManRequest) throws {
        _ = try validatedBody(envelope, request: request)
    }

    // MARK: Helpers

    /// Fault / RelatesTo / Action checks; returns `s:Body`.
    static func validatedBody(_ envelope: XMLNode, request: WSManRequest) throws -> XMLNode {
        try WSManResponse.checkEnvelope(envelope, relatesTo: request.messageID)
        let expected = WSManAction.response(to: request.action)
        let action = WSManResponse.action(of: envelope)
        guard action == expected else {
            throw WSManError.unexpectedResponse("expected action \(expected), got \(action ?? "no a:Action")")
        }
        guard let body = WSManResponse.body(of: envelope) else {
            throw WSManError.unexpectedResponse("SOAP envelope without s:Body")
        }
        return body
    }

    static func belongs(_ node: XMLNode, to commandID: String?) -> Bool {
        guard let wanted = commandID, let id = node.attribute("CommandId") else { return true }
        return WSManResponse.sameMessageID(id, wanted)
    }

    static func commandState(_ node: XMLNode) throws -> CommandState {
        let state = node.attribute("State") ?? ""
        let name = state.hasPrefix(WSManURI.commandStatePrefix)
            ? String(state.dropFirst(WSManURI.commandStatePrefix.count))
            : String(state.split(separator: "/").last ?? "")
        switch name {
        case "Done":
            let exitCode = node.child(WSManNamespace.shell, "ExitCode")
                .flatMap { Int64($0.trimmedText) }
                .map { Int32(truncatingIfNeeded: $0) } // DWORD codes such as 3221225477 keep their bits
            return .done(exitCode: exitCode)
        case "Running":
            return .running
        case "Pending":
            return .pending
        default:
            throw WSManError.unexpectedResponse("unknown rsp:CommandState \(state)")
        }
    }

    static func decodeBase64(_ text: String) -> Data? {
        Data(base64Encoded: text) ?? Data(base64Encoded: text, options: .ignoreUnknownCharacters)
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text = text, !text.isEmpty else { return nil }
        return text
    }
}
