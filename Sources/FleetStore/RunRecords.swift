import Foundation

// The store's own value types. The run engine maps its models to these; the store imports nothing from it.
// Times are stored as whole milliseconds since the Unix epoch: a `Date` round-trips exactly when it is a
// whole millisecond (sub-millisecond parts are rounded).

/// How the command is run on the Windows host.
public enum RunKind: String, Sendable, Equatable, CaseIterable {
    case cmd
    case powershell
}

/// The life of a run. `interrupted` is set by the store when it finds a run left `running` by a process
/// that no longer exists.
public enum RunStatus: String, Sendable, Equatable, CaseIterable {
    case running
    case completed
    case cancelled
    case interrupted
    case failed
}

/// The outcome of a command on one host.
public enum HostResultStatus: String, Sendable, Equatable, CaseIterable {
    /// Ran and exited with 0.
    case ok
    /// Ran and exited non-zero.
    case failed
    /// Could not run (connection, authentication, WinRM fault...).
    case error
    case timeout
    case cancelled
}

/// What `beginRun` needs; the store assigns the id and sets the status to `running`.
public struct NewRun: Sendable, Equatable {
    public var command: String
    public var kind: RunKind
    /// The target expression as the operator typed it.
    public var target: String
    /// The local user name of the operator.
    public var who: String
    /// The host name of the machine running winfleet (used with `pid` to detect dead runs).
    public var controllerHost: String
    public var pid: Int32
    public var startedAt: Date
    public var hostCount: Int

    public init(command: String, kind: RunKind, target: String, who: String,
                controllerHost: String = RunStore.localHostName(), pid: Int32 = getpid(),
                startedAt: Date = Date(), hostCount: Int) {
        self.command = command
        self.kind = kind
        self.target = target
        self.who = who
        self.controllerHost = controllerHost
        self.pid = pid
        self.startedAt = startedAt
        self.hostCount = hostCount
    }
}

/// One run as stored.
public struct RunRecord: Sendable, Equatable {
    public var id: Int64
    public var command: String
    public var kind: RunKind
    public var target: String
    public var who: String
    public var controllerHost: String
    public var pid: Int32
    public var startedAt: Date
    /// Nil while running. For an interrupted run: the time of its last recorded result (or its start).
    public var finishedAt: Date?
    public var status: RunStatus
    public var hostCount: Int

    public init(id: Int64, command: String, kind: RunKind, target: String, who: String, controllerHost: String,
                pid: Int32, startedAt: Date, finishedAt: Date?, status: RunStatus, hostCount: Int) {
        self.id = id
        self.command = command
        self.kind = kind
        self.target = target
        self.who = who
        self.controllerHost = controllerHost
        self.pid = pid
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.status = status
        self.hostCount = hostCount
    }
}

/// The result of the command on one host (one iteration). Outputs are the bytes as received.
public struct HostResultRecord: Sendable, Equatable {
    public var runID: Int64
    public var host: String
    /// The route used ("direct", "proxy:squid1", ...), as the engine names it.
    public var route: String
    /// 1 for a plain run; counts up when the same command is repeated on the host.
    public var iteration: Int
    public var status: HostResultStatus
    /// Nil when the command did not run to an exit (error, timeout, cancelled). Windows exit codes are
    /// DWORDs, hence 64-bit.
    public var exitCode: Int64?
    public var stdout: Data
    public var stderr: Data
    /// The engine's error taxonomy name ("auth", "connect", "wsman_fault"...), nil when none.
    public var errorKind: String?
    public var errorMessage: String?
    /// A code from the peer (HTTP status, WSManFault code, Win32 error), as text.
    public var errorCode: String?
    public var startedAt: Date
    public var finishedAt: Date
    /// Measured by the engine on a monotonic clock, so not always `finishedAt - startedAt`.
    public var durationMs: Int64

    public init(runID: Int64, host: String, route: String, iteration: Int = 1, status: HostResultStatus,
                exitCode: Int64?, stdout: Data = Data(), stderr: Data = Data(),
                errorKind: String? = nil, errorMessage: String? = nil, errorCode: String? = nil,
                startedAt: Date, finishedAt: Date, durationMs: Int64) {
        self.runID = runID
        self.host = host
        self.route = route
        self.iteration = iteration
        self.status = status
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
        self.errorKind = errorKind
        self.errorMessage = errorMessage
        self.errorCode = errorCode
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.durationMs = durationMs
    }

    /// stdout decoded as UTF-8, invalid bytes replaced.
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// stderr decoded as UTF-8, invalid bytes replaced.
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// The kind of a session event. An open set: the engine may record kinds this list does not name.
public struct SessionEventKind: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    public static let authOK: SessionEventKind = "auth_ok"
    public static let affinityLost: SessionEventKind = "affinity_lost"
    public static let reconnect: SessionEventKind = "reconnect"
    public static let shellReopened: SessionEventKind = "shell_reopened"
    public static let quota: SessionEventKind = "quota"
}

/// Something that happened to a host session, within a run or outside one (`runID` nil).
public struct SessionEventRecord: Sendable, Equatable {
    public var runID: Int64?
    public var host: String
    public var at: Date
    public var kind: SessionEventKind
    public var detail: String

    public init(runID: Int64?, host: String, at: Date, kind: SessionEventKind, detail: String = "") {
        self.runID = runID
        self.host = host
        self.at = at
        self.kind = kind
        self.detail = detail
    }
}

/// Number of recorded host results of a run, per status (every iteration counts).
public struct ResultCounts: Sendable, Equatable {
    public var ok: Int
    public var failed: Int
    public var error: Int
    public var timeout: Int
    public var cancelled: Int

    public init(ok: Int = 0, failed: Int = 0, error: Int = 0, timeout: Int = 0, cancelled: Int = 0) {
        self.ok = ok
        self.failed = failed
        self.error = error
        self.timeout = timeout
        self.cancelled = cancelled
    }

    public var total: Int { ok + failed + error + timeout + cancelled }

    public subscript(status: HostResultStatus) -> Int {
        get {
            switch status {
            case .ok: return ok
            case .failed: return failed
            case .error: return error
            case .timeout: return timeout
            case .cancelled: return cancelled
            }
        }
        set {
            switch status {
            case .ok: ok = newValue
            case .failed: failed = newValue
            case .error: error = newValue
            case .timeout: timeout = newValue
            case .cancelled: cancelled = newValue
            }
        }
    }
}

/// A run with its result counts, for history listings.
public struct RunSummary: Sendable, Equatable {
    public var run: RunRecord
    public var counts: ResultCounts

    public init(run: RunRecord, counts: ResultCounts) {
        self.run = run
        self.counts = counts
    }
}

extension Date {
    /// Whole milliseconds since the Unix epoch, the store's time column format.
    var storeMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    init(storeMilliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(storeMilliseconds) / 1000)
    }
}
