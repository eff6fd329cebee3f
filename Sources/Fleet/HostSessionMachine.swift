import Foundation
import WSMan
import WinRMTransport

/// What a host's session is doing, as the console shows it.
public enum SessionState: String, Sendable, Codable, CaseIterable {
    case disconnected, connecting, authenticated, idle, busy, reconnecting, broken
}

/// Where in a command's life a failure happened: it decides what may be retried.
public enum SessionStage: Sendable, Equatable {
    case openShell
    /// Command (and its stdin). Once the host accepted the Command it is never sent again.
    case startCommand
    case receive
}

/// Kinds of session events, as stored and shown (`session_events.kind`).
public enum SessionEventKind: String, Sendable, Codable {
    case authOK = "auth_ok"
    case affinityLost = "affinity_lost"
    case reconnect
    case shellOpened = "shell_opened"
    case shellReopened = "shell_reopened"
    case quota
    case broken
    case retry
}

/// Bounds on retrying: how often, how long to wait between tries.
public struct SessionPolicy: Sendable, Equatable {
    /// Tries of one stage (connect + open shell, start, reconnect to receive) before giving up.
    public var maxAttempts: Int = 3
    public var backoffBase: TimeInterval = 0.2
    public var backoffMax: TimeInterval = 5

    public init(maxAttempts: Int = 3, backoffBase: TimeInterval = 0.2, backoffMax: TimeInterval = 5) {
        self.maxAttempts = maxAttempts
        self.backoffBase = backoffBase
        self.backoffMax = backoffMax
    }

    func backoff(attempt: Int) -> TimeInterval {
        min(backoffMax, backoffBase * pow(2, Double(max(0, attempt - 1))))
    }
}

/// The life of one host's session as a pure value: events in, actions out. The driver
/// (`HostSession`) carries the actions out and feeds back what happened; nothing here
/// does I/O, so every recovery rule is tested without a network or a clock.
///
/// Rules it keeps:
/// - retries are for connecting, authenticating, opening the shell and polling, never for a
///   Command the host may have received (it could run twice);
/// - a gone shell (2150858843) is reopened before a command, a quota fault (2150859173/4) closes
///   and reopens the shell once;
/// - credentials, policy, TLS and proxy refusals (4xx) are not retried (no retry storm);
/// - a stage that keeps failing marks the session broken with its last error.
public struct HostSessionMachine: Sendable, Equatable {
    public enum Event: Sendable, Equatable {
        case jobStarted
        /// Connect, authenticate and open the shell, then stay idle (the console's warm-up).
        case connectRequested
        case shellOpened(id: String)
        case commandAccepted
        case commandFinished
        case failed(WinRMError, stage: SessionStage)
        case cancelled
    }

    public enum Action: Sendable, Equatable {
        case openShell
        case startCommand
        case receive
        /// Forget the TCP connection and its authentication context (the shell stays on the host).
        case dropConnection
        case wait(TimeInterval)
        /// Delete the shell on the host (after a quota fault).
        case closeShell
        /// The job is over: nil when the command ran to its end.
        case finish(WinRMError?)
        case note(SessionEventKind, String)
    }

    public private(set) var state: SessionState = .disconnected
    public private(set) var shellID: String?
    public private(set) var lastError: WinRMError?
    public private(set) var attempts = 0
    public private(set) var commandAccepted = false
    private var quotaRetried = false
    private var shellOpenedBefore = false
    private var connectOnly = false
    public let policy: SessionPolicy

    public init(policy: SessionPolicy = SessionPolicy()) {
        self.policy = policy
    }

    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .connectRequested:
            attempts = 0
            commandAccepted = false
            quotaRetried = false
            guard shellID == nil else { return [.finish(nil)] }
            connectOnly = true
            state = .connecting
            return [.openShell]

        case .jobStarted:
            attempts = 0
            commandAccepted = false
            quotaRetried = false
            connectOnly = false
            if shellID == nil {
                state = .connecting
                return [.openShell]
            }
            state = .busy
            return [.startCommand]

        case .shellOpened(let id):
            shellID = id
            let kind: SessionEventKind = shellOpenedBefore ? .shellReopened : .shellOpened
            shellOpenedBefore = true
            if connectOnly {
                connectOnly = false
                state = .idle
                attempts = 0
                lastError = nil
                return [.note(kind, "shell \(id)"), .finish(nil)]
            }
            state = .busy
            return [.note(kind, "shell \(id)"), .startCommand]

        case .commandAccepted:
            commandAccepted = true
            attempts = 0
            return [.receive]

        case .commandFinished:
            state = .idle
            attempts = 0
            lastError = nil
            return [.finish(nil)]

        case .cancelled:
            state = shellID == nil ? .disconnected : .idle
            return [.finish(WinRMError(.network, "cancelled", code: "cancelled"))]

        case .failed(let error, let stage):
            return failed(error, stage: stage)
        }
    }

    private mutating func failed(_ error: WinRMError, stage: SessionStage) -> [Action] {
        lastError = error
        let faultCode = error.kind == .wsmanFault ? error.code.flatMap(UInt32.init) : nil

        if faultCode == WSManFault.invalidSelectorsCode {
            shellID = nil
            if stage == .receive {
                state = .idle
                return [.note(.shellReopened, "shell gone while a command ran"),
                        .finish(WinRMError(.wsmanFault, "the shell disappeared on the host while the command ran (fault 2150858843); its output is incomplete and it was not run again", code: error.code))]
            }
            return retry(stage: .openShell, note: (.shellReopened, "shell gone (fault 2150858843), opening a new one"), dropConnection: false)
        }

        if faultCode == WSManFault.quotaMaxShellsCode || faultCode == WSManFault.quotaMaxOperationsCode {
            if stage != .receive && !quotaRetried {
                quotaRetried = true
                state = .connecting
                return [.note(.quota, "quota fault \(faultCode!): closing and reopening the shell"), .closeShell, .openShell]
            }
            state = .idle
            return [.note(.quota, "quota fault \(faultCode!) again"), .finish(error)]
        }

        if stage == .startCommand && error.requestMayHaveArrived && error.kind != .wsmanFault {
            // The host may have started the command: it is never sent again, whatever the failure.
            state = error.kind == .affinity ? .broken : .idle
            let note = error.message.contains("may have started") ? "" : " — the command may have started on the host; it was not sent again"
            var actions: [Action] = [.dropConnection]
            if state == .broken { actions.append(.note(.broken, error.message)) }
            actions.append(.finish(WinRMError(error.kind, error.message + note, code: error.code, requestMayHaveArrived: true)))
            return actions
        }

        switch error.kind {
        case .auth, .policy, .tls, .proxyAuth, .affinity:
            // Retrying cannot fix these and would hammer the host (account lockout) or the proxy.
            state = .broken
            shellID = stage == .openShell ? nil : shellID
            return [.note(.broken, error.message), .finish(error)]
        case .wsmanFault:
            state = shellID == nil ? .disconnected : .idle
            return [.finish(error)]
        case .proxy where error.code?.first == "4":
            // The proxy refused (CONNECT to that port, an access rule): its configuration must
            // change, asking again only adds log lines on the proxy.
            state = .broken
            return [.note(.broken, error.message), .finish(error)]
        case .network, .timeout, .proxy, .protocol:
            return retry(stage: stage, note: (.reconnect, "\(error.kind.rawValue): \(error.message)"), dropConnection: true)
        }
    }

    private mutating func retry(stage: SessionStage, note: (SessionEventKind, String), dropConnection: Bool) -> [Action] {
        attempts += 1
        guard attempts < policy.maxAttempts else {
            state = .broken
            let error = lastError ?? WinRMError(.network, "gave up")
            return [.note(.broken, "gave up after \(attempts) attempts: \(error.message)"), .finish(error)]
        }
        state = .reconnecting
        var actions: [Action] = [.note(note.0, note.1)]
        if dropConnection { actions.append(.dropConnection) }
        actions.append(.wait(policy.backoff(attempt: attempts)))
        switch stage {
        case .openShell: actions.append(.openShell)
        case .startCommand: actions.append(.startCommand)
        case .receive: actions.append(.receive)
        }
        return actions
    }

    /// The session was closed on purpose.
    public mutating func closed() {
        state = .disconnected
        shellID = nil
    }
}
