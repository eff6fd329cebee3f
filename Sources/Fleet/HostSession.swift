import Foundation
import WSMan
import WinRMTransport

/// Something that happened to a host's session, for the store, the console and `run`.
public struct SessionEvent: Sendable, Equatable {
    public var host: String
    public var route: String
    public var at: Date
    public var kind: SessionEventKind
    public var detail: String
}

/// One host's persistent session: one authenticated connection and one shell, reused by every
/// command. Carries out the actions of its `HostSessionMachine`; one job at a time.
public final class HostSession: @unchecked Sendable {
    public let plan: HostPlan
    public var name: String { plan.host.name }
    private let lock = NSLock()
    private var machine: HostSessionMachine
    private let connection: WinRMConnection?
    /// The curl loop that carries this session's requests; the engine runs the session's work
    /// there too (its task executor), so an answer and the next request need no thread hop.
    public let loop = CurlEventLoop.next()
    private let shell: WinRSShell?
    private var cancelRequested = false
    /// A finished command whose terminate Signal has not gone out yet (see `acknowledge`).
    private var unacknowledgedCommand: String?
    private var lastActivity = Date()
    private var lastRTT: TimeInterval?
    /// Session events go here (the engine forwards them to the store and the views).
    var onEvent: (@Sendable (SessionEvent) -> Void)?
    var onStateChange: (@Sendable (SessionState) -> Void)?

    public init(plan: HostPlan, policy: SessionPolicy = SessionPolicy(), shellOptions: ShellOptions = ShellOptions()) {
        self.plan = plan
        machine = HostSessionMachine(policy: policy)
        if let config = plan.connection {
            let connection = WinRMConnection(config: config, loop: loop)
            self.connection = connection
            shell = WinRSShell(connection: connection, options: shellOptions)
        } else {
            connection = nil
            shell = nil
        }
        connection?.onEvent = { [weak self] event in self?.connectionEvent(event) }
    }

    public var state: SessionState { lock.withLock { machine.state } }
    public var lastError: WinRMError? { lock.withLock { machine.lastError } }
    public var roundTripTime: TimeInterval? { lock.withLock { lastRTT } }
    /// Requests this session sent, handshake legs included.
    public var roundTrips: Int { connection?.roundTrips ?? 0 }

    /// Asks the running command to stop: the in-flight request is abandoned (its connection
    /// dropped), then ctrl_c and terminate go out on a fresh connection.
    public func cancel() {
        lock.withLock { cancelRequested = true }
        connection?.abort()
    }

    /// Connects, authenticates and opens the shell without running anything; nil when the
    /// session is ready, else what stopped it.
    public func connect() async -> WinRMError? {
        guard let shell else { return plan.refusal }
        var pending = transition(.connectRequested)
        while !pending.isEmpty {
            switch pending.removeFirst() {
            case .openShell:
                do {
                    try await shell.open()
                    pending += transition(.shellOpened(id: shell.shellID ?? "?"))
                } catch {
                    pending += transition(.failed(Self.winRMError(error), stage: .openShell))
                }
            case .dropConnection:
                await connection?.close()
            case .wait(let seconds):
                try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            case .note(let kind, let detail):
                emit(kind, detail)
            case .finish(let error):
                lock.withLock { lastRTT = connection?.lastRoundTrip }
                return error
            case .startCommand, .receive, .closeShell:
                break
            }
        }
        return nil
    }

    /// When the session last did anything (a command, a connect, a keep-alive).
    public var lastUsed: Date { lock.withLock { lastActivity } }

    /// Keeps an idle session from expiring on the host: a Get of the shell resets the shell's idle
    /// timer and keeps the connection warm. A shell the host no longer knows is forgotten (the next
    /// command opens a new one); other failures are left for the next command to handle.
    public func keepAlive() async {
        guard let shell, state == .idle, shell.shellID != nil else { return }
        lock.withLock { lastActivity = Date() }
        if await acknowledge() { return }
        do {
            try await shell.touch()
        } catch let error as WinRMError where error.code == String(WSManFault.invalidSelectorsCode) {
            shell.forgetShell()
            lock.withLock { machine.closed() }
            emit(.shellReopened, "the host no longer knew the shell; a new one opens with the next command")
        } catch {
            // The next command reconnects and re-authenticates as needed.
        }
    }

    /// Sends the terminate Signal of the last finished command, if it has not gone out yet; true
    /// when it sent one. The host releases the command's operation only then (MS-WSMV: leaked
    /// operations count against MaxConcurrentOperationsPerUser). A failure is left alone: the shell's
    /// Delete ends the command too, and a connection problem is the next job's to handle.
    @discardableResult
    public func acknowledge() async -> Bool {
        let pending = lock.withLock { () -> String? in
            defer { unacknowledgedCommand = nil }
            return unacknowledgedCommand
        }
        guard let shell, let commandID = pending else { return false }
        try? await shell.signal(commandID: commandID, .terminate)
        return true
    }

    /// Whether a finished command still waits for its terminate Signal.
    public var awaitsAcknowledgement: Bool { lock.withLock { unacknowledgedCommand != nil } }

    /// Runs one command to its end on this session and returns the host's result, when the host
    /// said the command is done. The terminate Signal that acknowledges the command is left to
    /// `acknowledge()` (the engine sends it once the run's other results are in, so that in a
    /// fan-out that keeps the machine busy it does not delay them); any later job of the session
    /// sends it first.
    /// - Parameter onResult: called once with the result as soon as it is known.
    public func run(_ spec: CommandSpec, timeout: TimeInterval?, iteration: Int? = nil,
                    onOutput: (@Sendable (Data, Data) -> Void)? = nil,
                    onResult: ((HostResult) -> Void)? = nil) async -> HostResult {
        let started = Date()
        let deadline = timeout.map { started.addingTimeInterval($0) }
        lock.withLock {
            cancelRequested = false
            lastActivity = started
        }
        var output = CommandOutput(stdout: Data(), stderr: Data(), exitCode: nil)
        func result(_ status: HostStatus, _ error: WinRMError?, of output: CommandOutput) -> HostResult {
            HostResult(host: plan.host.name, route: plan.route.routeName, status: status, exitCode: output.exitCode,
                       stdout: OutputText.decode(output.stdout),
                       stderr: OutputText.decodeStderr(output.stderr, powerShell: spec.isPowerShell),
                       error: error, startedAt: started, duration: Date().timeIntervalSince(started), iteration: iteration)
        }
        var reported: HostResult?
        func report(_ result: HostResult) -> HostResult {
            if let reported { return reported }
            reported = result
            if let roundTrip = connection?.lastRoundTrip { lock.withLock { lastRTT = roundTrip } }
            onResult?(result)
            return result
        }
        guard let shell, let connection else {
            return report(result(.error, plan.refusal ?? WinRMError(.policy, "\(plan.host.name) cannot be reached"), of: output))
        }
        var commandID: String?
        await acknowledge()
        var pending = transition(.jobStarted)
        while !pending.isEmpty {
            let action = pending.removeFirst()
            if lock.withLock({ cancelRequested }), commandID == nil, Self.reachesTheHost(action) {
                // Nothing runs on the host yet: stop here instead of (re)connecting.
                pending = transition(.cancelled)
                continue
            }
            switch action {
            case .openShell:
                do {
                    try await shell.open()
                    pending += transition(.shellOpened(id: shell.shellID ?? "?"))
                } catch {
                    pending += transition(.failed(Self.winRMError(error), stage: .openShell))
                }
            case .startCommand:
                do {
                    commandID = try await shell.startCommand(spec)
                    pending += transition(.commandAccepted)
                } catch {
                    pending += transition(.failed(Self.winRMError(error), stage: .startCommand))
                }
            case .receive:
                guard let id = commandID else { continue }
                pending += await receiveUntilDone(commandID: id, deadline: deadline, output: &output, onOutput: onOutput,
                                                  onDone: { output in
                    _ = report(result((output.exitCode ?? -1) == 0 ? .ok : .failed, nil, of: output))
                })
            case .dropConnection:
                await connection.close()
            case .wait(let seconds):
                try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            case .closeShell:
                await shell.close()
            case .note(let kind, let detail):
                emit(kind, detail)
            case .finish(let error):
                lock.withLock { lastRTT = connection.lastRoundTrip }
                if let error {
                    if error.code == "cancelled" { return report(result(.cancelled, nil, of: output)) }
                    if error.code == "deadline" { return report(result(.timeout, error, of: output)) }
                    return report(result(error.kind == .timeout ? .timeout : .error, error, of: output))
                }
                let code = output.exitCode ?? -1
                return report(result(code == 0 ? .ok : .failed, nil, of: output))
            }
        }
        return report(result(.error, WinRMError(.protocol, "\(plan.host.name): session ended without a result"), of: output))
    }

    /// Receive until Done. Returns the machine's next actions; `onDone` sees the complete output.
    private func receiveUntilDone(commandID: String, deadline: Date?, output: inout CommandOutput,
                                  onOutput: (@Sendable (Data, Data) -> Void)?,
                                  onDone: (CommandOutput) -> Void) async -> [HostSessionMachine.Action] {
        guard let shell else { return [] }
        while true {
            if lock.withLock({ cancelRequested }) {
                await interrupt(commandID: commandID)
                return transition(.cancelled)
            }
            if let deadline, deadline.timeIntervalSinceNow <= 0 {
                await interrupt(commandID: commandID)
                var actions = transition(.cancelled)
                actions = actions.map { action in
                    if case .finish = action {
                        return .finish(WinRMError(.timeout, "\(plan.host.name): the command did not finish in time; it was stopped (ctrl_c, terminate) and its output so far kept", code: "deadline"))
                    }
                    return action
                }
                return actions
            }
            do {
                let received = try await shell.receive(commandID: commandID, deadline: deadline)
                output.stdout.append(received.stdout)
                output.stderr.append(received.stderr)
                if !received.stdout.isEmpty || !received.stderr.isEmpty {
                    onOutput?(received.stdout, received.stderr)
                }
                if case .done(let exitCode) = received.state {
                    output.exitCode = exitCode
                    // Terminate acknowledges the end of output (else the operation leaks on the
                    // host); it goes out with `acknowledge()`.
                    lock.withLock { unacknowledgedCommand = commandID }
                    onDone(output)
                    return transition(.commandFinished)
                }
            } catch {
                if lock.withLock({ cancelRequested }) || (deadline.map { $0.timeIntervalSinceNow <= 0 } ?? false) {
                    continue  // the abort caused this; the checks above finish the job
                }
                return transition(.failed(Self.winRMError(error), stage: .receive))
            }
        }
    }

    /// ctrl_c, then terminate, each on whatever connection works (a fresh one after an abort).
    private func interrupt(commandID: String) async {
        guard let shell else { return }
        try? await shell.signal(commandID: commandID, .ctrlC)
        try? await shell.signal(commandID: commandID, .terminate)
    }

    /// Closes the shell and the connection (end of a one-shot run, or the console quitting).
    public func close() async {
        await acknowledge()
        await shell?.close()
        await connection?.close()
        lock.withLock { machine.closed() }
        onStateChange?(.disconnected)
    }

    private func transition(_ event: HostSessionMachine.Event) -> [HostSessionMachine.Action] {
        let (actions, state) = lock.withLock { () -> ([HostSessionMachine.Action], SessionState) in
            let actions = machine.handle(event)
            return (actions, machine.state)
        }
        onStateChange?(state)
        return actions
    }

    private func connectionEvent(_ event: ConnectionEvent) {
        switch event {
        case .authenticated(let mechanism, let port):
            var detail = "\(mechanism) on local port \(port)"
            if mechanism == "ntlm", let reason = connection?.negotiateFallbackReason {
                detail += " (negotiate fell back from Kerberos: \(reason))"
            }
            emit(.authOK, detail)
            onStateChange?(.authenticated)
        case .affinityLost(let detail):
            emit(.affinityLost, detail)
        case .reconnectedAfterIdle(let detail):
            emit(.reconnect, detail)
        }
    }

    private func emit(_ kind: SessionEventKind, _ detail: String) {
        onEvent?(SessionEvent(host: plan.host.name, route: plan.route.routeName, at: Date(), kind: kind, detail: detail))
    }

    /// Actions that would send something (or wait to): a cancelled job skips them.
    static func reachesTheHost(_ action: HostSessionMachine.Action) -> Bool {
        switch action {
        case .openShell, .startCommand, .receive, .wait, .closeShell: return true
        case .dropConnection, .finish, .note: return false
        }
    }

    static func winRMError(_ error: Error) -> WinRMError {
        (error as? WinRMError) ?? WinRMError(.protocol, "\(error)")
    }
}
