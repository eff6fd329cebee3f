import Foundation

/// How a WinRS shell is created (`rsp:Shell` body and Create options).
public struct ShellOptions: Sendable, Equatable {
    /// `WINRS_CODEPAGE`: 65001 (UTF-8) by default so output decodes the same on every host.
    /// Windows uses the OEM code page (437 on en-US hosts) when the option is absent;
    /// `WinRSServer.parseRequest` reports 437 in that case.
    public var codepage: Int
    /// `WINRS_NOPROFILE=TRUE` (MustComply) when true; nothing is sent when false.
    public var noProfile: Bool
    /// `rsp:WorkingDirectory`.
    public var workingDirectory: String?
    /// `rsp:Environment/rsp:Variable Name=…`, in this order.
    public var environment: [(name: String, value: String)]
    /// `rsp:IdleTimeOut` (`PTnS`): the server deletes the shell after this long without requests.
    public var idleTimeoutSeconds: Int?
    /// `rsp:InputStreams`.
    public var inputStreams: String
    /// `rsp:OutputStreams`.
    public var outputStreams: String
    /// `rsp:Lifetime` (`PTnS`).
    public var lifetimeSeconds: Int?
    /// `rsp:Name`.
    public var name: String?

    public init(codepage: Int = 65001, noProfile: Bool = false, workingDirectory: String? = nil,
                environment: [(name: String, value: String)] = [], idleTimeoutSeconds: Int? = nil,
                inputStreams: String = "stdin", outputStreams: String = "stdout stderr",
                lifetimeSeconds: Int? = nil, name: String? = nil) {
        self.codepage = codepage
        self.noProfile = noProfile
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.inputStreams = inputStreams
        self.outputStreams = outputStreams
        self.lifetimeSeconds = lifetimeSeconds
        self.name = name
    }

    public static func == (lhs: ShellOptions, rhs: ShellOptions) -> Bool {
        lhs.codepage == rhs.codepage && lhs.noProfile == rhs.noProfile
            && lhs.workingDirectory == rhs.workingDirectory
            && lhs.environment.elementsEqual(rhs.environment, by: { $0.name == $1.name && $0.value == $1.value })
            && lhs.idleTimeoutSeconds == rhs.idleTimeoutSeconds
            && lhs.inputStreams == rhs.inputStreams && lhs.outputStreams == rhs.outputStreams
            && lhs.lifetimeSeconds == rhs.lifetimeSeconds && lhs.name == rhs.name
    }
}

/// `rsp:Signal/rsp:Code` values (MS-WSMV 2.2.4.38).
public enum SignalCode: String, Sendable, CaseIterable {
    /// Ends the command and releases it on the server; must follow every finished command,
    /// or the operation leaks until MaxConcurrentOperationsPerUser is hit.
    case terminate = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/Terminate"
    case ctrlC = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_c"
    case ctrlBreak = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_break"

    /// The URI sent in `rsp:Code`.
    public var uri: String { rawValue }

    /// Matches a received code case-insensitively (pywinrm sends `signal/terminate`, the spec `Terminate`).
    public init?(uri: String) {
        let lowered = uri.lowercased()
        guard let match = SignalCode.allCases.first(where: { $0.rawValue.lowercased() == lowered }) else {
            return nil
        }
        self = match
    }
}

/// Request builders for the WinRS shell lifecycle: Create, Command, Send, Receive, Signal, Delete.
/// Each call returns a request with a fresh MessageID.
public enum WinRS {
    /// Option names Windows understands on WinRS requests.
    public enum Option {
        public static let noProfile = "WINRS_NOPROFILE"
        public static let codepage = "WINRS_CODEPAGE"
        public static let skipCmdShell = "WINRS_SKIP_CMD_SHELL"
        public static let consoleModeStdin = "WINRS_CONSOLEMODE_STDIN"
        public static let keepAlive = "WSMAN_CMDSHELL_OPTION_KEEPALIVE"
    }

    /// Create: opens a shell. The response carries the ShellId.
    public static func createShell(_ ctx: WSManEndpointContext, options: ShellOptions = ShellOptions()) -> WSManRequest {
        var wsmanOptions: [WSManOption] = []
        if options.noProfile {
            wsmanOptions.append(WSManOption(name: Option.noProfile, value: "TRUE", mustComply: true))
        }
        wsmanOptions.append(WSManOption(name: Option.codepage, value: String(options.codepage)))
        let environmentSize = options.environment.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 48 }
        return WSMan.request(ctx, action: WSManAction.create, options: wsmanOptions,
                             bodyCapacity: 200 + environmentSize) { w in
            w.open("rsp:Shell")
            w.element("rsp:InputStreams", text: options.inputStreams)
            w.element("rsp:OutputStreams", text: options.outputStreams)
            if let idle = options.idleTimeoutSeconds {
                w.element("rsp:IdleTimeOut", text: WSManDuration.format(seconds: idle))
            }
            if let lifetime = options.lifetimeSeconds {
                w.element("rsp:Lifetime", text: WSManDuration.format(seconds: lifetime))
            }
            if let name = options.name {
                w.element("rsp:Name", text: name)
            }
            if let directory = options.workingDirectory {
                w.element("rsp:WorkingDirectory", text: directory)
            }
            w.shellEnvironment(options.environment)
            w.close("rsp:Shell")
        }
    }

    /// Command: starts a process in the shell. The response carries the CommandId.
    ///
    /// - Parameters:
    ///   - command: with the cmd shell, the whole command line may go here (`echo abc`);
    ///     with `skipCmdShell` it must be a full executable path.
    ///   - skipCmdShell: `WINRS_SKIP_CMD_SHELL` (always sent, as pypsrp does).
    ///   - consoleModeStdin: `WINRS_CONSOLEMODE_STDIN=TRUE` when true (stdin is a console, as pywinrm
    ///     sends); nothing when false (stdin is a pipe, which is what a script fed through Send needs).
    public static func command(_ ctx: WSManEndpointContext, shellID: String, command: String,
                               arguments: [String] = [], skipCmdShell: Bool = false,
                               consoleModeStdin: Bool = true) -> WSManRequest {
        var options: [WSManOption] = []
        if consoleModeStdin {
            options.append(WSManOption(name: Option.consoleModeStdin, value: "TRUE"))
        }
        options.append(WSManOption(name: Option.skipCmdShell, value: skipCmdShell ? "True" : "False"))
        let size = arguments.reduce(command.utf8.count) { $0 + $1.utf8.count + 32 }
        return WSMan.request(ctx, action: WSManAction.command, shellID: shellID, options: options,
                             bodyCapacity: 80 + size) { w in
            w.open("rsp:CommandLine")
            w.element("rsp:Command", text: command)
            for argument in arguments {
                w.element("rsp:Arguments", text: argument)
            }
            w.close("rsp:CommandLine")
        }
    }

    /// Send: writes bytes to the command's stdin; `end` closes it.
    public static func send(_ ctx: WSManEndpointContext, shellID: String, commandID: String, stdin: Data,
                            end: Bool, stream: String = "stdin") -> WSManRequest {
        let encoded = stdin.base64EncodedString()
        return WSMan.request(ctx, action: WSManAction.send, shellID: shellID, commandID: commandID,
                             bodyCapacity: 160 + encoded.utf8.count) { w in
            w.open("rsp:Send")
            w.element("rsp:Stream", [("CommandId", commandID), ("End", end ? "True" : "False"), ("Name", stream)],
                      text: encoded)
            w.close("rsp:Send")
        }
    }

    /// Receive: long-polls for stdout/stderr and the command state, up to the OperationTimeout.
    /// - Parameter keepAlive: `WSMAN_CMDSHELL_OPTION_KEEPALIVE=True`, which keeps the shell from
    ///   idling out while we poll.
    public static func receive(_ ctx: WSManEndpointContext, shellID: String, commandID: String,
                               keepAlive: Bool = true, streams: String = "stdout stderr") -> WSManRequest {
        let options = keepAlive ? [WSManOption(name: Option.keepAlive, value: "True")] : []
        return WSMan.request(ctx, action: WSManAction.receive, shellID: shellID, commandID: commandID,
                             options: options, bodyCapacity: 120) { w in
            w.open("rsp:Receive")
            w.element("rsp:DesiredStream", [("CommandId", commandID)], text: streams)
            w.close("rsp:Receive")
        }
    }

    /// Signal: terminate / Ctrl+C / Ctrl+Break for a command.
    public static func signal(_ ctx: WSManEndpointContext, shellID: String, commandID: String,
                              code: SignalCode) -> WSManRequest {
        WSMan.request(ctx, action: WSManAction.signal, shellID: shellID, commandID: commandID,
                      bodyCapacity: 200) { w in
            w.open("rsp:Signal", [("CommandId", commandID)])
            w.element("rsp:Code", text: code.uri)
            w.close("rsp:Signal")
        }
    }

    /// WS-Transfer Get of the shell: its properties. Any request on a shell resets its idle
    /// timer on the host, and this one starts nothing, so it serves as the session keep-alive.
    public static func getShell(_ ctx: WSManEndpointContext, shellID: String) -> WSManRequest {
        WSMan.request(ctx, action: WSManAction.get, shellID: shellID)
    }

    /// Delete: closes the shell and every process in it.
    public static func deleteShell(_ ctx: WSManEndpointContext, shellID: String) -> WSManRequest {
        WSMan.request(ctx, action: WSManAction.delete, shellID: shellID)
    }

    /// How many stdin bytes fit into one Send under `ctx.maxEnvelopeSize`: the base64 payload
    /// (4 bytes per 3) must fit beside the header and framing, for which 4 KiB are kept back.
    public static func maxStdinBytesPerSend(_ ctx: WSManEndpointContext) -> Int {
        let available = max(ctx.maxEnvelopeSize - 4096, 1024)
        return available / 4 * 3
    }
}

extension XMLWriter {
    /// `rsp:Environment` with one `rsp:Variable` per entry, or nothing when there is none: the same in
    /// a Create request and in the server's description of the shell.
    mutating func shellEnvironment(_ variables: [(name: String, value: String)]) {
        guard !variables.isEmpty else { return }
        open("rsp:Environment")
        for variable in variables {
            element("rsp:Variable", [("Name", variable.name)], text: variable.value)
        }
        close("rsp:Environment")
    }
}
