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

    /// The object `run --format jsonl` prints, one line per host.
    public func jsonLine() -> String {
        var object: [String: Any] = [
            "host": host,
            "route": route,
            "status": status.rawValue,
            "exit_code": exitCode.map { NSNumber(value: $0) } ?? NSNull(),
            "stdout": stdout,
            "stderr": stderr,
            "duration_ms": Int((duration * 1000).rounded()),
        ]
        if let error {
            object["error"] = ["kind": error.kind.rawValue, "message": error.message, "code": error.code ?? NSNull()] as [String: Any]
        } else {
            object["error"] = NSNull()
        }
        if let iteration { object["iteration"] = iteration }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
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
