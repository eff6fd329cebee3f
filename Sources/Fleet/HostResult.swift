import Foundation
import WSMan
import WinRMTransport

/// How a host's run ended (the `status` of `run --format jsonl`, a contract).
public enum HostStatus: String, Sendable, Codable, CaseIterable {
    /// Exit code 0.
    case ok
    /// Ran, exited non-zero.
    case failed
    /// Could not run.
    case error
    case timeout
    case cancelled
}

/// One host's outcome of one command.
public struct HostResult: Sendable, Equatable {
    public var host: String
    public var route: String
    public var status: HostStatus
    public var exitCode: Int32?
    public var stdout: String
    public var stderr: String
    public var error: WinRMError?
    public var startedAt: Date
    public var duration: TimeInterval
    public var iteration: Int?

    public init(host: String, route: String, status: HostStatus, exitCode: Int32? = nil, stdout: String = "",
                stderr: String = "", error: WinRMError? = nil, startedAt: Date, duration: TimeInterval, iteration: Int? = nil) {
        self.host = host
        self.route = route
        self.status = status
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
        self.error = error
        self.startedAt = startedAt
        self.duration = duration
        self.iteration = iteration
    }

    /// The object `run --format jsonl` prints, one line per host (keys sorted, as a contract).
    /// Written by hand: JSONSerialization is the hot spot of a 1,000-host run on Linux.
    public func jsonLine() -> String {
        var out = "{\"duration_ms\":\(Int((duration * 1000).rounded())),\"error\":"
        if let error {
            out += "{\"code\":" + (error.code.map(JSONText.quoted) ?? "null")
            out += ",\"kind\":" + JSONText.quoted(error.kind.rawValue)
            out += ",\"message\":" + JSONText.quoted(error.message) + "}"
        } else {
            out += "null"
        }
        out += ",\"exit_code\":" + (exitCode.map { String($0) } ?? "null")
        out += ",\"host\":" + JSONText.quoted(host)
        if let iteration { out += ",\"iteration\":\(iteration)" }
        out += ",\"route\":" + JSONText.quoted(route)
        out += ",\"status\":" + JSONText.quoted(status.rawValue)
        out += ",\"stderr\":" + JSONText.quoted(stderr)
        out += ",\"stdout\":" + JSONText.quoted(stdout)
        return out + "}"
    }
}

/// Output bytes to text: UTF-8 after joining (codepage 65001), PowerShell's CLIXML stderr made readable.
public enum OutputText {
    public static func decode(_ data: Data) -> String {
        String(decoding: data, as: UTF8.self)
    }

    public static func decodeStderr(_ data: Data, powerShell: Bool) -> String {
        let text = decode(data)
        return powerShell ? PowerShell.cleanCLIXML(text) : text
    }
}

/// JSON string literals (RFC 8259): quotes, backslashes and control characters escaped.
public enum JSONText {
    public static func quoted(_ text: String) -> String {
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count + 2)
        out.append(0x22)
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for byte in text.utf8 {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, 0x6E]
            case 0x0D: out += [0x5C, 0x72]
            case 0x09: out += [0x5C, 0x74]
            case 0x00..<0x20:
                out += [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: out.append(byte)
            }
        }
        out.append(0x22)
        return String(decoding: out, as: UTF8.self)
    }
}
