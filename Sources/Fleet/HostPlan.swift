import Foundation
import Inventory
import WinRMTransport

/// Everything needed to reach one host, decided before any byte is sent: its effective
/// route, the policy findings, and the connection settings (credentials resolved).
public struct HostPlan: Sendable {
    public var host: InventoryHost
    public var route: EffectiveRoute
    public var findings: [PolicyFinding]
    /// nil when the policy refuses the host or a credential cannot be read; `refusal` says why.
    public var connection: WinRMConnectionConfig?
    public var refusal: WinRMError?

    public var warnings: [PolicyFinding] { findings.filter { $0.severity == .warn } }
}

/// Turns inventory hosts into plans. Credentials are read once per credential name.
public struct HostPlanner {
    public let inventory: Inventory
    public let environment: [String: String]
    /// Asked once per credential whose password is in neither the environment nor a file
    /// (the console prompts without echo); nil = such hosts fail with the credential's error.
    public var askPassword: ((Credential, Error) -> String?)?
    private var passwords: [String: Result<String, Error>] = [:]
    /// One Kerberos identity per credential (one AS exchange for the whole fleet), and the default
    /// ticket cache for hosts without a credential.
    private var ticketSources: [String: KerberosTicketSource] = [:]
    private var defaultTicketCache: KerberosTicketSource?

    public init(inventory: Inventory, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.inventory = inventory
        self.environment = environment
    }

    public mutating func plan(_ host: InventoryHost) -> HostPlan {
        let route = inventory.effectiveRoute(for: host, environment: environment)
        let findings = Policy.evaluate(host: host, route: route)
        var plan = HostPlan(host: host, route: route, findings: findings, connection: nil, refusal: nil)
        if let refusal = findings.first(where: { $0.severity == .refuse }) {
            plan.refusal = WinRMError(.policy, "\(refusal.message) (rule \(refusal.rule): \"\(refusal.quote)\") — fix: \(refusal.fix)",
                                      code: "rule-\(refusal.rule)")
            return plan
        }
        do {
            plan.connection = try connectionConfig(host: host, route: route)
        } catch let error as WinRMError {
            plan.refusal = error
        } catch {
            plan.refusal = WinRMError(.auth, "\(host.name): \(error)")
        }
        return plan
    }

    private mutating func secret(for credentialName: String) throws -> (username: String, password: String) {
        guard let credential = inventory.credentials[credentialName] else {
            throw WinRMError(.auth, "credential \(credentialName) is not defined in the inventory")
        }
        let result: Result<String, Error>
        if let cached = passwords[credentialName] {
            result = cached
        } else {
            var resolved = Result { try credential.resolvePassword(environment: environment) }
            if case .failure(let error) = resolved, let askPassword, let typed = askPassword(credential, error), !typed.isEmpty {
                resolved = .success(typed)
            }
            result = resolved
            passwords[credentialName] = result
        }
        switch result {
        case .success(let password): return (credential.username, password)
        case .failure(let error): throw WinRMError(.auth, "\(error)")
        }
    }

    private mutating func ticketSource(credentialName: String?, username: String, password: String) -> KerberosTicketSource {
        guard let credentialName else {
            if let cache = defaultTicketCache { return cache }
            let cache = KerberosTicketSource()
            defaultTicketCache = cache
            return cache
        }
        if let source = ticketSources[credentialName] { return source }
        let source = KerberosTicketSource(principal: KerberosTicketSource.principal(forAccount: username), password: password)
        ticketSources[credentialName] = source
        return source
    }

    private mutating func connectionConfig(host: InventoryHost, route: EffectiveRoute) throws -> WinRMConnectionConfig {
        guard let url = URL(string: host.endpointURL) else {
            throw WinRMError(.policy, "\(host.name): cannot form a URL from address \(host.address) port \(host.port)")
        }
        let usesKerberos = host.auth == .kerberos || host.auth == .negotiate
        var username = "", password = ""
        if let credentialName = host.credentialName {
            (username, password) = try secret(for: credentialName)
        } else if !usesKerberos {
            throw WinRMError(.auth, "\(host.name) has no credential: set \"credential\" on the host or in \"defaults\"")
        }
        let authentication: HostAuthentication
        switch host.auth {
        case .basic: authentication = .basic
        case .ntlm: authentication = .ntlm
        case .negotiate: authentication = .negotiate
        case .kerberos: authentication = .kerberos
        }
        var config = WinRMConnectionConfig(endpoint: url, authentication: authentication, username: username, password: password)
        if usesKerberos {
            // With a credential: its password, exchanged for a TGT in memory. Without: the ticket
            // cache (kinit, KRB5CCNAME); negotiate then has no NTLM to fall back to.
            config.kerberos = KerberosSettings(service: host.spnService.rawValue, servicePrincipalName: host.spn,
                                               delegate: host.kerberosDelegation,
                                               tickets: ticketSource(credentialName: host.credentialName,
                                                                     username: username, password: password))
        }
        switch host.encryption {
        case .auto: config.encryption = .auto
        case .always: config.encryption = .always
        case .never: config.encryption = .never
        }
        config.tls.verify = host.tls.verify
        config.tls.caFile = host.tls.caFile
        config.certificateFingerprintSHA256 = host.tls.fingerprintSHA256
        config.connectTimeout = host.connectTimeout
        config.operationTimeout = host.operationTimeout
        if let proxy = route.proxy {
            var options = ProxyOptions(url: proxy.description, tunnel: route.mode == .tunnel)
            options.tls.verify = route.proxyTLS.verify
            options.tls.caFile = route.proxyTLS.caFile
            if route.proxyAuth != .none, let proxyCredential = route.proxyCredential {
                let (proxyUser, proxyPassword) = try secret(for: proxyCredential)
                options.auth = ProxyAuthMethod(rawValue: route.proxyAuth.rawValue) ?? .none
                options.username = proxyUser
                options.password = proxyPassword
            }
            config.proxy = options
        }
        return config
    }
}
