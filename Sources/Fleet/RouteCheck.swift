import Foundation
import Inventory
import WinRMTransport

/// The stages `winfleet check` probes for every host, in the order a connection goes through them.
public enum RouteCheckStage: String, Sendable, CaseIterable, Codable {
    /// TCP connect to the route's proxy.
    case proxyReachable = "proxy_reachable"
    /// The proxy accepts our proxy credentials (or needs none).
    case proxyAuth = "proxy_auth"
    /// The host's port is reached: CONNECT allowed (tunnel), forwarded request answered (forward),
    /// TCP (and TLS) to the host (direct).
    case connect
    /// The host accepts our credentials.
    case hostAuth = "host_auth"
    /// Several requests on one session keep one authenticated connection (no re-authentication,
    /// no `affinityLost`).
    case affinity

    public var title: String {
        switch self {
        case .proxyReachable: return "PROXY TCP"
        case .proxyAuth: return "PROXY AUTH"
        case .connect: return "CONNECT"
        case .hostAuth: return "HOST AUTH"
        case .affinity: return "AFFINITY"
        }
    }
}

/// What one stage found.
public enum StageOutcome: Sendable, Equatable {
    case passed(String)
    case failed(WinRMError)
    /// The stage does not apply to this route or host (direct route, no proxy auth, Basic...).
    case notApplicable(String)
    /// An earlier stage failed (or the policy refused the host): nothing was tried.
    case notReached

    public var isFailure: Bool { if case .failed = self { return true } else { return false } }
    public var isPassed: Bool { if case .passed = self { return true } else { return false } }

    /// The table cell: `ok`, `FAIL`, `n/a`, `-`.
    public var cell: String {
        switch self {
        case .passed: return "ok"
        case .failed: return "FAIL"
        case .notApplicable: return "n/a"
        case .notReached: return "-"
        }
    }

    /// `passed`, `failed`, `n/a`, `not_reached` (the JSON `status`).
    public var status: String {
        switch self {
        case .passed: return "passed"
        case .failed: return "failed"
        case .notApplicable: return "n/a"
        case .notReached: return "not_reached"
        }
    }

    public var detail: String? {
        switch self {
        case .passed(let detail), .notApplicable(let detail): return detail.isEmpty ? nil : detail
        case .failed(let error): return "\(error.kind.rawValue): \(error.message)"
        case .notReached: return nil
        }
    }
}

/// One host's check.
public struct HostCheck: Sendable, Equatable {
    public var host: InventoryHost
    public var route: EffectiveRoute
    public var findings: [PolicyFinding]
    /// The policy (or a credential problem) stopped the host before any byte was sent.
    public var refusal: WinRMError?
    public var stages: [RouteCheckStage: StageOutcome]
    /// The first failure, if any.
    public var error: WinRMError?
    /// Completed authentications on the probe's connection (1 when affinity held).
    public var authentications: Int
    /// HTTP requests the probe sent, handshake legs included.
    public var requests: Int
    /// Commands that ran to their end on the probe's shell.
    public var commandsRun: Int
    public var roundTrip: TimeInterval?

    public init(host: InventoryHost, route: EffectiveRoute, findings: [PolicyFinding], refusal: WinRMError? = nil) {
        self.host = host
        self.route = route
        self.findings = findings
        self.refusal = refusal
        stages = Dictionary(uniqueKeysWithValues: RouteCheckStage.allCases.map { ($0, StageOutcome.notReached) })
        authentications = 0
        requests = 0
        commandsRun = 0
    }

    public subscript(stage: RouteCheckStage) -> StageOutcome { stages[stage] ?? .notReached }

    /// Every applicable stage passed and nothing refused the host.
    public var passed: Bool {
        refusal == nil && error == nil && !stages.values.contains { $0.isFailure || $0 == .notReached }
    }

    /// The host as a run result, for `RouteHealth`.
    public var asResult: HostResult {
        let failure = refusal ?? error
        return HostResult(host: host.name, route: route.routeName, status: failure == nil ? .ok : .error,
                          error: failure, startedAt: Date(timeIntervalSince1970: 0), duration: roundTrip ?? 0)
    }
}

/// One route's line of the report.
public struct RouteCheckSummary: Sendable, Equatable {
    public var route: String
    /// How the route resolves (for the first host on it; `env` routes may differ per host).
    public var explanation: String
    public var proxy: ProxyURL?
    public var mode: ProxyMode?
    public var proxyAuth: ProxyAuthScheme
    /// Each stage over the route's hosts: failed if any host failed it, passed if any passed.
    public var stages: [RouteCheckStage: StageOutcome]
    public var health: RouteHealth.RouteStats
}

/// Everything `winfleet check` found.
public struct RouteCheckReport: Sendable, Equatable {
    public var inventoryFile: String
    /// Non-fatal inventory findings (inline passwords, `tls.verify: false`...).
    public var inventoryWarnings: [String]
    public var hosts: [HostCheck]
    public var routes: [RouteCheckSummary]
    /// Whether the network was probed (false: rules only).
    public var probed: Bool
    /// The requests run on each session for the affinity check.
    public var commandCount: Int

    /// Nothing failed and no host was refused (warnings do not count).
    public var passed: Bool {
        hosts.allSatisfy { $0.refusal == nil } && (!probed || hosts.allSatisfy(\.passed))
    }
}

/// The pure part of `check`: how a probe's outcome maps onto the stages.
public enum RouteCheck {
    /// What a host's stages are before any probe: n/a where they cannot apply.
    public static func initialStages(host: InventoryHost, route: EffectiveRoute) -> [RouteCheckStage: StageOutcome] {
        var stages = Dictionary(uniqueKeysWithValues: RouteCheckStage.allCases.map { ($0, StageOutcome.notReached) })
        if route.isDirect {
            stages[.proxyReachable] = .notApplicable("direct")
            stages[.proxyAuth] = .notApplicable("direct")
        }
        return stages
    }

    /// Which stage an error belongs to. `authenticated`: the connection completed an authentication
    /// before the error (so the host accepted our credentials).
    public static func stage(of error: WinRMError, authenticated: Bool, shellOpened: Bool) -> RouteCheckStage {
        if shellOpened { return .affinity }
        switch error.kind {
        case .proxyAuth:
            return .proxyAuth
        case .proxy:
            // An HTTP status (CONNECT refused, tunnel failed, error page) comes from a proxy that
            // accepted our connection; a curl or TCP code means the proxy itself was not reached.
            return Int(error.code ?? "") != nil ? .connect : .proxyReachable
        case .network, .tls, .timeout:
            return authenticated ? .affinity : .connect
        case .auth:
            return .hostAuth
        case .affinity:
            return .affinity
        case .policy:
            return .proxyReachable
        case .wsmanFault, .protocol:
            return authenticated ? .affinity : .hostAuth
        }
    }

    /// Stages after a probe that failed with `error` at `failedStage`: earlier stages passed (or
    /// n/a), later ones were not reached. An affinity failure during the handshake leaves host auth
    /// unverified.
    public static func stages(after error: WinRMError, at failedStage: RouteCheckStage, host: InventoryHost,
                              route: EffectiveRoute, authenticated: Bool) -> [RouteCheckStage: StageOutcome] {
        var stages = initialStages(host: host, route: route)
        let order = RouteCheckStage.allCases
        let failedIndex = order.firstIndex(of: failedStage)!
        for (index, stage) in order.enumerated() {
            if case .notApplicable = stages[stage]! {
                if stage == failedStage { stages[stage] = .failed(error) }
                continue
            }
            if index < failedIndex {
                stages[stage] = passedOutcome(stage, host: host, route: route)
            } else if index == failedIndex {
                stages[stage] = .failed(error)
            } else {
                stages[stage] = .notReached
            }
        }
        if failedStage == .affinity && !authenticated && host.auth.isConnectionBased {
            stages[.hostAuth] = .notReached
        }
        if failedStage == .connect && error.code == "403" && route.proxyAuth != .none {
            // A proxy may refuse the port before it looks at our credentials: not verified.
            stages[.proxyAuth] = .notReached
        }
        return stages
    }

    /// The outcome of a stage that was passed on the way to a later one.
    static func passedOutcome(_ stage: RouteCheckStage, host: InventoryHost, route: EffectiveRoute) -> StageOutcome {
        switch stage {
        case .proxyReachable:
            return route.proxy.map { .passed("TCP connect to \($0.hostAndPort)") } ?? .notApplicable("direct")
        case .proxyAuth:
            guard let proxy = route.proxy else { return .notApplicable("direct") }
            if route.proxyAuth == .none { return .notApplicable("the route sends no proxy credentials and \(proxy.hostAndPort) asked for none") }
            return .passed("\(route.proxyAuth) accepted")
        case .connect:
            if route.isDirect { return .passed("\(host.transport) to \(host.address):\(host.port)") }
            return route.mode == .tunnel ? .passed("CONNECT \(host.address):\(host.port) allowed")
                                         : .passed("forwarded to \(host.address):\(host.port)")
        case .hostAuth:
            return .passed("\(host.auth) accepted")
        case .affinity:
            return .passed("")
        }
    }

    /// Stages after a probe in which every request succeeded.
    public static func stagesAfterSuccess(host: InventoryHost, route: EffectiveRoute, authentications: Int,
                                          affinityLost: [String], commands: Int, requests: Int,
                                          sealed: Bool, localPort: Int?) -> (stages: [RouteCheckStage: StageOutcome], error: WinRMError?) {
        var stages = initialStages(host: host, route: route)
        for stage in RouteCheckStage.allCases where stage != .affinity {
            if case .notApplicable = stages[stage]! { continue }
            stages[stage] = passedOutcome(stage, host: host, route: route)
        }
        let what = "\(commands) command(s), \(requests) request(s)\(sealed ? " sealed" : "")"
        guard host.auth.isConnectionBased else {
            stages[.affinity] = .notApplicable("basic authenticates every request; \(what) ok")
            return (stages, nil)
        }
        if affinityLost.isEmpty && authentications == 1 {
            stages[.affinity] = .passed("\(what) on one connection\(localPort.map { " (local port \($0))" } ?? ""), 1 authentication")
            return (stages, nil)
        }
        let detail = affinityLost.isEmpty ? "" : ": " + affinityLost.joined(separator: "; ")
        let error = WinRMError(.affinity, "\(host.name): the session needed \(authentications) authentications for \(what)\(detail) — the connection did not stay the same end to end; \(remedy(route))")
        stages[.affinity] = .failed(error)
        return (stages, error)
    }

    static func remedy(_ route: EffectiveRoute) -> String {
        guard let proxy = route.proxy else { return "check for a load balancer or middlebox that closes or swaps connections" }
        return route.mode == .forward
            ? "use mode tunnel, or a proxy that pins connection-auth connections (\(proxy.hostAndPort) does not)"
            : "check that \(proxy.hostAndPort) keeps CONNECT tunnels open"
    }

    /// The route lines: stages folded over each route's hosts, health from their results.
    public static func summarize(_ hosts: [HostCheck]) -> [RouteCheckSummary] {
        var health = RouteHealth(hostRoutes: Dictionary(hosts.map { ($0.host.name, $0.route.routeName) }, uniquingKeysWith: { a, _ in a }))
        for check in hosts { health.record(check.asResult, roundTrip: check.roundTrip) }
        var order: [String] = []
        var byRoute: [String: [HostCheck]] = [:]
        for check in hosts {
            if byRoute[check.route.routeName] == nil { order.append(check.route.routeName) }
            byRoute[check.route.routeName, default: []].append(check)
        }
        return order.map { name in
            let checks = byRoute[name]!
            let first = checks[0].route
            var stages: [RouteCheckStage: StageOutcome] = [:]
            for stage in RouteCheckStage.allCases {
                let outcomes = checks.map { $0[stage] }
                stages[stage] = outcomes.first(where: \.isFailure)
                    ?? outcomes.first(where: \.isPassed)
                    ?? outcomes.first(where: { if case .notApplicable = $0 { return true } else { return false } })
                    ?? .notReached
            }
            return RouteCheckSummary(route: name, explanation: first.explanation, proxy: first.proxy,
                                     mode: first.isDirect ? nil : first.mode, proxyAuth: first.proxyAuth,
                                     stages: stages, health: health[name] ?? RouteHealth.RouteStats(route: name))
        }
    }
}
