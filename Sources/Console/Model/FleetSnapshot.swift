import Foundation

// The value the engine publishes for the console. The engine builds it, the console only reads it:
// every renderer is a pure function of (ConsoleState, FleetSnapshot, ScreenSize).
// `version` changes on every update so the console can skip redraws and reuse cached derivations.

/// A session's state as the session pool sees it.
public enum SessionState: String, Sendable, CaseIterable, Hashable {
    case none, connecting, authenticated, idle, busy, broken, reconnecting
}

/// A host's state within one run.
public enum RunHostState: String, Sendable, CaseIterable, Hashable {
    case queued, connecting, running, done, failed, timedOut, cancelled, error

    /// Finished states never change again within the run.
    public var isFinished: Bool {
        switch self {
        case .done, .failed, .timedOut, .cancelled, .error: return true
        case .queued, .connecting, .running: return false
        }
    }

    /// The word shown in tables ("timed out", not "timedOut").
    public var label: String {
        switch self {
        case .timedOut: return "timed out"
        default: return rawValue
        }
    }
}

/// One error as the engine classified it. `kind` is one of: auth, affinity, proxy_auth, proxy, policy,
/// tls, network, timeout, wsman_fault, protocol (unknown kinds are shown as they are).
public struct ErrorInfo: Sendable, Hashable {
    public var kind: String
    public var message: String
    public var code: String?

    public init(kind: String, message: String, code: String? = nil) {
        self.kind = kind
        self.message = message
        self.code = code
    }
}

/// One proxy route with the counts the route header row shows.
public struct RouteSummary: Sendable, Hashable {
    public var name: String
    /// "direct" or a proxy URL such as "http://127.0.0.1:3128".
    public var proxy: String
    /// "direct", "forward" or "tunnel".
    public var mode: String
    public var ok: Int
    public var authErrors: Int
    public var affinityErrors: Int
    public var proxyErrors: Int
    public var lastRTTms: Double?

    public init(name: String, proxy: String, mode: String, ok: Int = 0, authErrors: Int = 0,
                affinityErrors: Int = 0, proxyErrors: Int = 0, lastRTTms: Double? = nil) {
        self.name = name
        self.proxy = proxy
        self.mode = mode
        self.ok = ok
        self.authErrors = authErrors
        self.affinityErrors = affinityErrors
        self.proxyErrors = proxyErrors
        self.lastRTTms = lastRTTms
    }
}

/// One inventory host with its persistent session's state.
public struct HostRow: Sendable, Hashable {
    public var name: String
    public var address: String
    public var port: Int
    public var groups: [String]
    /// "http" or "https".
    public var transport: String
    /// The configured scheme: "negotiate", "ntlm", "kerberos", "basic".
    public var auth: String
    /// The mechanism Negotiate settled on ("ntlm" / "kerberos") once known.
    public var mechanism: String?
    public var route: String
    public var session: SessionState
    public var lastRTTms: Double?
    public var lastError: ErrorInfo?

    public init(name: String, address: String, port: Int, groups: [String], transport: String, auth: String,
                mechanism: String? = nil, route: String, session: SessionState, lastRTTms: Double? = nil,
                lastError: ErrorInfo? = nil) {
        self.name = name
        self.address = address
        self.port = port
        self.groups = groups
        self.transport = transport
        self.auth = auth
        self.mechanism = mechanism
        self.route = route
        self.session = session
        self.lastRTTms = lastRTTms
        self.lastError = lastError
    }

    /// A host is faulty when its last attempt failed or its session is not usable.
    public var isFaulty: Bool {
        lastError != nil || session == .broken || session == .reconnecting
    }
}

/// One targeted host of a run.
public struct RunHostRow: Sendable, Hashable {
    public var name: String
    public var route: String
    public var state: RunHostState
    public var exitCode: Int32?
    public var duration: TimeInterval?
    public var stdout: String
    public var stderr: String
    public var error: ErrorInfo?

    public init(name: String, route: String, state: RunHostState, exitCode: Int32? = nil,
                duration: TimeInterval? = nil, stdout: String = "", stderr: String = "", error: ErrorInfo? = nil) {
        self.name = name
        self.route = route
        self.state = state
        self.exitCode = exitCode
        self.duration = duration
        self.stdout = stdout
        self.stderr = stderr
        self.error = error
    }

    /// Failed for the purpose of `r` (rerun): anything that finished without success.
    public var needsRerun: Bool {
        switch state {
        case .failed, .timedOut, .cancelled, .error: return true
        case .done: return (exitCode ?? 0) != 0
        case .queued, .connecting, .running: return false
        }
    }
}

/// The run in progress (or the last one).
public struct RunProgress: Sendable, Hashable {
    public var id: Int64?
    public var command: String
    /// True when the command is a PowerShell script (`:ps`), so a rerun sends it the same way.
    public var isPowerShell: Bool
    public var startedAt: Date
    public var hosts: [RunHostRow]
    public var throttle: Int
    public var isActive: Bool

    public init(id: Int64?, command: String, isPowerShell: Bool = false, startedAt: Date, hosts: [RunHostRow],
                throttle: Int, isActive: Bool) {
        self.id = id
        self.command = command
        self.isPowerShell = isPowerShell
        self.startedAt = startedAt
        self.hosts = hosts
        self.throttle = throttle
        self.isActive = isActive
    }
}

/// One past run as the store lists it.
public struct HistoryEntry: Sendable, Hashable {
    public var id: Int64
    public var command: String
    public var target: String
    public var startedAt: Date
    /// "running", "done", "cancelled", "failed" …
    public var status: String
    public var hostCount: Int
    public var ok: Int
    public var failed: Int
    public var errors: Int

    public init(id: Int64, command: String, target: String, startedAt: Date, status: String, hostCount: Int,
                ok: Int, failed: Int, errors: Int) {
        self.id = id
        self.command = command
        self.target = target
        self.startedAt = startedAt
        self.status = status
        self.hostCount = hostCount
        self.ok = ok
        self.failed = failed
        self.errors = errors
    }
}

/// A session-level event (auth lost, reconnect, proxy refused …) for the health view.
public struct HealthEvent: Sendable, Hashable {
    public var at: Date
    public var host: String
    public var route: String
    public var kind: String
    public var message: String

    public init(at: Date, host: String, route: String, kind: String, message: String) {
        self.at = at
        self.host = host
        self.route = route
        self.kind = kind
        self.message = message
    }
}

/// Everything the console shows, published by the engine (coalesced).
public struct FleetSnapshot: Sendable {
    public var routes: [RouteSummary]
    public var hosts: [HostRow]
    public var run: RunProgress?
    public var history: [HistoryEntry]
    public var events: [HealthEvent]
    /// Changes on every update.
    public var version: UInt64

    public init(routes: [RouteSummary] = [], hosts: [HostRow] = [], run: RunProgress? = nil,
                history: [HistoryEntry] = [], events: [HealthEvent] = [], version: UInt64 = 0) {
        self.routes = routes
        self.hosts = hosts
        self.run = run
        self.history = history
        self.events = events
        self.version = version
    }
}
