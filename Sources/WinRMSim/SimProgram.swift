import Foundation

/// Output stream of a simulated process.
enum SimOutputStream: String, Sendable {
    case stdout
    case stderr
}

/// Bytes a simulated process writes, `at` seconds after it started.
struct SimOutputChunk: Equatable, Sendable {
    var at: Double
    var stream: SimOutputStream
    var data: Data
}

/// The whole life of a simulated process, decided when it starts: what it writes when, and when it
/// exits with which code. Pure data, so the interpreters are pure functions and easy to test.
struct SimProcessRun: Equatable, Sendable {
    var chunks: [SimOutputChunk] = []
    var duration: Double = 0
    var exitCode: Int32 = 0

    var stdout: Data { chunks.filter { $0.stream == .stdout }.reduce(into: Data()) { $0 += $1.data } }
    var stderr: Data { chunks.filter { $0.stream == .stderr }.reduce(into: Data()) { $0 += $1.data } }

    mutating func write(_ text: String, to stream: SimOutputStream = .stdout) {
        write(Data(text.utf8), to: stream)
    }

    mutating func write(_ data: Data, to stream: SimOutputStream = .stdout) {
        guard !data.isEmpty else { return }
        chunks.append(SimOutputChunk(at: duration, stream: stream, data: data))
    }

    mutating func wait(seconds: Double) {
        if seconds > 0 { duration += seconds }
    }

    /// Appends a process that starts when this one is at its current `duration`.
    mutating func append(_ other: SimProcessRun) {
        for chunk in other.chunks {
            var shifted = chunk
            shifted.at += duration
            chunks.append(shifted)
        }
        duration += other.duration
        exitCode = other.exitCode
    }
}

/// How a command starts: either its run is known now, or it first reads its script from stdin
/// (`powershell -Command -`) until the client sends `End="true"`.
enum SimProcessStart {
    case run(SimProcessRun)
    case scriptFromStdin((String) -> SimProcessRun)
}

/// What a process can know about the machine and the user it runs as.
struct SimMachineContext: Sendable {
    var hostName: String
    var address: String
    /// Domain of the authenticated user as Windows prints it (`WINFLEET`), or the host name for local accounts.
    var userDomain: String
    var userName: String
    var workingDirectory: String?
    /// Variables the shell was created with (`rsp:Environment`); they override the machine's.
    var shellEnvironment: [String: String] = [:]

    /// `whoami` output: `domain\user`, lower-case, as Windows prints it.
    var whoami: String { "\(userDomain)\\\(userName)".lowercased() }

    var currentDirectory: String { workingDirectory ?? "C:\\Users\\\(userName)" }

    /// The environment `cmd.exe` sees (names compare case-insensitively on Windows).
    var environment: [String: String] {
        var env: [String: String] = [
            "ALLUSERSPROFILE": "C:\\ProgramData",
            "APPDATA": "C:\\Users\\\(userName)\\AppData\\Roaming",
            "COMPUTERNAME": hostName,
            "ComSpec": "C:\\Windows\\system32\\cmd.exe",
            "LOCALAPPDATA": "C:\\Users\\\(userName)\\AppData\\Local",
            "NUMBER_OF_PROCESSORS": "2",
            "OS": "Windows_NT",
            "Path": "C:\\Windows\\system32;C:\\Windows;C:\\Windows\\System32\\Wbem;C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\",
            "PATHEXT": ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC",
            "PROCESSOR_ARCHITECTURE": "AMD64",
            "ProgramData": "C:\\ProgramData",
            "ProgramFiles": "C:\\Program Files",
            "PROMPT": "$P$G",
            "PUBLIC": "C:\\Users\\Public",
            "SystemDrive": "C:",
            "SystemRoot": "C:\\Windows",
            "TEMP": "C:\\Users\\\(userName)\\AppData\\Local\\Temp",
            "TMP": "C:\\Users\\\(userName)\\AppData\\Local\\Temp",
            "USERDOMAIN": userDomain,
            "USERNAME": userName,
            "USERPROFILE": "C:\\Users\\\(userName)",
            "windir": "C:\\Windows",
        ]
        for (name, value) in shellEnvironment {
            if let existing = env.keys.first(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) {
                env[existing] = nil
            }
            env[name] = value
        }
        return env
    }

    func environmentValue(_ name: String) -> String? {
        environment.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}
