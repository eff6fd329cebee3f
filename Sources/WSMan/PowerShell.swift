import Foundation

/// A process to start with `WinRS.command` (and, when `stdin` is set, to feed with `WinRS.send`).
public struct CommandInvocation: Sendable, Equatable {
    public var command: String
    public var arguments: [String]
    /// Bytes to send to stdin, ending with `end: true`; nil when nothing needs sending.
    public var stdin: Data?

    public init(command: String, arguments: [String], stdin: Data? = nil) {
        self.command = command
        self.arguments = arguments
        self.stdin = stdin
    }

    /// `WINRS_CONSOLEMODE_STDIN` to request: a console when nothing is piped in, a pipe when
    /// the script arrives on stdin (as Ansible does).
    public var consoleModeStdin: Bool { stdin == nil }

    /// The command line WinRS hands to cmd.exe: command and arguments joined by spaces.
    public var commandLine: String {
        ([command] + arguments).joined(separator: " ")
    }
}

/// Running PowerShell through a WinRS cmd shell.
public enum PowerShell {
    /// cmd.exe refuses command lines longer than this (pywinrm#87, #184).
    public static let maxCommandLineLength = 8191
    /// WinRS runs the command line as `cmd.exe /c <line>`; the prefix counts against the limit.
    static let cmdPrefix = "cmd.exe /c "

    /// `-EncodedCommand` argument: base64 of the script's UTF-16LE bytes.
    public static func encodedCommand(_ script: String) -> String {
        var bytes = Data()
        bytes.reserveCapacity(script.utf16.count * 2)
        for unit in script.utf16 {
            bytes.append(UInt8(truncatingIfNeeded: unit))
            bytes.append(UInt8(truncatingIfNeeded: unit >> 8))
        }
        return bytes.base64EncodedString()
    }

    /// How to run `script`:
    /// - normally `powershell -NoProfile -NonInteractive -EncodedCommand <base64>`;
    /// - when `cmd.exe /c` + that line would exceed 8191 characters,
    ///   `powershell -NoProfile -NonInteractive -Command -` with the script on stdin
    ///   (see `stdinScript` for the exact bytes and why).
    public static func invocation(for script: String) -> CommandInvocation {
        let encoded = CommandInvocation(command: "powershell",
                                        arguments: ["-NoProfile", "-NonInteractive", "-EncodedCommand", encodedCommand(script)])
        if cmdPrefix.utf16.count + encoded.commandLine.utf16.count <= maxCommandLineLength {
            return encoded
        }
        return CommandInvocation(command: "powershell", arguments: ["-NoProfile", "-NonInteractive", "-Command", "-"],
                                 stdin: stdinScript(script))
    }

    /// The stdin bytes that make `powershell -Command -` run `script` as a whole.
    ///
    /// `-Command -` does not read stdin as a script: it executes it statement by statement like
    /// an interactive prompt (PowerShell/PowerShell#3223, #2068). A multi-line statement runs only
    /// after an empty line, an empty line *inside* a block ends the block early, `else` or `{` on
    /// their own line break, and non-ASCII text is decoded with the console input code page.
    /// So the script travels as one line of ASCII that rebuilds and invokes it:
    ///
    ///     & ([scriptblock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('<UTF-8 script, base64>'))))
    ///
    /// followed by CRLF and an empty CRLF line (so the statement is executed even if the host is
    /// waiting for more input), then end of stdin. The script keeps its exact text, `exit N`
    /// still sets the process exit code, and the bytes are the same under every code page.
    /// `decodeScript` reverses this (for the simulator and for logs).
    public static func stdinScript(_ script: String) -> Data {
        let payload = Data(script.utf8).base64EncodedString()
        return Data((stdinPrefix + payload + stdinSuffix + "\r\n\r\n").utf8)
    }

    static let stdinPrefix =
        "& ([scriptblock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('"
    static let stdinSuffix = "'))))"

    /// The script a PowerShell invocation runs, for the server side and for display:
    /// decodes `-EncodedCommand` (also `-enc`, `-e`, any case) and the `-Command -` stdin form
    /// of `stdinScript` (other stdin text is returned as UTF-8). `command` may hold the whole
    /// command line (`powershell -EncodedCommand …` with no separate arguments).
    public static func decodeScript(command: String, arguments: [String], stdin: Data?) -> String? {
        let tokens = command.split(separator: " ").map(String.init) + arguments
        guard let executable = tokens.first?.lowercased(),
              executable.hasSuffix("powershell") || executable.hasSuffix("powershell.exe")
                || executable.hasSuffix("pwsh") || executable.hasSuffix("pwsh.exe") else {
            return nil
        }
        var index = 1
        while index < tokens.count {
            let token = tokens[index].lowercased()
            let next = index + 1 < tokens.count ? tokens[index + 1] : nil
            if ["-encodedcommand", "-enc", "-e", "-ec"].contains(token), let next = next {
                guard let bytes = Data(base64Encoded: next), bytes.count % 2 == 0 else { return nil }
                return String(decoding: stride(from: 0, to: bytes.count, by: 2).map {
                    UInt16(bytes[bytes.startIndex + $0]) | UInt16(bytes[bytes.startIndex + $0 + 1]) << 8
                }, as: UTF16.self)
            }
            if ["-command", "-c"].contains(token), let next = next {
                if next == "-" {
                    guard let stdin = stdin else { return nil }
                    return scriptFromStdin(stdin)
                }
                return tokens[(index + 1)...].joined(separator: " ")
            }
            index += 1
        }
        return nil
    }

    static func scriptFromStdin(_ stdin: Data) -> String {
        let text = String(decoding: stdin, as: UTF8.self)
        let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix(stdinPrefix), line.hasSuffix(stdinSuffix),
           let payload = Data(base64Encoded: String(line.dropFirst(stdinPrefix.count).dropLast(stdinSuffix.count))) {
            return String(decoding: payload, as: UTF8.self)
        }
        return text
    }
}

extension WinRS {
    /// Command for a prepared invocation (e.g. `PowerShell.invocation(for:)`): stdin is a console
    /// unless the invocation pipes data in. Send `invocation.stdin` afterwards with `end: true`.
    public static func command(_ ctx: WSManEndpointContext, shellID: String, invocation: CommandInvocation,
                               skipCmdShell: Bool = false) -> WSManRequest {
        command(ctx, shellID: shellID, command: invocation.command, arguments: invocation.arguments,
                skipCmdShell: skipCmdShell, consoleModeStdin: invocation.consoleModeStdin)
    }
}
