import ASCIIText
import Foundation
import WSMan

/// A very small `powershell.exe`: command-line parsing like Windows PowerShell 5.1 (`-NoProfile`,
/// `-NonInteractive`, `-ExecutionPolicy X`, `-EncodedCommand B64`, `-Command text|-`, bare script text,
/// abbreviations such as `-nop`, `-enc`, `-c`) and a line-by-line script runner that knows
/// `Write-Output`/`echo`, `Write-Host`, `Write-Error`, `throw`, `Start-Sleep`, `exit N`, `$env:NAME`,
/// `$var = value`, string and number expressions, and the native commands of `CmdInterpreter`.
///
/// Errors go to stderr as CLIXML (`#< CLIXML` then `<Objs>` with `<S S="Error">` lines), which is what
/// powershell.exe writes when its stderr is not a console — the form pywinrm, pypsrp and Ansible decode.
/// Output lines end in CRLF; `Write-Host` lines end in LF, as recorded from Windows (fixture `winrs_send`).
enum PowerShellInterpreter {
    struct Invocation: Equatable {
        enum Source: Equatable {
            case script(String)
            case scriptFromStdin
            /// `-EncodedCommand` whose value is not Base64 of UTF-16LE text.
            case badEncoding
        }
        var source: Source
        var noProfile = false
    }

    static let nativeCommands: Set<String> = ["hostname", "whoami", "ipconfig", "big", "cmd", "timeout", "ver", "sleep"]

    /// Parses a `powershell[.exe] ...` command line; nil when the line does not start powershell.
    static func invocation(_ commandLine: String) -> Invocation? {
        let words = splitArguments(commandLine)
        guard let first = words.first else { return nil }
        let program = CmdInterpreter.programName(first)
        guard program == "powershell" || program == "pwsh" else { return nil }
        var noProfile = false
        var index = 1
        while index < words.count {
            let word = words[index]
            guard word.hasPrefix("-") || word.hasPrefix("/") else {
                // The rest of the line is the command text.
                return Invocation(source: .script(words[index...].joined(separator: " ")), noProfile: noProfile)
            }
            if word == "-" { return Invocation(source: .scriptFromStdin, noProfile: noProfile) }
            let name = String(word.dropFirst()).lowercased()
            let value = index + 1 < words.count ? words[index + 1] : nil
            switch true {
            case matches(name, "noprofile", shortest: 3): noProfile = true
            case matches(name, "noninteractive", shortest: 4),
                 matches(name, "nologo", shortest: 4),
                 matches(name, "noexit", shortest: 4),
                 name == "sta", name == "mta":
                break
            case name == "ep", matches(name, "executionpolicy", shortest: 2),
                 matches(name, "inputformat", shortest: 2), name == "if",
                 matches(name, "outputformat", shortest: 2), name == "of",
                 matches(name, "windowstyle", shortest: 1),
                 matches(name, "version", shortest: 1):
                index += 1
            case name == "e", name == "ec", matches(name, "encodedcommand", shortest: 3):
                guard let encoded = value else { return Invocation(source: .badEncoding, noProfile: noProfile) }
                guard let script = decodeEncodedCommand(encoded) else {
                    return Invocation(source: .badEncoding, noProfile: noProfile)
                }
                return Invocation(source: .script(script), noProfile: noProfile)
            case matches(name, "command", shortest: 1):
                guard index + 1 < words.count else { return Invocation(source: .scriptFromStdin, noProfile: noProfile) }
                if words[index + 1] == "-" { return Invocation(source: .scriptFromStdin, noProfile: noProfile) }
                return Invocation(source: .script(words[(index + 1)...].joined(separator: " ")), noProfile: noProfile)
            default:
                // Unknown parameters are taken as the start of the command text, as powershell.exe does.
                return Invocation(source: .script(words[index...].joined(separator: " ")), noProfile: noProfile)
            }
            index += 1
        }
        // No command: powershell.exe reads commands from stdin.
        return Invocation(source: .scriptFromStdin, noProfile: noProfile)
    }

    private static func matches(_ given: String, _ full: String, shortest: Int) -> Bool {
        given.count >= shortest && full.hasPrefix(given)
    }

    static func decodeEncodedCommand(_ text: String) -> String? {
        guard let data = Data(base64Encoded: text), data.count % 2 == 0 else { return nil }
        return String(data: data, encoding: .utf16LittleEndian)
    }

    static func start(_ invocation: Invocation, context: SimMachineContext) -> SimProcessStart {
        switch invocation.source {
        case .script(let script):
            return .run(run(script: script, context: context))
        case .scriptFromStdin:
            // Clients feed long scripts as one `& ([scriptblock]::Create(...FromBase64String('…')))`
            // line (WSMan.PowerShell.stdinScript); PowerShell evaluates that to the script itself.
            return .scriptFromStdin { stdin in
                let script = PowerShell.decodeScript(command: "powershell", arguments: ["-Command", "-"], stdin: Data(stdin.utf8))
                return run(script: script ?? stdin, context: context)
            }
        case .badEncoding:
            var run = SimProcessRun()
            run.write("Cannot process the command because the value specified with -EncodedCommand is not properly encoded. The value must be Base64 encoded.\r\n", to: .stderr)
            run.exitCode = 1
            return .run(run)
        }
    }

    // MARK: - Running a script

    struct ErrorRecord {
        var lines: [String]
    }

    private struct State {
        var context: SimMachineContext
        var run = SimProcessRun()
        var variables: [String: String] = [:]
        var errors: [ErrorRecord] = []
        var lastFailed = false
        var explicitExit: Int32?
    }

    static func run(script: String, context: SimMachineContext) -> SimProcessRun {
        var state = State(context: context)
        state.variables["lastexitcode"] = "0"
        for statement in splitStatements(script) {
            execute(statement, state: &state)
            if state.explicitExit != nil { break }
        }
        if !state.errors.isEmpty {
            state.run.write(clixml(state.errors), to: .stderr)
        }
        state.run.exitCode = state.explicitExit ?? (state.lastFailed ? 1 : 0)
        return state.run
    }

    struct Statement: Equatable {
        var text: String
        var line: Int
        var column: Int
    }

    /// Splits on newlines and `;` outside quotes; drops blank statements and `#` comments.
    static func splitStatements(_ script: String) -> [Statement] {
        var statements: [Statement] = []
        var current = ""
        var quote: Character?
        var line = 1, column = 1, startLine = 1, startColumn = 1
        func flush() {
            let trimmed = current.trimmingASCIIWhitespace
            if !trimmed.isEmpty && !trimmed.hasPrefix("#") {
                let leading = current.prefix { $0 == " " || $0 == "\t" }.count
                statements.append(Statement(text: trimmed, line: startLine, column: startColumn + leading))
            }
            current = ""
        }
        for c in script {
            if let q = quote {
                current.append(c)
                if c == q { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
                current.append(c)
            } else if c == ";" || c == "\n" || c == "\r\n" {
                flush()
                if c == ";" { column += 1; startLine = line; startColumn = column; continue }
                line += 1; column = 1; startLine = line; startColumn = 1
                continue
            } else if c == "\r" {
                continue
            } else {
                current.append(c)
            }
            column += 1
        }
        flush()
        return statements
    }

    struct Token: Equatable {
        var value: String
        var quoted: Bool
        var raw: String
    }

    private static func execute(_ statement: Statement, state: inout State) {
        let text = statement.text
        // Assignment: $name = expression
        if text.hasPrefix("$"), let eq = text.firstIndex(of: "=") {
            let name = text[text.index(after: text.startIndex)..<eq].trimmingASCIIWhitespace
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }) {
                let rhs = String(text[text.index(after: eq)...]).trimmingASCIIWhitespace
                let value = tokenize(rhs, state: state).map(\.value).joined(separator: " ")
                if name.lowercased().hasPrefix("env:") {
                    state.context.shellEnvironment[String(name.dropFirst(4))] = value
                } else {
                    state.variables[name.lowercased()] = value
                }
                state.lastFailed = false
                return
            }
        }
        let tokens = tokenize(text, state: state)
        guard let first = tokens.first else { return }
        if first.quoted || first.raw.hasPrefix("$") || Double(first.raw) != nil {
            // An expression: its value goes to the output.
            state.run.write(tokens.map(\.value).joined(separator: " ") + "\r\n")
            state.lastFailed = false
            return
        }
        let name = first.value.lowercased()
        let args = Array(tokens.dropFirst())
        switch name {
        case "write-output", "echo", "write":
            for arg in args where !(arg.raw.hasPrefix("-") && !arg.quoted) {
                state.run.write(arg.value + "\r\n")
            }
            state.lastFailed = false
        case "write-host":
            var words: [String] = []
            var newline = true
            var i = 0
            while i < args.count {
                let arg = args[i]
                let lower = arg.raw.lowercased()
                if !arg.quoted && lower.hasPrefix("-") {
                    if lower == "-nonewline" { newline = false }
                    else if ["-foregroundcolor", "-backgroundcolor", "-separator", "-object"].contains(lower) {
                        if lower == "-object", i + 1 < args.count { words.append(args[i + 1].value) }
                        i += 1
                    }
                } else {
                    words.append(arg.value)
                }
                i += 1
            }
            state.run.write(words.joined(separator: " ") + (newline ? "\n" : ""))
            state.lastFailed = false
        case "start-sleep", "sleep":
            var seconds = 0.0
            var i = 0
            var scale = 1.0
            while i < args.count {
                let lower = args[i].raw.lowercased()
                if lower.hasPrefix("-m") { scale = 0.001 }
                else if lower.hasPrefix("-s") { scale = 1 }
                else if let v = Double(args[i].value) { seconds = v * scale }
                i += 1
            }
            state.run.wait(seconds: seconds)
            state.lastFailed = false
        case "exit":
            let code = args.first.flatMap { Int32($0.value) } ?? 0
            state.explicitExit = code
        case "write-error":
            let message = args.filter { !($0.raw.hasPrefix("-") && !$0.quoted) }.map(\.value).joined(separator: " ")
            state.errors.append(ErrorRecord(lines: [
                "\(text) : \(message)",
                "    + CategoryInfo          : NotSpecified: (:) [Write-Error], WriteErrorException",
                "    + FullyQualifiedErrorId : Microsoft.PowerShell.Commands.WriteErrorException",
                " ",
            ]))
            state.lastFailed = true
        case "throw":
            let message = args.isEmpty ? "ScriptHalted" : args.map(\.value).joined(separator: " ")
            state.errors.append(ErrorRecord(lines: [message] + position(statement) + [
                "    + CategoryInfo          : OperationStopped: (\(message):String) [], RuntimeException",
                "    + FullyQualifiedErrorId : \(message)",
                " ",
            ]))
            state.lastFailed = true
            state.explicitExit = 1
        default:
            let program = CmdInterpreter.programName(first.value)
            if nativeCommands.contains(program) {
                let line = ([first.value] + args.map(\.value)).joined(separator: " ")
                let step = CmdInterpreter.runSimple(line, context: state.context)
                state.run.append(step.run)
                state.variables["lastexitcode"] = String(step.run.exitCode)
                state.lastFailed = step.run.exitCode != 0
            } else {
                let word = first.value
                state.errors.append(ErrorRecord(lines: [
                    "\(word) : The term '\(word)' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.",
                ] + position(statement) + [
                    "    + CategoryInfo          : ObjectNotFound: (\(word):String) [], CommandNotFoundException",
                    "    + FullyQualifiedErrorId : CommandNotFoundException",
                    " ",
                ]))
                state.lastFailed = true
            }
        }
    }

    private static func position(_ statement: Statement) -> [String] {
        let firstWord = statement.text.prefix { $0 != " " }
        return [
            "At line:\(statement.line) char:\(statement.column)",
            "+ \(statement.text)",
            "+ " + String(repeating: "~", count: max(1, firstWord.count)),
        ]
    }

    /// Words of a statement: '...' literal ('' is a quote), "..." expandable (backtick escapes),
    /// bare words expand `$env:NAME` and `$name`.
    private static func tokenize(_ text: String, state: State) -> [Token] {
        var tokens: [Token] = []
        var chars = Array(text)[...]
        while let c = chars.first {
            if c == " " || c == "\t" { chars = chars.dropFirst(); continue }
            var raw = ""
            var value = ""
            var quoted = false
            if c == "'" {
                quoted = true
                raw.append(c)
                chars = chars.dropFirst()
                while let d = chars.first {
                    raw.append(d); chars = chars.dropFirst()
                    if d == "'" {
                        if chars.first == "'" { value.append("'"); raw.append("'"); chars = chars.dropFirst(); continue }
                        break
                    }
                    value.append(d)
                }
            } else if c == "\"" {
                quoted = true
                raw.append(c)
                chars = chars.dropFirst()
                var inner = ""
                while let d = chars.first {
                    raw.append(d); chars = chars.dropFirst()
                    if d == "`", let e = chars.first {
                        raw.append(e); chars = chars.dropFirst()
                        switch e {
                        case "n": inner.append("\n")
                        case "r": inner.append("\r")
                        case "t": inner.append("\t")
                        case "$": inner.append("\u{1}")  // protected dollar, restored after expansion
                        default: inner.append(e)
                        }
                        continue
                    }
                    if d == "\"" { break }
                    inner.append(d)
                }
                value = expand(inner, state: state).replacingOccurrences(of: "\u{1}", with: "$")
            } else {
                while let d = chars.first, d != " ", d != "\t" {
                    raw.append(d); chars = chars.dropFirst()
                }
                value = expand(raw, state: state)
            }
            tokens.append(Token(value: value, quoted: quoted, raw: raw))
        }
        return tokens
    }

    private static func expand(_ text: String, state: State) -> String {
        guard text.contains("$") else { return text }
        var result = ""
        var chars = Array(text)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            guard c == "$" else { result.append(c); continue }
            var name = ""
            while let d = chars.first, d.isLetter || d.isNumber || d == "_" || d == ":" {
                name.append(d); chars = chars.dropFirst()
            }
            if name.isEmpty { result.append("$"); continue }
            let lower = name.lowercased()
            if lower.hasPrefix("env:") {
                result += state.context.environmentValue(String(name.dropFirst(4))) ?? ""
            } else if lower == "true" {
                result += "True"
            } else if lower == "false" {
                result += "False"
            } else if lower == "null" {
                result += ""
            } else {
                result += state.variables[lower] ?? ""
            }
        }
        return result
    }

    /// The CLIXML error document powershell.exe writes to a redirected stderr.
    static func clixml(_ errors: [ErrorRecord]) -> String {
        var xml = "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">"
        xml += "<Obj S=\"progress\" RefId=\"0\"><TN RefId=\"0\"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><I64 N=\"SourceId\">1</I64><PR N=\"Record\"><AV>Preparing modules for first use.</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj>"
        for error in errors {
            for line in error.lines {
                xml += "<S S=\"Error\">\(clixmlEscape(line))_x000D__x000A_</S>"
            }
        }
        xml += "</Objs>"
        return xml
    }

    static func clixmlEscape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "_": out += "_"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "_x%04X_", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// Windows command-line splitting (CommandLineToArgvW, simplified): blanks separate words, double
    /// quotes group and are removed.
    static func splitArguments(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inQuotes = false
        var hasWord = false
        for c in line {
            if c == "\"" { inQuotes.toggle(); hasWord = true; continue }
            if !inQuotes && (c == " " || c == "\t") {
                if hasWord { words.append(current); current = ""; hasWord = false }
                continue
            }
            current.append(c)
            hasWord = true
        }
        if hasWord { words.append(current) }
        return words
    }
}
