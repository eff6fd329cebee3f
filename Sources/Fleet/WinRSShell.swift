import Foundation
import WSMan
import WinRMTransport

/// What a finished command produced.
public struct CommandOutput: Sendable, Equatable {
    public var stdout: Data
    public var stderr: Data
    public var exitCode: Int32?
}

/// What to run: a command line for cmd.exe, or a PowerShell script.
public struct CommandSpec: Sendable, Equatable {
    public var command: String
    public var arguments: [String]
    public var stdin: Data?
    /// PowerShell's stderr arrives as CLIXML and is turned into text.
    public var isPowerShell: Bool

    public init(command: String, arguments: [String] = [], stdin: Data? = nil, isPowerShell: Bool = false) {
        self.command = command
        self.arguments = arguments
        self.stdin = stdin
        self.isPowerShell = isPowerShell
    }

    /// `cmd.exe` command line from the words after `--`.
    public static func commandLine(_ words: [String]) -> CommandSpec {
        CommandSpec(command: words.joined(separator: " "))
    }

    /// A PowerShell script, encoded, or fed over stdin when too long for cmd.exe's line.
    public static func powerShell(_ script: String) -> CommandSpec {
        let invocation = PowerShell.invocation(for: script)
        return CommandSpec(command: invocation.command, arguments: invocation.arguments,
                           stdin: invocation.stdin, isPowerShell: true)
    }

    public var displayText: String {
        ([command] + arguments).joined(separator: " ")
    }
}

/// A WinRS shell on one host, over that host's one authenticated connection. The shell
/// outlives commands (it is reused) and may outlive the TCP connection.
public final class WinRSShell: @unchecked Sendable {
    public let connection: WinRMConnection
    public let options: ShellOptions
    private let context: WSManEndpointContext
    public private(set) var shellID: String?

    public init(connection: WinRMConnection, options: ShellOptions = ShellOptions(),
                maxEnvelopeSize: Int = 153600) {
        self.connection = connection
        self.options = options
        context = WSManEndpointContext(
            to: connection.config.endpoint.absoluteString,
            operationTimeoutSeconds: max(1, Int(connection.config.operationTimeout)),
            maxEnvelopeSize: maxEnvelopeSize,
            sessionID: WSManEndpointContext.newSessionID())
    }

    public func open() async throws {
        let request = WinRS.createShell(context, options: options)
        let envelope = try await call(request)
        shellID = try WinRSResponse.parseCreate(envelope: envelope, request: request).shellID
    }

    /// Command (and its stdin): returns the CommandId. The Command request is never sent twice
    /// (a lost connection under it throws with `requestMayHaveArrived`).
    public func startCommand(_ spec: CommandSpec) async throws -> String {
        guard let shellID else { throw WinRMError(.protocol, "no shell is open") }
        let request = WinRS.command(context, shellID: shellID, command: spec.command,
                                    arguments: spec.arguments, consoleModeStdin: spec.stdin == nil)
        let commandID = try WinRSResponse.parseCommand(envelope: try await call(request, idempotent: false), request: request)
        if let stdin = spec.stdin {
            try await sendStdin(stdin, shellID: shellID, commandID: commandID)
        }
        return commandID
    }

    /// One Receive. An OperationTimeout fault (no output yet) comes back as empty output of a
    /// running command: ask again. `deadline` shortens the long poll so it ends in time.
    public func receive(commandID: String, deadline: Date?) async throws -> ReceiveOutput {
        guard let shellID else { throw WinRMError(.protocol, "no shell is open") }
        var pollContext = context
        if let deadline {
            let remaining = deadline.timeIntervalSinceNow
            pollContext.operationTimeoutSeconds = max(1, min(context.operationTimeoutSeconds, Int(remaining.rounded(.up))))
        }
        let request = WinRS.receive(pollContext, shellID: shellID, commandID: commandID)
        do {
            return try WinRSResponse.parseReceive(envelope: try await call(request), request: request, commandID: commandID)
        } catch let error as WinRMError where error.code == String(WSManFault.operationTimeoutCode) {
            // MS-WSMV 3.1.4.14: no output within OperationTimeout; the client asks again.
            return ReceiveOutput(stdout: Data(), stderr: Data(), state: .running)
        }
    }

    /// Signal: `terminate` after every command (skipping it leaks an operation on the host,
    /// MaxConcurrentOperationsPerUser), `ctrlC` to interrupt.
    public func signal(commandID: String, _ code: SignalCode) async throws {
        guard let shellID else { return }
        let request = WinRS.signal(context, shellID: shellID, commandID: commandID, code: code)
        try WinRSResponse.parseAcknowledgement(envelope: try await call(request), request: request)
    }

    /// Keep-alive: a Get of the shell, which resets its idle timer on the host and keeps the
    /// authenticated connection in use. Throws the host's fault when the shell is gone.
    public func touch() async throws {
        guard let shellID else { return }
        let request = WinRS.getShell(context, shellID: shellID)
        _ = try await call(request)
    }

    /// Forgets the shell locally (after the host said it is gone).
    public func forgetShell() {
        shellID = nil
    }

    public func close() async {
        guard let shellID else { return }
        self.shellID = nil
        let request = WinRS.deleteShell(context, shellID: shellID)
        _ = try? await call(request)
    }

    private func sendStdin(_ data: Data, shellID: String, commandID: String) async throws {
        let chunk = WinRS.maxStdinBytesPerSend(context)
        var offset = 0
        repeat {
            let end = min(offset + chunk, data.count)
            let request = WinRS.send(context, shellID: shellID, commandID: commandID,
                                     stdin: data.subdata(in: offset..<end), end: end == data.count)
            try WinRSResponse.parseAcknowledgement(envelope: try await call(request, idempotent: false), request: request)
            offset = end
        } while offset < data.count
    }

    /// One SOAP round trip, with every failure turned into a `WinRMError`.
    func call(_ request: WSManRequest, idempotent: Bool = true) async throws -> XMLNode {
        let reply = try await connection.exchange(request.body, idempotent: idempotent)
        do {
            return try WSManResponse.envelope(status: reply.status, contentType: reply.contentType, body: reply.body,
                                              from: reply.origin, relatesTo: request.messageID)
        } catch let error as WSManError {
            var translated = Self.translate(error, connection: connection)
            // An answer came back but it is not one we can read: the host may well have acted on
            // the request, so a Command or Send in that state must not be sent again.
            if !idempotent && translated.kind != .wsmanFault {
                translated.requestMayHaveArrived = true
            }
            throw translated
        }
    }

    static func translate(_ error: WSManError, connection: WinRMConnection) -> WinRMError {
        let host = connection.config.hostDescription
        switch error {
        case .fault(let fault):
            let code = fault.code.map(String.init)
            var message = "\(host) answered with WS-Man fault"
            if let code { message += " \(code)" }
            message += ": \(fault.message)"
            if fault.isQuota {
                message += " — a per-user quota on the host is exhausted (MaxShellsPerUser / MaxConcurrentOperationsPerUser); close idle shells or raise the quota"
            } else if fault.isShellGone {
                message += " — the shell is gone on the host (idle timeout or service restart)"
            }
            return WinRMError(.wsmanFault, message, code: code)
        case .notSOAP(let status, _, let summary):
            let kind: WinRMErrorKind = connection.config.proxy != nil && summary.contains("html") ? .proxy : .protocol
            return WinRMError(kind, "HTTP \(status) \(summary)", code: String(status))
        case .relatesToMismatch(let expected, let got):
            return WinRMError(.protocol, "\(host) answered message \(got ?? "(none)") where \(expected) was expected: the connection carried someone else's response", code: nil)
        case .unexpectedResponse(let detail):
            return WinRMError(.protocol, "\(host): \(detail)")
        }
    }
}

