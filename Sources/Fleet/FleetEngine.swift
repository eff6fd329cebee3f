import Foundation
import WSMan
import WinRMTransport

/// Where runs are kept (the SQLite store, through an adapter in the executable). A result is
/// handed here, and committed, before any view is told about it.
public protocol RunRecorder: AnyObject, Sendable {
    func beginRun(command: String, isPowerShell: Bool, target: String, hostCount: Int) throws -> Int64
    /// Stores results and events in one transaction: all or none. Committed when it returns.
    func record(_ entries: [RecorderEntry]) throws
    func finishRun(_ runID: Int64, cancelled: Bool) throws
}

/// A host's place in the current run, as the console's run view shows it.
public enum HostRunState: String, Sendable, Codable {
    case queued, connecting, running, done, failed, timedOut = "timed_out", cancelled, error
}

/// What the engine tells its views, in order. A `.result` is already stored when it arrives.
public enum RunUpdate: Sendable {
    case runStarted(runID: Int64?, hosts: [String], iteration: Int)
    case hostState(host: String, state: HostRunState)
    case sessionState(host: String, state: SessionState)
    case output(host: String, stdout: Data, stderr: Data)
    case result(HostResult)
    case sessionEvent(SessionEvent)
    /// A session was opened (outside a run): the route and the authentication work.
    case connected(host: String)
    /// Opening a session (outside a run) failed.
    case connectFailed(host: String, error: WinRMError)
    /// The store could not keep something; the run goes on (results are still shown).
    case storeProblem(String)
    case runFinished(runID: Int64?, results: [HostResult], cancelled: Bool)
}

public struct RunRequest: Sendable {
    public var spec: CommandSpec
    /// The expression as the operator typed it (stored with the run).
    public var target: String
    public var hosts: [String]
    public var timeout: TimeInterval?
    public var repeatCount: Int
    public var every: TimeInterval?

    public init(spec: CommandSpec, target: String, hosts: [String], timeout: TimeInterval? = nil,
                repeatCount: Int = 1, every: TimeInterval? = nil) {
        self.spec = spec
        self.target = target
        self.hosts = hosts
        self.timeout = timeout
        self.repeatCount = max(1, repeatCount)
        self.every = every
    }
}

/// The fleet engine: one persistent `HostSession` per host, runs fanned out under a throttle
/// that can change while a run goes, every result recorded before it is shown.
public final class FleetEngine: @unchecked Sendable {
    public let plans: [HostPlan]
    private let sessions: [String: HostSession]
    private let recorder: RunRecorder?
    private let throttle: AsyncThrottle
    private let lock = NSLock()
    private var observers: [@Sendable (RunUpdate) -> Void] = []
    private var currentRunID: Int64?
    private var runCancelled = false
    private var storeFailureReported = false
    private var delivery: StoreThenPublish!

    public init(plans: [HostPlan], recorder: RunRecorder? = nil, throttle: Int = 64,
                policy: SessionPolicy = SessionPolicy(), shellOptions: ShellOptions = ShellOptions()) {
        self.plans = plans
        self.recorder = recorder
        self.throttle = AsyncThrottle(limit: throttle)
        var sessions: [String: HostSession] = [:]
        for plan in plans {
            sessions[plan.host.name] = HostSession(plan: plan, policy: policy, shellOptions: shellOptions)
        }
        self.sessions = sessions
        // Weak: the writer thread may still be storing while the engine is released.
        delivery = StoreThenPublish(store: { [weak self] entries in
            guard let self else { return }
            do { try self.recorder?.record(entries) } catch { self.reportStoreProblem(error) }
        }, publish: { [weak self] update in self?.publish(update) })
        for session in sessions.values {
            let name = session.name
            session.onEvent = { [weak self] event in self?.sessionEvent(event) }
            session.onStateChange = { [weak self] state in self?.publish(.sessionState(host: name, state: state)) }
        }
    }

    deinit {
        delivery.stop()
    }

    public func observe(_ observer: @escaping @Sendable (RunUpdate) -> Void) {
        lock.withLock { observers.append(observer) }
    }

    public func session(_ host: String) -> HostSession? { sessions[host] }

    public var throttleLimit: Int { throttle.limit }

    /// Takes effect at once: more hosts start, or fewer start until the count falls below it.
    public func setThrottle(_ limit: Int) { throttle.setLimit(limit) }

    public func cancel(host: String) { sessions[host]?.cancel() }

    /// Stops the whole run: queued hosts do not start, running ones get ctrl_c and terminate.
    public func cancelRun() {
        lock.withLock { runCancelled = true }
        for session in sessions.values where session.state == .busy || session.state == .connecting || session.state == .reconnecting {
            session.cancel()
        }
        throttle.cancelWaiters()
    }

    /// Runs `request`: every iteration on every targeted host, over the kept sessions.
    @discardableResult
    public func run(_ request: RunRequest) async -> [HostResult] {
        lock.withLock { runCancelled = false }
        var runID: Int64?
        if let recorder {
            do {
                runID = try recorder.beginRun(command: request.spec.displayText, isPowerShell: request.spec.isPowerShell,
                                              target: request.target, hostCount: request.hosts.count * request.repeatCount)
            } catch {
                reportStoreProblem(error)
            }
        }
        lock.withLock { currentRunID = runID }
        let collected = ResultCollector()
        var iterationStart = Date()
        for iteration in 1...request.repeatCount {
            if lock.withLock({ runCancelled }) { break }
            publish(.runStarted(runID: runID, hosts: request.hosts, iteration: iteration))
            for host in request.hosts { publish(.hostState(host: host, state: .queued)) }
            let iterationTag = request.repeatCount > 1 ? iteration : nil
            await withDiscardingTaskGroup { group in
                for host in request.hosts {
                    group.addTask(executorPreference: sessions[host]?.loop) { [self] in
                        await runOne(host: host, request: request, iteration: iterationTag) { result in
                            let received = collected.append(result)
                            self.deliver(result, runID: runID, last: received == request.hosts.count * iteration)
                        }
                    }
                }
            }
            await acknowledgeFinishedCommands(on: request.hosts)
            if iteration < request.repeatCount, let every = request.every {
                let wait = every - Date().timeIntervalSince(iterationStart)
                if wait > 0 { try? await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
            }
            iterationStart = Date()
        }
        delivery.flush()
        let cancelled = lock.withLock { runCancelled }
        if let runID, let recorder {
            do { try recorder.finishRun(runID, cancelled: cancelled) } catch { reportStoreProblem(error) }
        }
        lock.withLock { currentRunID = nil }
        let results = collected.results
        publish(.runFinished(runID: runID, results: results, cancelled: cancelled))
        return results
    }

    /// Sends the terminate Signals of the commands that just finished, under the throttle. They wait
    /// until the iteration's results are all in: on a fleet that keeps the machine busy, a Signal sent
    /// as soon as its host finished would cost the hosts still running a request's worth of work on
    /// both ends (about an eighth of a cold run). A host used again before this sends its own first.
    private func acknowledgeFinishedCommands(on hosts: [String]) async {
        await withDiscardingTaskGroup { group in
            for host in hosts {
                guard let session = sessions[host], session.awaitsAcknowledgement else { continue }
                group.addTask(executorPreference: session.loop) { [self] in
                    let admitted = await throttle.acquire()
                    defer { if admitted { throttle.release() } }
                    await session.acknowledge()
                }
            }
        }
    }

    /// Runs the request on one host and hands its result to `finished`, once, as soon as it is known;
    /// returns with it (the command's terminate Signal is sent later, `acknowledgeFinishedCommands`).
    private func runOne(host: String, request: RunRequest, iteration: Int?, finished: @escaping (HostResult) -> Void) async {
        guard let session = sessions[host] else {
            finished(HostResult(host: host, route: "?", status: .error,
                                error: WinRMError(.policy, "\(host) is not in the inventory"), startedAt: Date(), duration: 0,
                                iteration: iteration))
            return
        }
        let admitted = await throttle.acquire()
        defer { if admitted { throttle.release() } }
        if !admitted || lock.withLock({ runCancelled }) {
            finished(HostResult(host: host, route: session.plan.route.routeName, status: .cancelled, startedAt: Date(),
                                duration: 0, iteration: iteration))
            return
        }
        publish(.hostState(host: host, state: session.state == .idle ? .running : .connecting))
        _ = await session.run(request.spec, timeout: request.timeout, iteration: iteration, onOutput: { [weak self] stdout, stderr in
            self?.publish(.output(host: host, stdout: stdout, stderr: stderr))
        }, onResult: finished)
    }

    /// Store first, then views. The iteration's last result is committed without the commit delay.
    private func deliver(_ result: HostResult, runID: Int64?, last: Bool) {
        let state: HostRunState
        switch result.status {
        case .ok: state = .done
        case .failed: state = .failed
        case .error: state = .error
        case .timeout: state = .timedOut
        case .cancelled: state = .cancelled
        }
        delivery.submit(.init(entry: runID.map { .result(result, runID: $0) },
                              updates: [.hostState(host: result.host, state: state), .result(result)]), final: last)
    }

    private func sessionEvent(_ event: SessionEvent) {
        let runID = lock.withLock { currentRunID }
        delivery.submit(.init(entry: recorder == nil ? nil : .event(event, runID: runID), updates: [.sessionEvent(event)]))
    }

    private func reportStoreProblem(_ error: Error) {
        let first = lock.withLock { () -> Bool in
            defer { storeFailureReported = true }
            return !storeFailureReported
        }
        if first { publish(.storeProblem("\(error)")) }
    }

    private func publish(_ update: RunUpdate) {
        let observers = lock.withLock { self.observers }
        for observer in observers { observer(update) }
    }

    /// Opens every session that is not open yet (connect, authenticate, open the shell), under
    /// the throttle, so the console shows the fleet's health before the first command.
    public func connectAll() async {
        await withDiscardingTaskGroup { group in
            for plan in plans where plan.connection != nil {
                guard let session = sessions[plan.host.name], session.state == .disconnected else { continue }
                group.addTask(executorPreference: session.loop) { [self] in
                    let admitted = await throttle.acquire()
                    defer { if admitted { throttle.release() } }
                    guard admitted else { return }
                    if let error = await session.connect() {
                        publish(.connectFailed(host: session.name, error: error))
                    } else {
                        publish(.connected(host: session.name))
                    }
                }
            }
        }
    }

    /// Keeps idle sessions alive while the console is open: every `interval`, each session idle for
    /// at least that long is touched (under the throttle). An interval well below the hosts' shell
    /// idle timeout and HTTP.sys's ~2-minute idle connection timeout keeps both from expiring.
    public func keepSessionsAlive(every interval: TimeInterval = 60) -> Task<Void, Never> {
        Task.detached { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
                let due = sessions.values.filter { $0.state == .idle && Date().timeIntervalSince($0.lastUsed) >= interval }
                await withDiscardingTaskGroup { group in
                    for session in due {
                        group.addTask(executorPreference: session.loop) { [self] in
                            let admitted = await throttle.acquire()
                            defer { if admitted { throttle.release() } }
                            if admitted { await session.keepAlive() }
                        }
                    }
                }
            }
        }
    }

    /// Closes every shell and connection (end of a headless run, console exit).
    public func closeAll() async {
        await withDiscardingTaskGroup { group in
            for session in sessions.values where session.state != .disconnected {
                group.addTask(executorPreference: session.loop) { await session.close() }
            }
        }
        // The events of closing are stored before the caller exits.
        delivery.flush()
    }
}

final class ResultCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [HostResult] = []
    /// Returns how many results there are now.
    func append(_ result: HostResult) -> Int {
        lock.withLock {
            storage.append(result)
            return storage.count
        }
    }
    var results: [HostResult] { lock.withLock { storage } }
}

/// A counting gate whose limit can change while tasks wait on it.
public final class AsyncThrottle: @unchecked Sendable {
    private let lock = NSLock()
    private var inFlight = 0
    private var currentLimit: Int
    private var waiters: [CheckedContinuation<Bool, Never>] = []

    public init(limit: Int) { currentLimit = max(1, limit) }

    public var limit: Int { lock.withLock { currentLimit } }

    /// Waits for a place; false when the waiters were cancelled.
    public func acquire() async -> Bool {
        await withCheckedContinuation { continuation in
            lock.lock()
            if inFlight < currentLimit {
                inFlight += 1
                lock.unlock()
                continuation.resume(returning: true)
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }

    public func release() {
        lock.lock()
        if !waiters.isEmpty && inFlight <= currentLimit {
            let next = waiters.removeFirst()
            lock.unlock()
            next.resume(returning: true)
        } else {
            inFlight -= 1
            lock.unlock()
        }
    }

    public func setLimit(_ limit: Int) {
        lock.lock()
        currentLimit = max(1, limit)
        var admitted: [CheckedContinuation<Bool, Never>] = []
        while inFlight < currentLimit && !waiters.isEmpty {
            inFlight += 1
            admitted.append(waiters.removeFirst())
        }
        lock.unlock()
        admitted.forEach { $0.resume(returning: true) }
    }

    public func cancelWaiters() {
        lock.lock()
        let cancelled = waiters
        waiters.removeAll()
        lock.unlock()
        cancelled.forEach { $0.resume(returning: false) }
    }
}
