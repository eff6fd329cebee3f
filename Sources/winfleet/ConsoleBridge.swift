import Console
import Fleet
import FleetStore
import Foundation
import Inventory
import WinRMTransport

/// The console's view of the engine: folds the engine's updates into one `FleetSnapshot` and
/// turns the console's intents into engine calls. The console never sees the engine itself.
final class ConsoleBridge: ConsoleEngine, @unchecked Sendable {
    private let engine: FleetEngine
    private let inventory: Inventory
    private let store: RunStore?
    private let lock = NSLock()
    private var snapshotState: FleetSnapshot
    private var hostIndex: [String: Int] = [:]
    private var runIndex: [String: Int] = [:]
    private var routeHealth: RouteHealth
    private var updateHandler: (@Sendable () -> Void)?
    private static let maximumEvents = 500

    init(engine: FleetEngine, inventory: Inventory, store: RunStore?) {
        self.engine = engine
        self.inventory = inventory
        self.store = store
        var hosts: [HostRow] = []
        var routes: [String: RouteSummary] = [:]
        var routeOrder: [String] = []
        for plan in engine.plans {
            let host = plan.host
            var row = HostRow(name: host.name, address: host.address, port: host.port, groups: host.groups,
                              transport: host.transport.rawValue, auth: host.auth.rawValue, mechanism: nil,
                              route: plan.route.routeName, session: .none, lastRTTms: nil, lastError: nil)
            if let refusal = plan.refusal {
                row.session = .broken
                row.lastError = Self.errorInfo(refusal)
            }
            hosts.append(row)
            if routes[plan.route.routeName] == nil {
                routeOrder.append(plan.route.routeName)
                routes[plan.route.routeName] = RouteSummary(
                    name: plan.route.routeName, proxy: plan.route.proxy?.description ?? "direct",
                    mode: plan.route.isDirect ? "direct" : plan.route.mode.rawValue)
            }
        }
        snapshotState = FleetSnapshot(routes: routeOrder.compactMap { routes[$0] }, hosts: hosts)
        routeHealth = RouteHealth(plans: engine.plans)
        for (index, row) in hosts.enumerated() { hostIndex[row.name] = index }
        snapshotState.history = loadHistory()
        recountRoutes()
        engine.observe { [weak self] update in self?.apply(update) }
    }

    // MARK: ConsoleEngine

    func snapshot() -> FleetSnapshot {
        lock.withLock { snapshotState }
    }

    func setUpdateHandler(_ handler: @escaping @Sendable () -> Void) {
        lock.withLock { updateHandler = handler }
    }

    func startRun(command: String, powershell: Bool, hosts: [String]) {
        let spec = powershell ? CommandSpec.powerShell(command) : CommandSpec(command: command)
        lock.withLock {
            snapshotState.run = RunProgress(
                id: nil, command: command, isPowerShell: powershell, startedAt: Date(),
                hosts: hosts.map { name in
                    RunHostRow(name: name, route: snapshotState.hosts[hostIndex[name] ?? 0].route, state: .queued)
                },
                throttle: engine.throttleLimit, isActive: true)
            runIndex = Dictionary(uniqueKeysWithValues: hosts.enumerated().map { ($1, $0) })
        }
        changed()
        let request = RunRequest(spec: spec, target: hosts.count == engine.plans.count ? "all" : HostSet.fold(hosts), hosts: hosts)
        Task.detached { [engine] in await engine.run(request) }
    }

    func resolveTarget(_ expression: String) throws -> [String] {
        try TargetExpression.parse(expression).select(from: inventory).map(\.name)
    }

    func cancel(host: String) { engine.cancel(host: host) }

    func cancelRun() { engine.cancelRun() }

    func setThrottle(_ n: Int) {
        engine.setThrottle(n)
        lock.withLock { snapshotState.run?.throttle = engine.throttleLimit }
        changed()
    }

    func openHistoryRun(id: Int64) -> [RunHostRow] {
        guard let store, let records = try? store.results(runID: id) else { return [] }
        return records.map { record in
            let result = HistoryCommand.hostResult(record)
            return Self.runRow(result)
        }
    }

    func pendingSummary() -> String {
        lock.withLock {
            guard let run = snapshotState.run, run.isActive else { return "no run is active" }
            let running = run.hosts.filter { $0.state == .running || $0.state == .connecting }
            let queued = run.hosts.filter { $0.state == .queued }
            let done = run.hosts.count - running.count - queued.count
            var text = "\(done)/\(run.hosts.count) done, \(running.count) running"
            if !running.isEmpty { text += " (\(HostSet.fold(running.map(\.name))))" }
            text += ", \(queued.count) queued — ctrl-c again cancels the run"
            return text
        }
    }

    // MARK: updates from the engine

    private func apply(_ update: RunUpdate) {
        let roundTrip: TimeInterval?
        switch update {
        case .result(let result): roundTrip = engine.session(result.host)?.roundTripTime
        case .connected(let host): roundTrip = engine.session(host)?.roundTripTime
        default: roundTrip = nil
        }
        lock.withLock {
            routeHealth.apply(update, roundTrip: roundTrip)
            switch update {
            case .runStarted(let runID, _, _):
                snapshotState.run?.id = runID
            case .hostState(let host, let state):
                if let index = runIndex[host] { snapshotState.run?.hosts[index].state = Self.runState(state) }
            case .sessionState(let host, let state):
                if let index = hostIndex[host] { snapshotState.hosts[index].session = Self.sessionState(state) }
            case .output(let host, let stdout, let stderr):
                if let index = runIndex[host] {
                    snapshotState.run?.hosts[index].stdout += String(decoding: stdout, as: UTF8.self)
                    snapshotState.run?.hosts[index].stderr += String(decoding: stderr, as: UTF8.self)
                }
            case .result(let result):
                if let index = runIndex[result.host] { snapshotState.run?.hosts[index] = Self.runRow(result) }
                if let index = hostIndex[result.host] {
                    snapshotState.hosts[index].lastError = result.error.map(Self.errorInfo)
                    if let roundTrip { snapshotState.hosts[index].lastRTTms = roundTrip * 1000 }
                }
                recountRoutes()
            case .sessionEvent(let event):
                if event.kind == .authOK, let index = hostIndex[event.host] {
                    snapshotState.hosts[index].mechanism = event.detail.split(separator: " ").first.map(String.init)
                }
                if event.kind != .authOK && event.kind != .shellOpened {
                    appendEvent(HealthEvent(at: event.at, host: event.host, route: event.route, kind: event.kind.rawValue,
                                            message: event.detail))
                }
            case .connected(let host):
                if let index = hostIndex[host], let roundTrip { snapshotState.hosts[index].lastRTTms = roundTrip * 1000 }
                recountRoutes()
            case .connectFailed(let host, let error):
                if let index = hostIndex[host] {
                    snapshotState.hosts[index].lastError = Self.errorInfo(error)
                    recountRoutes()
                }
            case .storeProblem(let message):
                appendEvent(HealthEvent(at: Date(), host: "-", route: "-", kind: "store", message: message))
            case .runFinished(let runID, _, _):
                snapshotState.run?.id = runID
                snapshotState.run?.isActive = false
                snapshotState.history = loadHistory()
            }
            snapshotState.version &+= 1
        }
        changed()
    }

    private func appendEvent(_ event: HealthEvent) {
        snapshotState.events.append(event)
        if snapshotState.events.count > Self.maximumEvents {
            snapshotState.events.removeFirst(snapshotState.events.count - Self.maximumEvents)
        }
    }

    /// The route rows' figures, from the engine's `RouteHealth` (lock held).
    private func recountRoutes() {
        for index in snapshotState.routes.indices {
            guard let stats = routeHealth[snapshotState.routes[index].name] else { continue }
            snapshotState.routes[index].ok = stats.hostsOK
            snapshotState.routes[index].authErrors = stats.authErrors
            snapshotState.routes[index].affinityErrors = stats.affinityErrors
            snapshotState.routes[index].proxyErrors = stats.proxyErrors
            snapshotState.routes[index].lastRTTms = stats.latestRTT.map { $0 * 1000 }
        }
    }

    private func loadHistory() -> [HistoryEntry] {
        guard let store, let runs = try? store.runs(last: 100) else { return [] }
        return runs.map { summary in
            HistoryEntry(id: summary.run.id, command: summary.run.command, target: summary.run.target,
                         startedAt: summary.run.startedAt, status: summary.run.status.rawValue,
                         hostCount: summary.run.hostCount, ok: summary.counts.ok, failed: summary.counts.failed,
                         errors: summary.counts.error + summary.counts.timeout + summary.counts.cancelled)
        }
    }

    private func changed() {
        let handler = lock.withLock { updateHandler }
        handler?()
    }

    // MARK: mapping

    static func errorInfo(_ error: WinRMError) -> ErrorInfo {
        ErrorInfo(kind: error.kind.rawValue, message: error.message, code: error.code)
    }

    static func runRow(_ result: HostResult) -> RunHostRow {
        RunHostRow(name: result.host, route: result.route, state: runState(result), exitCode: result.exitCode,
                   duration: result.duration, stdout: result.stdout, stderr: result.stderr,
                   error: result.error.map(errorInfo))
    }

    static func runState(_ result: HostResult) -> RunHostState {
        switch result.status {
        case .ok: return .done
        case .failed: return .failed
        case .error: return .error
        case .timeout: return .timedOut
        case .cancelled: return .cancelled
        }
    }

    static func runState(_ state: HostRunState) -> RunHostState {
        switch state {
        case .queued: return .queued
        case .connecting: return .connecting
        case .running: return .running
        case .done: return .done
        case .failed: return .failed
        case .timedOut: return .timedOut
        case .cancelled: return .cancelled
        case .error: return .error
        }
    }

    static func sessionState(_ state: Fleet.SessionState) -> Console.SessionState {
        switch state {
        case .disconnected: return .none
        case .connecting: return .connecting
        case .authenticated: return .authenticated
        case .idle: return .idle
        case .busy: return .busy
        case .reconnecting: return .reconnecting
        case .broken: return .broken
        }
    }
}
