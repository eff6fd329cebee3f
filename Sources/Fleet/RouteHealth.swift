import Foundation
import WinRMTransport

/// How each proxy route is doing, from what the engine reports: which hosts worked on it, which
/// failed and why (auth, affinity, proxy), and the latest round-trip time. The console's route
/// view and `winfleet check` show it.
///
/// A pure value: `apply` folds one `RunUpdate` (plus the host's round-trip time, which the update
/// does not carry) into it. A host counts under the outcome of its latest result, so a host that
/// failed and then recovered is counted once, as ok.
public struct RouteHealth: Sendable, Equatable {
    /// Where a host stands on its route after its latest result.
    public enum HostOutcome: String, Sendable, Equatable, Codable {
        /// The command ran (whatever its exit code): the route and the authentication work.
        case ok
        case auth
        case affinity
        case proxy
        case proxyAuth = "proxy_auth"
        /// Any other failure (network, TLS, timeout, faults, policy...).
        case other
        /// Cancelled before it ran: says nothing about the route.
        case cancelled

        static func of(_ result: HostResult) -> HostOutcome {
            switch result.status {
            case .ok, .failed: return .ok
            case .cancelled: return .cancelled
            case .error, .timeout:
                switch result.error?.kind {
                case .auth?: return .auth
                case .affinity?: return .affinity
                case .proxy?: return .proxy
                case .proxyAuth?: return .proxyAuth
                default: return .other
                }
            }
        }
    }

    /// One route's figures.
    public struct RouteStats: Sendable, Equatable {
        public var route: String
        /// Hosts of the inventory (or the run) on this route.
        public var hostCount: Int
        /// Latest outcome per host that has a result.
        public var outcomes: [String: HostOutcome]
        /// `affinity_lost` session events seen on this route (including ones recovered by re-authenticating).
        public var affinityLostEvents: Int
        /// The latest round trip of any host on the route, in seconds.
        public var latestRTT: TimeInterval?
        /// The latest error message on the route, with the host it came from.
        public var lastError: String?

        public init(route: String, hostCount: Int = 0) {
            self.route = route
            self.hostCount = hostCount
            outcomes = [:]
            affinityLostEvents = 0
        }

        public func count(_ outcome: HostOutcome) -> Int { outcomes.values.filter { $0 == outcome }.count }
        public var hostsOK: Int { count(.ok) }
        public var authErrors: Int { count(.auth) }
        public var affinityErrors: Int { count(.affinity) }
        /// Proxy errors, proxy authentication refusals included.
        public var proxyErrors: Int { count(.proxy) + count(.proxyAuth) }
        public var proxyAuthErrors: Int { count(.proxyAuth) }
        public var otherErrors: Int { count(.other) }
        /// Hosts whose latest result is a failure of any kind.
        public var failingHosts: Int { outcomes.values.filter { $0 != .ok && $0 != .cancelled }.count }

        /// `ok`, `degraded` (some hosts fail), `failing` (no host works), `unknown` (no result yet).
        public var verdict: String {
            if hostsOK == 0 && failingHosts == 0 { return "unknown" }
            if failingHosts == 0 { return "ok" }
            return hostsOK == 0 ? "failing" : "degraded"
        }
    }

    public private(set) var routes: [String: RouteStats]
    /// Which route each host takes (results carry it too; this covers session events of unknown hosts).
    private var routeOfHost: [String: String]

    /// Starts with every route of `hostRoutes` (host name → route name) at zero.
    public init(hostRoutes: [String: String] = [:]) {
        routeOfHost = hostRoutes
        routes = [:]
        for (_, route) in hostRoutes {
            routes[route, default: RouteStats(route: route)].hostCount += 1
        }
    }

    public init(plans: [HostPlan]) {
        self.init(hostRoutes: Dictionary(plans.map { ($0.host.name, $0.route.routeName) }, uniquingKeysWith: { first, _ in first }))
    }

    /// Routes by name.
    public var sortedRoutes: [RouteStats] { routes.values.sorted { $0.route < $1.route } }

    public subscript(route: String) -> RouteStats? { routes[route] }

    /// Folds one engine update in. `roundTrip` is the host's latest round-trip time for a `.result`
    /// (`HostSession.roundTripTime`); nil keeps the route's previous figure.
    public mutating func apply(_ update: RunUpdate, roundTrip: TimeInterval? = nil) {
        switch update {
        case .result(let result):
            record(result, roundTrip: roundTrip)
        case .sessionEvent(let event) where event.kind == .affinityLost:
            let route = event.route.isEmpty ? (routeOfHost[event.host] ?? event.route) : event.route
            ensureRoute(route, host: event.host)
            routes[route]!.affinityLostEvents += 1
        case .connected(let host):
            let route = routeOfHost[host] ?? "?"
            ensureRoute(route, host: host)
            routes[route]!.outcomes[host] = .ok
            if let roundTrip { routes[route]!.latestRTT = roundTrip }
        case .connectFailed(let host, let error):
            // Opening a session failed before any command: counts like an error result.
            let route = routeOfHost[host] ?? "?"
            record(HostResult(host: host, route: route, status: .error, error: error, startedAt: Date(), duration: 0))
        case .runFinished, .runStarted, .hostState, .sessionState, .output, .sessionEvent, .storeProblem:
            break
        }
    }

    /// Folds one host result in (also used by `check`, which has results but no engine).
    public mutating func record(_ result: HostResult, roundTrip: TimeInterval? = nil) {
        let route = result.route
        ensureRoute(route, host: result.host)
        let outcome = HostOutcome.of(result)
        if outcome == .cancelled && routes[route]!.outcomes[result.host] != nil {
            return  // a cancelled run does not erase what the host showed before
        }
        routes[route]!.outcomes[result.host] = outcome
        if let roundTrip { routes[route]!.latestRTT = roundTrip }
        if let error = result.error, outcome != .ok && outcome != .cancelled {
            routes[route]!.lastError = "\(result.host): \(error.kind.rawValue): \(error.message)"
        }
    }

    private mutating func ensureRoute(_ route: String, host: String) {
        if routes[route] == nil { routes[route] = RouteStats(route: route) }
        if routeOfHost[host] == nil {
            routeOfHost[host] = route
            routes[route]!.hostCount += 1
        } else if routeOfHost[host] != route {
            // The inventory was reloaded with the host on another route: move it.
            let previous = routeOfHost[host]!
            routes[previous]?.hostCount -= 1
            routes[previous]?.outcomes[host] = nil
            routeOfHost[host] = route
            routes[route]!.hostCount += 1
        }
    }
}
