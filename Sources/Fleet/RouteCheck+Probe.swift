import Foundation
import Inventory
import WSMan
import WinRMTransport

/// How `check` probes.
public struct RouteCheckOptions: Sendable {
    /// Commands run on one session for the affinity check (each is a Command, Receive(s) and a Signal).
    public var commandCount: Int = 5
    /// Hosts probed at once.
    public var concurrency: Int = 16
    /// False: check the inventory and the rules only, without network.
    public var probe: Bool = true
    /// The longest one host's probe may take, seconds.
    public var hostTimeout: TimeInterval = 60

    public init(commandCount: Int = 5, concurrency: Int = 16, probe: Bool = true, hostTimeout: TimeInterval = 60) {
        self.commandCount = max(1, commandCount)
        self.concurrency = max(1, concurrency)
        self.probe = probe
        self.hostTimeout = hostTimeout
    }
}

/// `winfleet check`: the rules first (no network), then each route and host probed stage by stage.
public struct RouteChecker: Sendable {
    public let inventory: Inventory
    public let hosts: [InventoryHost]
    public let environment: [String: String]
    public let options: RouteCheckOptions

    public init(inventory: Inventory, hosts: [InventoryHost], environment: [String: String] = ProcessInfo.processInfo.environment,
                options: RouteCheckOptions = RouteCheckOptions()) {
        self.inventory = inventory
        self.hosts = hosts
        self.environment = environment
        self.options = options
    }

    /// Plans every host (route, policy, credentials). A refused host gets no probe: nothing is sent to it
    /// or to its proxy.
    public func plans() -> [HostPlan] {
        var planner = HostPlanner(inventory: inventory, environment: environment)
        return hosts.map { planner.plan($0) }
    }

    public func run() async -> RouteCheckReport {
        let plans = plans()
        var checks = plans.map { plan -> HostCheck in
            var check = HostCheck(host: plan.host, route: plan.route, findings: plan.findings, refusal: plan.refusal)
            check.stages = RouteCheck.initialStages(host: plan.host, route: plan.route)
            return check
        }
        if options.probe {
            let reachability = await probeProxies(plans.filter { $0.connection != nil })
            let probed = await probeHosts(plans, reachability: reachability)
            for (index, check) in probed { checks[index] = check }
        }
        return RouteCheckReport(inventoryFile: inventory.fileName, inventoryWarnings: inventory.warnings.map(\.description),
                                hosts: checks, routes: RouteCheck.summarize(checks), probed: options.probe,
                                commandCount: options.commandCount)
    }

    /// One TCP connect per distinct proxy: nil when it answered, else the reason.
    private func probeProxies(_ plans: [HostPlan]) async -> [ProxyURL: String?] {
        var timeouts: [ProxyURL: TimeInterval] = [:]
        for plan in plans {
            guard let proxy = plan.route.proxy else { continue }
            timeouts[proxy] = max(timeouts[proxy] ?? 0, plan.host.connectTimeout)
        }
        return await withTaskGroup(of: (ProxyURL, String?).self) { group in
            for (proxy, timeout) in timeouts {
                group.addTask { (proxy, await RouteCheck.tcpConnectProblem(host: proxy.host, port: proxy.port, timeout: timeout)) }
            }
            var result: [ProxyURL: String?] = [:]
            for await (proxy, problem) in group { result[proxy] = .some(problem) }
            return result
        }
    }

    private func probeHosts(_ plans: [HostPlan], reachability: [ProxyURL: String?]) async -> [(Int, HostCheck)] {
        let throttle = AsyncThrottle(limit: options.concurrency)
        let options = self.options
        return await withTaskGroup(of: (Int, HostCheck).self) { group in
            for (index, plan) in plans.enumerated() where plan.connection != nil {
                let proxyProblem = plan.route.proxy.flatMap { reachability[$0] ?? nil }
                group.addTask {
                    _ = await throttle.acquire()
                    defer { throttle.release() }
                    return (index, await Self.probe(plan, proxyProblem: proxyProblem, options: options))
                }
            }
            var results: [(Int, HostCheck)] = []
            for await result in group { results.append(result) }
            return results
        }
    }

    /// Probes one host: its shell is opened (proxy, CONNECT, handshake) and `commandCount` echo
    /// commands run on it, all on one connection, which must stay authenticated once.
    static func probe(_ plan: HostPlan, proxyProblem: String?, options: RouteCheckOptions) async -> HostCheck {
        var check = HostCheck(host: plan.host, route: plan.route, findings: plan.findings, refusal: nil)
        check.stages = RouteCheck.initialStages(host: plan.host, route: plan.route)
        guard let config = plan.connection else { return check }
        if let proxyProblem, let proxy = plan.route.proxy {
            let error = WinRMError(.proxy, "proxy \(proxy) is unreachable: \(proxyProblem) — check the route's proxy address and that the proxy is running", code: "tcp")
            check.error = error
            check.stages = RouteCheck.stages(after: error, at: .proxyReachable, host: plan.host, route: plan.route, authenticated: false)
            return check
        }

        let connection = WinRMConnection(config: config)
        let shell = WinRSShell(connection: connection)
        let deadline = Date().addingTimeInterval(options.hostTimeout)
        var shellOpened = false
        var commands = 0
        var failure: WinRMError?
        do {
            try await shell.open()
            shellOpened = true
            for index in 1...options.commandCount {
                let token = "winfleet-check-\(index)"
                let commandID = try await shell.startCommand(CommandSpec(command: "echo \(token)"))
                var stdout = Data()
                while true {
                    guard deadline.timeIntervalSinceNow > 0 else {
                        throw WinRMError(.timeout, "\(plan.host.name): the check did not finish within \(Int(options.hostTimeout)) s")
                    }
                    let output = try await shell.receive(commandID: commandID, deadline: deadline)
                    stdout.append(output.stdout)
                    if case .done = output.state { break }
                }
                try? await shell.signal(commandID: commandID, .terminate)
                guard String(decoding: stdout, as: UTF8.self).contains(token) else {
                    throw WinRMError(.protocol, "\(plan.host.name): echo \(token) printed \"\(String(decoding: stdout.prefix(80), as: UTF8.self))\"")
                }
                commands += 1
            }
        } catch {
            failure = HostSession.winRMError(error)
        }
        await shell.close()
        await connection.close()

        let events = connection.events
        var authentications = 0
        var localPort: Int?
        var lost: [String] = []
        for event in events {
            switch event {
            case .authenticated(_, let port):
                authentications += 1
                localPort = port
            case .affinityLost(let detail):
                lost.append(detail)
            case .reconnectedAfterIdle:
                break
            }
        }
        check.authentications = authentications
        check.requests = connection.roundTrips
        check.commandsRun = commands
        if connection.lastRoundTrip > 0 { check.roundTrip = connection.lastRoundTrip }

        if let failure {
            var error = failure
            if shellOpened {
                error.message = "after \(commands) of \(options.commandCount) command(s): \(error.message)"
            }
            let authenticated = authentications > 0 || (shellOpened && !plan.host.auth.isConnectionBased)
            let stage = RouteCheck.stage(of: failure, authenticated: authenticated, shellOpened: shellOpened)
            check.error = error
            check.stages = RouteCheck.stages(after: error, at: stage, host: plan.host, route: plan.route, authenticated: authenticated)
            return check
        }
        let outcome = RouteCheck.stagesAfterSuccess(host: plan.host, route: plan.route, authentications: authentications,
                                                    affinityLost: lost, commands: commands, requests: connection.roundTrips,
                                                    sealed: config.seals, localPort: localPort)
        check.stages = outcome.stages
        check.error = outcome.error
        return check
    }
}
