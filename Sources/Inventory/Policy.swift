import Foundation

/// One result of checking a host against the proxy rules.
public struct PolicyFinding: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable, Equatable {
        /// Nothing may be sent to the host.
        case refuse
        /// Allowed, but the operator should know.
        case warn
    }

    public var severity: Severity
    /// Rule number (see `Policy`).
    public var rule: Int
    /// The sentence of "Proxy Servers and WinRM" the rule enforces (rules 5 and 6 state winfleet's own reason).
    public var quote: String
    /// What is wrong, naming the host.
    public var message: String
    /// What to change.
    public var fix: String

    public init(severity: Severity, rule: Int, quote: String, message: String, fix: String) {
        self.severity = severity
        self.rule = rule
        self.quote = quote
        self.message = message
        self.fix = fix
    }

    /// `refuse web01 (rule 1): … — fix: …`
    public var description: String { "\(severity.rawValue) \(message) — fix: \(fix)" }
}

/// The rules of "Proxy Servers and WinRM", checked before any byte is sent to a host.
///
/// 1. No unencrypted HTTP through a proxy: over http through a proxy the host must use ntlm, kerberos
///    or negotiate with message encryption (Basic, or encryption `never`, is refused even with
///    `allow_unencrypted`).
/// 2. A proxy that requires authentication (`proxy_auth` other than none) requires transport https.
/// 3. Basic over http, or encryption `never` over http, only on a direct route with `allow_unencrypted: true`.
/// 4. `mode: forward` with a connection-based scheme over http: warning, affinity depends on the proxy.
/// 5. (winfleet) `encryption: always` needs a scheme that can seal; Basic cannot.
/// 6. (winfleet) A route that cannot be resolved (e.g. malformed HTTPS_PROXY) sends nothing.
public enum Policy {
    public static let rule1Quote = "Under no circumstances should unencrypted HTTP requests be sent through proxy servers."
    public static let rule2Quote = "If the proxy server requires authentication, the WinRM clients and servers must use HTTPS."
    public static let rule3Quote = "For better security and connection-based affinity, HTTPS should be used as the transport mechanism."
    public static let rule4Quote = "HTTP-based proxy servers might not support the ability to maintain the associated client-based and server-based connections."
    public static let rule5Quote = "WinRM 2.0 supports encryption over HTTP by using the Negotiate, Kerberos, and CredSSP authentication schemes."
    public static let rule6Quote = "winfleet sends nothing over a route it cannot resolve, rather than silently going direct."

    /// Every finding for `host` on `route`, refusals first, in rule order.
    public static func evaluate(host: InventoryHost, route: EffectiveRoute) -> [PolicyFinding] {
        var findings: [PolicyFinding] = []
        let overHTTP = host.transport == .http
        let proxied = route.proxy != nil
        let via = route.proxy.map { "through proxy \(route.routeName) (\($0.hostAndPort))" } ?? ""

        if let problem = route.problem {
            findings.append(PolicyFinding(
                severity: .refuse, rule: 6, quote: rule6Quote,
                message: "\(host.name) (rule 6): \(problem)",
                fix: "fix the proxy environment variable (scheme://host:port, no credentials), or give the host a route with a fixed proxy"))
        }

        if overHTTP && proxied {
            if host.auth == .basic {
                findings.append(PolicyFinding(
                    severity: .refuse, rule: 1, quote: rule1Quote,
                    message: "\(host.name) (rule 1): basic auth over http \(via) would send the password and every message unencrypted through the proxy",
                    fix: "use transport https, or auth ntlm/negotiate with encryption auto"))
            } else if !host.usesMessageEncryption {
                findings.append(PolicyFinding(
                    severity: .refuse, rule: 1, quote: rule1Quote,
                    message: "\(host.name) (rule 1): encryption \(host.encryption) over http \(via) would send messages unencrypted through the proxy",
                    fix: "use encryption auto (or always), or transport https"))
            }
        }

        if overHTTP && proxied && route.proxyAuth != .none {
            findings.append(PolicyFinding(
                severity: .refuse, rule: 2, quote: rule2Quote,
                message: "\(host.name) (rule 2): proxy \(route.routeName) requires \(route.proxyAuth) authentication, so the host must use https, not http",
                fix: "use transport https (port 5986), or a route whose proxy needs no authentication"))
        }

        if overHTTP && !proxied && !host.allowUnencrypted {
            if host.auth == .basic {
                findings.append(PolicyFinding(
                    severity: .refuse, rule: 3, quote: rule3Quote,
                    message: "\(host.name) (rule 3): basic auth over http sends the password and every message unencrypted",
                    fix: "use transport https, or auth ntlm/negotiate with encryption auto, or (direct route only) set allow_unencrypted: true"))
            } else if host.encryption == .never {
                findings.append(PolicyFinding(
                    severity: .refuse, rule: 3, quote: rule3Quote,
                    message: "\(host.name) (rule 3): encryption never over http sends every message unencrypted",
                    fix: "use encryption auto, or transport https, or (direct route only) set allow_unencrypted: true"))
            }
        }

        if host.encryption == .always && host.auth == .basic {
            findings.append(PolicyFinding(
                severity: .refuse, rule: 5, quote: rule5Quote,
                message: "\(host.name) (rule 5): encryption always needs message sealing, which basic auth cannot do",
                fix: "use auth ntlm, kerberos or negotiate, or encryption auto"))
        }

        if overHTTP && proxied && route.mode == .forward && host.auth.isConnectionBased {
            findings.append(PolicyFinding(
                severity: .warn, rule: 4, quote: rule4Quote,
                message: "\(host.name) (rule 4): \(host.auth) authenticates the connection, but forward mode through proxy \(route.routeName) keeps it only if the proxy maintains connection affinity; otherwise expect access denied errors",
                fix: "use mode tunnel (the default), or transport https"))
        }

        return findings.sorted { ($0.severity == .refuse ? 0 : 1, $0.rule) < ($1.severity == .refuse ? 0 : 1, $1.rule) }
    }

    /// Whether `findings` allow sending anything.
    public static func allows(_ findings: [PolicyFinding]) -> Bool {
        !findings.contains { $0.severity == .refuse }
    }
}

extension Inventory {
    /// Policy findings for a host on the route it takes in `environment`.
    public func policyFindings(for host: InventoryHost, environment: [String: String]) -> [PolicyFinding] {
        Policy.evaluate(host: host, route: effectiveRoute(for: host, environment: environment))
    }
}
