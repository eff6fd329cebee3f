import ASCIIText
import Foundation
import WinRMAuth
import WinRMKerberos

// Kerberos and Negotiate through MIT GSS-API (WinRMKerberos).
//
// The handshake runs like NTLM's, on an empty-body POST of this connection: the client's token
// goes in `Authorization: Negotiate <b64>` (SPNEGO, restricted to Kerberos) or
// `Authorization: Kerberos <b64>` (raw Kerberos, `auth: kerberos`); the host answers 200 with its
// own token in `WWW-Authenticate` (mutual authentication: the context is complete, and the
// host proven, only once that token is consumed) or 401 with a KRB-ERROR token saying why it
// refused. Afterwards bodies are sealed per MS-WSMV with gss_wrap_iov/gss_unwrap_iov under
// `application/HTTP-SPNEGO-session-encrypted` or `application/HTTP-Kerberos-session-encrypted`,
// and the context lives as long as the TCP connection, exactly like NTLM's.
//
// `auth: negotiate` tries Kerberos first and uses NTLM (WinRMConnection+Context.swift) when no
// Kerberos credential can be had for the host: no ticket and no password, a KDC that does not
// know the SPN or the user, no reachable KDC, or a host that does not offer Kerberos. Failures
// where NTLM would not help (wrong password, clock skew, a host that refused our ticket with a
// reason) are reported instead. The mechanism used is recorded as
// `ConnectionEvent.authenticated(mechanism: "kerberos" | "ntlm", …)`.
//
// Not done: channel binding (tls-server-end-point) for Kerberos over https — WinRMKerberos has
// no channel-binding input yet, and Windows' default CbtHardeningLevel=Relaxed does not need it.

/// Where a Kerberos identity comes from, shared by every connection that uses it: one AS
/// exchange (password) or one ticket-cache read serves a whole fleet. Thread-safe.
public final class KerberosTicketSource: @unchecked Sendable, CustomStringConvertible {
    private let credential: KerberosCredential
    private let lock = NSLock()
    private var acquired: [KerberosMechanism: KerberosAcquiredCredential] = [:]

    /// Tickets from a ticket cache filled by kinit: `cache` nil is the default one (KRB5CCNAME,
    /// else krb5.conf default_ccache_name), otherwise a name such as "FILE:/path".
    public init(ticketCache cache: String? = nil) {
        credential = cache.map { .cache($0) } ?? .defaultCache
    }

    /// A password, exchanged for a TGT with gss_acquire_cred_with_password: the tickets stay in
    /// a private in-memory cache that dies with this object; nothing is written to disk.
    /// `principal` is "user@REALM" or "user" (default realm); see `principal(forAccount:)`.
    public init(principal: String, password: String) {
        credential = .password(principal: principal, password: password)
    }

    /// Without the password.
    public var description: String { credential.description }

    /// Whether NTLM could use the same identity (a password) — for messages only.
    var isTicketCache: Bool {
        if case .password = credential { return false }
        return true
    }

    /// The Kerberos principal for an inventory account name:
    /// `DOMAIN\user` → `user` in the default realm (a NetBIOS domain name is not a realm) unless
    /// DOMAIN has a dot (`corp.example.com\user` → `user@CORP.EXAMPLE.COM`); `user@domain` →
    /// `user@DOMAIN` (realms are upper case); `user` → `user` (default realm).
    public static func principal(forAccount account: String) -> String {
        if let slash = account.firstIndex(of: "\\") {
            let domain = account[..<slash]
            let user = String(account[account.index(after: slash)...])
            return domain.contains(".") ? "\(user)@\(domain.uppercased())" : user
        }
        if let at = account.lastIndex(of: "@") {
            return "\(account[..<at])@\(account[account.index(after: at)...].uppercased())"
        }
        return account
    }

    /// The credential for `mechanism`, acquired on first use. A ticket-cache credential whose
    /// TGT has run out is read again (a fresh kinit in the meantime is picked up); a password
    /// credential refreshes its TGT itself (MIT keeps the password for that).
    func credential(for mechanism: KerberosMechanism) throws -> KerberosAcquiredCredential {
        lock.lock(); defer { lock.unlock() }
        if let cached = acquired[mechanism], !isTicketCache || cached.remainingLifetime > 0 {
            return cached
        }
        acquired[mechanism] = nil
        let fresh = try KerberosAcquiredCredential(credential, mechanism: mechanism)
        acquired[mechanism] = fresh
        return fresh
    }

    static func realm(of principal: String) -> String? {
        guard let at = principal.lastIndex(of: "@"), principal.index(after: at) < principal.endIndex else { return nil }
        return String(principal[principal.index(after: at)...])
    }

    /// Drops the acquired credential so the next use reads the cache (or runs the AS exchange) again.
    func forget(_ mechanism: KerberosMechanism) {
        lock.lock(); defer { lock.unlock() }
        acquired[mechanism] = nil
    }
}

/// How one host is reached with Kerberos.
public struct KerberosSettings: Sendable {
    /// Service class of the default target name `SERVICE@host` ("HTTP", or "WSMAN").
    public var service: String
    /// Explicit SPN for hosts reached by alias or IP: "HTTP/web01.corp.example.com" (realm from
    /// krb5.conf [domain_realm]) or "HTTP/web01.corp.example.com@CORP.EXAMPLE.COM".
    public var servicePrincipalName: String?
    /// Ask for a forwarded TGT (`kerberos_delegation: true`).
    public var delegate: Bool
    /// nil: the default ticket cache.
    public var tickets: KerberosTicketSource?

    public init(service: String = "HTTP", servicePrincipalName: String? = nil, delegate: Bool = false,
                tickets: KerberosTicketSource? = nil) {
        self.service = service
        self.servicePrincipalName = servicePrincipalName
        self.delegate = delegate
        self.tickets = tickets
    }

    /// The GSS target name for a host reached at `address`: "HTTP@address" by default; an SPN
    /// "SERVICE/host" becomes the host-based name "SERVICE@host" (its realm then comes from
    /// [domain_realm], as for the default), "SERVICE/host@REALM" is used as the principal it is.
    public func targetName(address: String) -> String {
        if let spn = servicePrincipalName, !spn.isEmpty {
            if spn.contains("@") { return spn }
            if let slash = spn.firstIndex(of: "/") {
                return "\(spn[..<slash])@\(spn[spn.index(after: slash)...])"
            }
            return spn
        }
        return "\(service)@\(address)"
    }

    /// The SPN as an operator writes it ("HTTP/host"), for messages before the KDC named it.
    public func displayedSPN(address: String) -> String {
        if let spn = servicePrincipalName, !spn.isEmpty { return spn }
        return "\(service)/\(address)"
    }
}

/// Per-host memory of the Kerberos side of a connection.
struct KerberosConnectionState {
    /// Negotiate gave up on Kerberos for this host; the reason, for the record.
    var negotiateFellBackToNTLM: String?
    /// "kerberos" or "ntlm", once authenticated.
    var mechanism: String?
}

/// Acquiring the credential or the first step failed; the credential's principal, once there,
/// names the realm the service ticket was asked of.
private struct KerberosFirstStepFailure: Error {
    var error: KerberosError
    var clientPrincipal: String?
}

/// Kerberos could not even start for this host (nothing was sent): Negotiate may use NTLM.
private struct KerberosUnavailable: Error {
    var error: WinRMError
    /// What NTLM fallback should say it replaced.
    var reason: String
}

extension WinRMConnection {
    /// The mechanism the last authentication used ("kerberos", "ntlm", "basic" is never set).
    public var authenticatedMechanism: String? { kerberosState.mechanism }

    /// Why Negotiate used NTLM instead of Kerberos for this host, if it did.
    public var negotiateFallbackReason: String? { kerberosState.negotiateFellBackToNTLM }

    /// Runs the handshake of the configured scheme on this connection.
    func authenticateConnection() async throws {
        switch config.authentication {
        case .basic, .ntlm:
            try await authenticateNTLM()
            kerberosState.mechanism = "ntlm"
        case .kerberos:
            do {
                try await authenticateKerberos(.kerberos)
            } catch let unavailable as KerberosUnavailable {
                throw unavailable.error
            }
            kerberosState.mechanism = "kerberos"
        case .negotiate:
            if kerberosState.negotiateFellBackToNTLM == nil {
                do {
                    try await authenticateKerberos(.spnego)
                    kerberosState.mechanism = "kerberos"
                    return
                } catch let unavailable as KerberosUnavailable {
                    guard !config.username.isEmpty else {
                        var error = unavailable.error
                        error.message += "; NTLM cannot be tried instead: the host has no credential in the inventory"
                        throw error
                    }
                    kerberosState.negotiateFellBackToNTLM = unavailable.reason
                }
            }
            try await authenticateNTLM()
            kerberosState.mechanism = "ntlm"
        }
    }

    // MARK: Kerberos handshake

    private func authenticateKerberos(_ mechanism: KerberosMechanism) async throws {
        let host = config.endpoint.host ?? ""
        let settings = config.kerberos
        let targetName = settings.targetName(address: host)
        let tickets = settings.tickets ?? KerberosTicketSource()
        let scheme = mechanism == .kerberos ? "Kerberos" : "Negotiate"

        // Credential, context and first token before anything goes out: this is where the KDC
        // is asked (AS exchange for a password, TGS exchange for the service ticket).
        let (context, firstLeg) = try await firstToken(mechanism: mechanism, targetName: targetName, tickets: tickets,
                                                       settings: settings, host: host)
        var token = firstLeg
        if config.isHTTPS, config.certificateFingerprintSHA256 != nil {
            try await probeCertificate()
        }
        let spn = context.serverPrincipal
        var handshakePort: Int?
        for _ in 0 ..< 4 {
            let response = try await send(Data(), headers: Self.authorizationHeaders(scheme: scheme, token: token ?? Data()))
            if let certificate = response.certificatesPEM.first, let der = PEM.decode(certificate) {
                serverCertificateDER = der
            }
            if let previous = handshakePort, response.newConnections > 0 || response.localPort != previous {
                record(.affinityLost(detail: "a Kerberos handshake leg went out on a new TCP connection (local port \(previous) → \(response.localPort))"))
                throw affinityError("the TCP connection changed during the Kerberos handshake (local port \(previous) → \(response.localPort))")
            }
            handshakePort = response.localPort
            if response.status == 407 { throw proxyAuthError(response) }
            try classifyNonSOAPStatus(response)
            let answer = Self.serverToken(response, scheme: scheme)

            if (200 ..< 300).contains(response.status) {
                if let answer {
                    do {
                        _ = try await onGSSQueue { try context.step(answer) }
                    } catch let error as KerberosError {
                        throw kerberosError(error, spn: spn, tickets: tickets)
                    }
                }
                guard context.isComplete else {
                    throw WinRMError(.auth, "\(config.hostDescription) accepted our Kerberos ticket for \(spn) but did not prove its own identity (no mutual-authentication token in WWW-Authenticate on the 200): it may not be the host the SPN names; refusing the connection", code: "kerberos:no_mutual_auth")
                }
                try finishKerberos(context: context, mechanism: mechanism, response: response)
                return
            }
            guard response.status == 401 else {
                throw WinRMError(.protocol, "\(config.hostDescription) answered HTTP \(response.status) to the \(scheme) Kerberos token where 200 or 401 was expected\(Self.pageTitle(response).map { " (page \"\($0)\")" } ?? "")", code: String(response.status))
            }
            guard let answer else {
                throw refusalWithoutToken(response, scheme: scheme, spn: spn, mechanism: mechanism)
            }
            // A 401 with a token: the host's KRB-ERROR (clock skew, …) or another leg.
            let next: (token: Data?, complete: Bool)
            do {
                next = try await onGSSQueue { try context.step(answer) }
            } catch let error as KerberosError {
                throw kerberosError(error, spn: spn, tickets: tickets, fromHost: true)
            }
            guard !next.complete, let nextToken = next.token else {
                throw WinRMError(.auth, "\(config.hostDescription) refused the Kerberos authentication for \(spn) (HTTP 401) although the exchange looked complete: check that the account \(context.clientPrincipal) may use WinRM on the host", code: "401")
            }
            token = nextToken
        }
        throw WinRMError(.protocol, "\(config.hostDescription): the Kerberos handshake for \(spn) did not finish in 4 legs", code: "kerberos:legs")
    }

    /// Acquires the credential and produces the first token. Failures here happen before any
    /// request, so Negotiate may still use NTLM for the ones that mean "no Kerberos for this host".
    private func firstToken(mechanism: KerberosMechanism, targetName: String, tickets: KerberosTicketSource,
                            settings: KerberosSettings, host: String) async throws -> (KerberosClientContext, Data?) {
        var retriedExpired = false
        while true {
            let failure: KerberosFirstStepFailure
            do {
                return try await onGSSQueue {
                    let credential: KerberosAcquiredCredential
                    do {
                        credential = try tickets.credential(for: mechanism)
                    } catch let error as KerberosError {
                        throw KerberosFirstStepFailure(error: error, clientPrincipal: nil)
                    }
                    do {
                        let context = try KerberosClientContext(targetName: targetName, credential: credential,
                                                                delegate: settings.delegate, mutual: true)
                        let first = try context.step(nil)
                        return (context, first.token)
                    } catch let error as KerberosError {
                        throw KerberosFirstStepFailure(error: error, clientPrincipal: credential.principal)
                    }
                }
            } catch let caught as KerberosFirstStepFailure {
                failure = caught
            }
            if failure.error == .expiredTicket && !retriedExpired {
                // The TGT ran out since it was read: read the cache again (kinit may have
                // refreshed it); a password credential gets a new TGT.
                retriedExpired = true
                tickets.forget(mechanism)
                continue
            }
            var error = failure.error
            if case .unknownServerPrincipal(let spn) = error, spn.hasSuffix("@"),
               let realm = failure.clientPrincipal.flatMap({ KerberosTicketSource.realm(of: $0) }) {
                // A host-based name without a [domain_realm] match is asked of the client's own
                // realm (MIT's referral realm prints as an empty one).
                error = .unknownServerPrincipal(spn: spn + realm)
            }
            let mapped = kerberosError(error, spn: settings.displayedSPN(address: host), tickets: tickets)
            if Self.ntlmMayReplace(error) {
                throw KerberosUnavailable(error: mapped, reason: mapped.message)
            }
            throw mapped
        }
    }

    private func finishKerberos(context: KerberosClientContext, mechanism: KerberosMechanism,
                                response: HTTPResponse) throws {
        let protocolName = mechanism == .kerberos ? WinRMEncryption.kerberosProtocol : WinRMEncryption.spnegoProtocol
        try adoptSealer(KerberosMessageSealer(context: context), protocolName: protocolName, mechanism: "kerberos",
                        handshake: "Kerberos", response: response)
    }

    /// A 401 without a token: the host does not do Kerberos, or refused our ticket silently.
    private func refusalWithoutToken(_ response: HTTPResponse, scheme: String, spn: String,
                                     mechanism: KerberosMechanism) -> Error {
        let offered = Self.offeredSchemes(response)
        let offersKerberos = offered.contains { $0.equalsIgnoringASCIICase("Kerberos") }
        let offersScheme = offered.contains { $0.equalsIgnoringASCIICase(scheme) }
        let list = offered.isEmpty ? "nothing" : offered.joined(separator: ", ")
        if !offersKerberos || !offersScheme {
            let error = WinRMError(.auth, "\(config.hostDescription) does not accept Kerberos (it offers \(list); our \(scheme) token for \(spn) was refused): the host is not joined to the realm or Kerberos is disabled — enable it (winrm set winrm/config/service/auth @{Kerberos=\"true\"}) or use auth negotiate/ntlm with a credential", code: "kerberos:mechanism_unsupported")
            if mechanism == .spnego {
                return KerberosUnavailable(error: error, reason: "the host does not offer Kerberos (it offers \(list))")
            }
            return error
        }
        return WinRMError(.auth, "\(config.hostDescription) refused our Kerberos ticket for \(spn) (HTTP 401 without a reason): the host's key for \(spn) may be out of date (re-export its keytab or reset the computer account) or the account may not be allowed to use WinRM", code: "401")
    }

    /// Errors that mean "no Kerberos for this host" — NTLM with the inventory password may work.
    /// Not: a wrong password (NTLM would fail too, and count twice towards a lockout), clock skew,
    /// integrity failures.
    static func ntlmMayReplace(_ error: KerberosError) -> Bool {
        switch error {
        case .noCredentials, .expiredTicket, .unknownServerPrincipal, .unknownClientPrincipal, .kdcUnreachable,
             .mechanismUnsupported:
            return true
        case .clockSkew, .preauthFailed, .integrity, .noServiceKey, .other:
            return false
        }
    }

    /// A KerberosError as the operator sees it: the host, the SPN, what happened and the fix.
    func kerberosError(_ error: KerberosError, spn: String, tickets: KerberosTicketSource,
                       fromHost: Bool = false) -> WinRMError {
        let host = config.hostDescription
        let code: String
        var text = error.description
        switch error {
        case .clockSkew:
            code = "kerberos:clock_skew"
            if fromHost { text += " (the host refused our ticket for \(spn) because its clock and ours differ)" }
        case .unknownServerPrincipal:
            code = "kerberos:unknown_spn"
            text += "; for a host reached by alias or IP address set \"spn\" (e.g. \"HTTP/host.fqdn\") or \"spn_service\" on it in the inventory"
        case .unknownClientPrincipal:
            code = "kerberos:unknown_user"
        case .noCredentials:
            code = "kerberos:no_credentials"
        case .expiredTicket:
            code = "kerberos:expired_ticket"
        case .kdcUnreachable:
            code = "kerberos:kdc_unreachable"
        case .preauthFailed:
            code = "kerberos:preauth_failed"
            text += " (\(tickets))"
        case .mechanismUnsupported:
            code = "kerberos:mechanism_unsupported"
        case .integrity:
            code = "integrity"
        case .noServiceKey:
            code = "kerberos:no_service_key"
        case .other:
            code = "kerberos"
        }
        return WinRMError(.auth, "\(host) (SPN \(spn)): \(text)", code: code)
    }

    static func authorizationHeaders(scheme: String, token: Data) -> [String] {
        ["Authorization: \(scheme) " + token.base64EncodedString(), "Content-Type: application/soap+xml;charset=UTF-8",
         "Accept-Encoding: identity"]
    }

    /// The host's token: `WWW-Authenticate: Negotiate <b64>` (or `Kerberos <b64>`), the scheme we
    /// used first.
    static func serverToken(_ response: HTTPResponse, scheme: String) -> Data? {
        let tokens = challengeTokens(response, schemes: ["Negotiate", "Kerberos"]).filter { !$0.token.isEmpty }
        return (tokens.first { $0.scheme.equalsIgnoringASCIICase(scheme) } ?? tokens.first)?.token
    }

    /// GSS calls block (the KDC exchanges go over the network): they run on their own threads,
    /// not on the cooperative pool.
    func onGSSQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Self.gssQueue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    static let gssQueue = DispatchQueue(label: "winfleet.gssapi", attributes: .concurrent)
}

/// MS-WSMV sealing with an established Kerberos context.
final class KerberosMessageSealer: MessageSealer {
    let context: KerberosClientContext

    init(context: KerberosClientContext) { self.context = context }

    func wrap(_ plaintext: Data) throws -> (header: Data, payload: Data) { try context.wrap(plaintext) }

    func unwrap(header: Data, payload: Data) throws -> Data { try context.unwrap(header: header, payload: payload) }
}
