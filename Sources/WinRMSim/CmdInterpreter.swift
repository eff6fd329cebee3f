import ASCIIText
import Foundation
import WSMan

/// A small `cmd.exe`: enough of its semantics for fleet tests. WinRS hands us `rsp:Command` plus
/// `rsp:Arguments`; they are joined with spaces as `winrshost.exe` does before it runs `cmd.exe /c`.
///
/// Commands: `hostname`, `echo`, `whoami`, `ipconfig`, `ver`, `set`, `cd`, `exit [/b] N`,
/// `sleep SECONDS` and `timeout /t N` (finish later), `big BYTES` (that many bytes of CRLF text),
/// `powershell ...` (see `PowerShellInterpreter`); `&`, `&&`, `||` chain commands; `%VAR%` expands.
/// Anything else fails like cmd.exe with exit code 9009.
enum CmdInterpreter {
    static func start(command: String, arguments: [String], context: SimMachineContext) -> SimProcessStart {
        let line = ([command] + arguments).filter { !$0.isEmpty }.joined(separator: " ")
        return start(commandLine: line, context: context)
    }

    static func start(commandLine: String, context: SimMachineContext) -> SimProcessStart {
        var line = commandLine.trimmingASCIIWhitespace
        if let inner = stripCmdPrefix(line) { line = inner }
        // A lone `powershell ... -Command -` reads its script from stdin; it must be the whole line.
        let segments = splitChain(expandVariables(line, context: context))
        if segments.count == 1, let ps = PowerShellInterpreter.invocation(segments[0].text),
           case .scriptFromStdin = ps.source {
            return PowerShellInterpreter.start(ps, context: context)
        }
        return .run(runChain(segments, context: context))
    }

    // MARK: - Chaining

    enum Joiner { case always, onSuccess, onFailure }

    struct Segment: Equatable {
        var text: String
        /// How this segment is joined to the one before it.
        var joiner: Joiner
    }

    /// Splits on `&`, `&&`, `||` outside double quotes. A `^` escapes the next character.
    static func splitChain(_ line: String) -> [Segment] {
        var segments: [Segment] = []
        var current = ""
        var joiner = Joiner.always
        var inQuotes = false
        var chars = Array(line)
        var i = 0
        func flush(next: Joiner) {
            segments.append(Segment(text: current, joiner: joiner))
            current = ""
            joiner = next
        }
        while i < chars.count {
            let c = chars[i]
            if c == "^" && !inQuotes && i + 1 < chars.count {
                current.append(chars[i + 1]); i += 2; continue
            }
            if c == "\"" { inQuotes.toggle() }
            if !inQuotes && c == "&" {
                if i + 1 < chars.count && chars[i + 1] == "&" { flush(next: .onSuccess); i += 2; continue }
                flush(next: .always); i += 1; continue
            }
            if !inQuotes && c == "|" && i + 1 < chars.count && chars[i + 1] == "|" {
                flush(next: .onFailure); i += 2; continue
            }
            current.append(c)
            i += 1
        }
        chars.removeAll()
        segments.append(Segment(text: current, joiner: joiner))
        return segments.filter { !$0.text.trimmingASCIIWhitespace.isEmpty || segments.count == 1 }
    }

    static func runChain(_ segments: [Segment], context: SimMachineContext) -> SimProcessRun {
        var run = SimProcessRun()
        var lastExit: Int32 = 0
        for (index, segment) in segments.enumerated() {
            if index > 0 {
                if segment.joiner == .onSuccess && lastExit != 0 { continue }
                if segment.joiner == .onFailure && lastExit == 0 { continue }
            }
            let step = runSimple(segment.text, context: context)
            run.append(step.run)
            lastExit = step.run.exitCode
            if step.exitsShell { break }
        }
        run.exitCode = lastExit
        return run
    }

    // MARK: - Simple commands

    struct Step {
        var run: SimProcessRun
        /// `exit` ends cmd.exe itself, skipping the rest of the chain.
        var exitsShell = false
    }

    static func runSimple(_ text: String, context: SimMachineContext) -> Step {
        // Leading blanks go; trailing ones stay (`echo a & echo b` prints "a " like cmd.exe).
        let trimmed = String(text.drop { $0 == " " || $0 == "\t" })
        var run = SimProcessRun()
        guard !trimmed.trimmingASCIIWhitespace.isEmpty else { return Step(run: run) }
        let (name, rest) = splitCommandName(trimmed)
        let program = programName(name)

        // `echo.` and `echo:` print an empty line; `echo` alone reports the echo state.
        if program.hasPrefix("echo") && (program == "echo." || program == "echo:") {
            run.write("\r\n")
            return Step(run: run)
        }
        switch program {
        case "echo":
            if rest.trimmingASCIIWhitespace.isEmpty {
                run.write("ECHO is on.\r\n")
            } else {
                run.write(rest + "\r\n")
            }
        case "hostname":
            run.write(context.hostName + "\r\n")
        case "whoami":
            run.write(context.whoami + "\r\n")
        case "ipconfig":
            run.write(ipconfigOutput(context))
        case "ver":
            run.write("\r\nMicrosoft Windows [Version 10.0.20348.2340]\r\n")
        case "cd", "chdir":
            run.write(context.currentDirectory + "\r\n")
        case "set":
            let filter = rest.trimmingASCIIWhitespace
            let lines = context.environment
                .filter { filter.isEmpty || $0.key.lowercased().hasPrefix(filter.lowercased()) }
                .sorted { $0.key.lowercased() < $1.key.lowercased() }
                .map { "\($0.key)=\($0.value)\r\n" }
            if lines.isEmpty {
                run.write("Environment variable \(filter) not defined\r\n", to: .stderr)
                run.exitCode = 1
            } else {
                run.write(lines.joined())
            }
        case "exit":
            var words = rest.split(separator: " ").map(String.init)
            if words.first?.lowercased() == "/b" { words.removeFirst() }
            run.exitCode = words.first.flatMap { Int32($0) } ?? 0
            return Step(run: run, exitsShell: true)
        case "sleep":
            guard let seconds = Double(rest.trimmingASCIIWhitespace), seconds >= 0 else {
                run.write("usage: sleep SECONDS\r\n", to: .stderr)
                run.exitCode = 1
                return Step(run: run)
            }
            run.wait(seconds: seconds)
        case "timeout":
            let words = rest.split(separator: " ").map { $0.lowercased() }
            var seconds: Double?
            if let t = words.firstIndex(of: "/t"), t + 1 < words.count { seconds = Double(words[t + 1]) }
            else if let first = words.first { seconds = Double(first) }
            guard let wait = seconds, wait >= 0 else {
                run.write("ERROR: Invalid syntax. Default option is not allowed more than '1' time(s).\r\nType \"TIMEOUT /?\" for usage.\r\n", to: .stderr)
                run.exitCode = 1
                return Step(run: run)
            }
            run.wait(seconds: wait)
        case "big":
            guard let count = Int(rest.trimmingASCIIWhitespace), count >= 0 else {
                run.write("usage: big BYTES\r\n", to: .stderr)
                run.exitCode = 1
                return Step(run: run)
            }
            run.write(bigOutput(bytes: count))
        case "powershell", "pwsh":
            if let invocation = PowerShellInterpreter.invocation(trimmed) {
                switch PowerShellInterpreter.start(invocation, context: context) {
                case .run(let psRun): run = psRun
                case .scriptFromStdin(let body): run = body("")
                }
            }
        default:
            run.write("'\(name)' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", to: .stderr)
            run.exitCode = 9009
        }
        return Step(run: run)
    }

    /// Splits the first word (honouring double quotes) from the rest. cmd.exe keeps the rest verbatim,
    /// minus the one separating blank.
    static func splitCommandName(_ text: String) -> (String, String) {
        var name = ""
        var inQuotes = false
        var index = text.startIndex
        while index < text.endIndex {
            let c = text[index]
            if c == "\"" { inQuotes.toggle(); index = text.index(after: index); continue }
            if !inQuotes && (c == " " || c == "\t") { break }
            // `echo.` and `echo:` are words of their own.
            name.append(c)
            index = text.index(after: index)
            if !inQuotes && name.lowercased() == "echo" && index < text.endIndex && (text[index] == "." || text[index] == ":") {
                name.append(text[index])
                index = text.index(after: index)
                break
            }
        }
        var rest = String(text[index...])
        if rest.first == " " || rest.first == "\t" { rest.removeFirst() }
        return (name, rest)
    }

    /// `C:\Windows\System32\HOSTNAME.EXE` → `hostname`.
    static func programName(_ word: String) -> String {
        var name = word.lowercased()
        if let slash = name.lastIndex(where: { $0 == "\\" || $0 == "/" }) {
            name = String(name[name.index(after: slash)...])
        }
        for suffix in [".exe", ".com"] where name.hasSuffix(suffix) {
            name.removeLast(suffix.count)
        }
        return name
    }

    /// Removes a leading `cmd.exe /c` (or `cmd /c`, `/C`, `/k`, with or without quotes/path).
    static func stripCmdPrefix(_ line: String) -> String? {
        let (first, rest) = splitCommandName(line)
        guard programName(first) == "cmd" else { return nil }
        let trimmed = rest.trimmingASCIIWhitespace
        let lower = trimmed.lowercased()
        for flag in ["/c", "/k", "/s /c", "/q /c"] where lower.hasPrefix(flag) {
            var inner = String(trimmed.dropFirst(flag.count)).trimmingASCIIWhitespace
            // `cmd /c "echo hi"`: cmd.exe strips one pair of outer quotes.
            if inner.count >= 2, inner.first == "\"", inner.last == "\"" {
                inner = String(inner.dropFirst().dropLast())
            }
            return inner
        }
        return nil
    }

    /// `%NAME%` expansion; unknown variables stay as written (cmd /c behaviour).
    static func expandVariables(_ line: String, context: SimMachineContext) -> String {
        guard line.contains("%") else { return line }
        var result = ""
        var rest = Substring(line)
        while let start = rest.firstIndex(of: "%") {
            result += rest[..<start]
            let afterStart = rest.index(after: start)
            guard let end = rest[afterStart...].firstIndex(of: "%") else {
                result += rest[start...]
                return result
            }
            let name = String(rest[afterStart..<end])
            if !name.isEmpty, let value = context.environmentValue(name) {
                result += value
                rest = rest[rest.index(after: end)...]
            } else {
                result += "%"
                rest = rest[afterStart...]
            }
        }
        result += rest
        return result
    }

    // MARK: - Canned outputs

    static func ipconfigOutput(_ context: SimMachineContext) -> String {
        [
            "",
            "Windows IP Configuration",
            "",
            "",
            "Ethernet adapter Ethernet0:",
            "",
            "   Connection-specific DNS Suffix  . : winfleet.test",
            "   Link-local IPv6 Address . . . . . : fe80::5efe:\(context.address)%4",
            "   IPv4 Address. . . . . . . . . . . : \(context.address)",
            "   Subnet Mask . . . . . . . . . . . : 255.0.0.0",
            "   Default Gateway . . . . . . . . . : 127.0.0.1",
            "",
        ].joined(separator: "\r\n")
    }

    /// Exactly `bytes` bytes of printable ASCII lines ending in CRLF (80 bytes a line), numbered so that
    /// a client that loses or repeats a chunk is caught.
    static func bigOutput(bytes: Int) -> Data {
        var data = Data(capacity: bytes)
        var line = 1
        let filler = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        while data.count < bytes {
            var text = Array(String(format: "%08d ", line).utf8)
            var f = line % filler.count
            while text.count < 78 { text.append(filler[f]); f = (f + 1) % filler.count }
            text += [13, 10]
            let room = bytes - data.count
            data.append(contentsOf: text.prefix(room))
            line += 1
        }
        return data
    }
}
