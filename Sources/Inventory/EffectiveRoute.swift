import Foundation

/// How one host is actually reached right now: the route after the environment is consulted.
public struct EffectiveRoute: Sendable, Equatable, CustomStringConvertible {
    /// Name of the inventory route this came from.
    public var routeName: String
    /// The proxy to use, or nil for a direct connection.
    public var proxy: ProxyURL?
    /// The environment variable the proxy came from (`HTTPS_PROXY`…), nil for a fixed proxy or direct.
    public var proxySource: String?
    /// `tunnel` or `forward`. HTTPS targets are always `tunnel` (TLS must be end to end).
    public var mode: ProxyMode
    /// Authentication to the proxy; `none` when direct.
    public var proxyAuth: ProxyAuthScheme
    /// Credential name for proxy authentication; nil when direct or `proxyAuth == .none`.
    public var proxyCredential: String?
    /// TLS settings for an https:// proxy.
    public var proxyTLS: TLSSettings
    /// One line for operators: `direct`, `via squid 127.0.0.1:3128 (tunnel, basic auth)`,
    /// `direct (NO_PROXY matches .lab)`.
    public var explanation: String
    /// Why the route cannot be used (e.g. a malformed HTTPS_PROXY); the policy refuses such hosts.
    public var problem: String?

    public init(routeName: String, proxy: ProxyURL? = nil, proxySource: String? = nil, mode: ProxyMode = .tunnel,
                proxyAuth: ProxyAuthScheme = .none, proxyCredential: String? = nil, proxyTLS: TLSSettings = .standard,
                explanation: String = "direct", problem: String? = nil) {
        self.routeName = routeName
        self.proxy = proxy
        self.proxySource = proxySource
        self.mode = mode
        self.proxyAuth = proxyAuth
        self.proxyCredential = proxyCredential
        self.proxyTLS = proxyTLS
        self.explanation = explanation
        self.problem = problem
    }

    public var isDirect: Bool { proxy == nil }
    public var description: String { explanation }

    /// Resolves `route` for `host`, consulting the environment for `"proxy": "env"` routes.
    public static func resolve(host: InventoryHost, route: Route, environment: [String: String]) -> EffectiveRoute {
        let url: ProxyURL
        var source: String?
        switch route.proxy {
        case .none:
            return EffectiveRoute(routeName: route.name, explanation: "direct")
        case .url(let fixed):
            url = fixed
        case .environment:
            switch EnvironmentProxy.resolve(scheme: host.transport, host: host.address, port: host.port, environment: environment) {
            case .direct(let reason):
                return EffectiveRoute(routeName: route.name, explanation: "direct (\(reason))")
            case .invalid(let variable, let reason):
                return EffectiveRoute(routeName: route.name, explanation: "unusable (\(variable) is malformed)",
                                      problem: "route \(route.name): \(reason)")
            case .proxy(let fromEnvironment, let variable):
                url = fromEnvironment
                source = variable
            }
        }
        let mode: ProxyMode = host.transport == .https ? .tunnel : route.mode
        var details = [mode.rawValue]
        if route.proxyAuth != .none { details.append("\(route.proxyAuth.rawValue) auth") }
        let shownProxy = url.scheme == .https ? url.description : url.hostAndPort
        let origin = source.map { " from \($0)" } ?? ""
        return EffectiveRoute(routeName: route.name, proxy: url, proxySource: source, mode: mode,
                              proxyAuth: route.proxyAuth,
                              proxyCredential: route.proxyAuth == .none ? nil : route.proxyCredential,
                              proxyTLS: route.proxyTLS,
                              explanation: "via \(route.name) \(shownProxy)\(origin) (\(details.joined(separator: ", ")))")
    }
}

extension Inventory {
    /// The route `host` takes right now (the environment matters for `"proxy": "env"` routes).
    public func effectiveRoute(for host: InventoryHost, environment: [String: String]) -> EffectiveRoute {
        guard let route = routes[host.routeName] else {
            return EffectiveRoute(routeName: host.routeName, explanation: "unusable (route \(host.routeName) is not defined)",
                                  problem: "route \(host.routeName) is not defined in \(fileName)")
        }
        return EffectiveRoute.resolve(host: host, route: route, environment: environment)
    }
}
