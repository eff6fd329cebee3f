import ASCIIText
import Foundation

/// How a host authenticates us.
public enum HostAuthentication: Sendable {
    case basic
    case ntlm
    case negotiate
    case kerberos
}

/// When SOAP bodies are sealed with the authentication context (MS-WSMV 2.2.9.1).
public enum MessageEncryption: String, Sendable {
    /// Sealed over HTTP, plain over HTTPS.
    case auto
    case always
    case never
}

public struct WinRMConnectionConfig: Sendable {
    public var endpoint: URL
    public var authentication: HostAuthentication
    public var username: String
    public var password: String
    public var encryption: MessageEncryption = .auto
    public var tls = TLSOptions()
    /// Hex SHA-256 of the server certificate (DER); checked before any credential is sent.
    public var certificateFingerprintSHA256: String?
    public var proxy: ProxyOptions?
    /// Target name, delegation and ticket source for `.kerberos` and `.negotiate`.
    public var kerberos = KerberosSettings()
    public var connectTimeout: TimeInterval = 10
    public var operationTimeout: TimeInterval = 20

    public init(endpoint: URL, authentication: HostAuthentication, username: String, password: String) {
        self.endpoint = endpoint
        self.authentication = authentication
        self.username = username
        self.password = password
    }

    public var isHTTPS: Bool { endpoint.scheme?.lowercased() == "https" }

    /// Whether bodies go sealed on this connection.
    public var seals: Bool {
        switch (authentication, encryption) {
        case (.basic, _): return false
        case (_, .always): return true
        case (_, .never): return false
        case (_, .auto): return !isHTTPS
        }
    }

    /// Where the host is, for messages: "127.1.0.1:5985".
    public var hostDescription: String {
        "\(endpoint.host ?? "?"):\(endpoint.port ?? (isHTTPS ? 5986 : 5985))"
    }
}

/// One authenticated WinRM connection to one host: libcurl's persistent TCP connection plus
/// the authentication context bound to it. SOAP in, SOAP out; requests strictly in order.
public final class WinRMConnection: @unchecked Sendable {
    public let config: WinRMConnectionConfig
    let http: HTTPConnection
    /// The context that seals bodies, once the handshake finished on the current TCP connection.
    var sealing: SealingContext?
    var authenticatedPort: Int?
    var pinnedCertificateChecked = false
    /// The host's certificate (DER) as last seen, for channel binding when a handshake runs on
    /// a connection whose TLS handshake happened earlier.
    var serverCertificateDER: Data?
    /// Which mechanism Negotiate settled on for this host, and why (WinRMConnection+Kerberos.swift).
    var kerberosState = KerberosConnectionState()
    public private(set) var events: [ConnectionEvent] = []
    public var onEvent: (@Sendable (ConnectionEvent) -> Void)?
    /// Requests sent, handshake legs included (tests and benchmarks count round trips).
    public private(set) var roundTrips = 0
    public private(set) var lastRoundTrip: TimeInterval = 0
    /// When the last response arrived: a kept connection idle longer than `idleCloseExpected`
    /// may well have been closed by the host (HTTP.sys closes idle connections after ~2 minutes).
    var lastResponseAt: Date?
    static let idleCloseExpected: TimeInterval = 30
    /// Who answers, for messages (`origin(of:)`): worked out once, not for every reply.
    private let answeringParty: String

    public init(config: WinRMConnectionConfig, loop: CurlEventLoop = .next()) {
        self.config = config
        var options = HTTPConnectionOptions(url: config.endpoint.absoluteString)
        options.connectTimeout = config.connectTimeout
        options.transferTimeout = config.operationTimeout + 10
        options.tls = config.tls
        options.tls.collectCertificate = config.isHTTPS
            && (config.certificateFingerprintSHA256 != nil || config.authentication != .basic)
        if config.certificateFingerprintSHA256 != nil && config.tls.caFile == nil {
            // The pin is the trust anchor: the chain is not checked against a CA, the certificate
            // is checked against the pin before anything secret is sent.
            options.tls.verify = false
        }
        options.proxy = config.proxy
        http = HTTPConnection(options: options, loop: loop)
        if let proxy = config.proxy, Self.isForwarded(config) {
            answeringParty = "proxy \(proxy.url) for \(config.hostDescription)"
        } else {
            answeringParty = config.hostDescription
        }
    }

    func record(_ event: ConnectionEvent) {
        events.append(event)
        onEvent?(event)
    }

    /// Sends one SOAP envelope and returns the host's answer, unsealed (faults included, as
    /// bodies with their HTTP status: the WS-Man layer reads them).
    /// - Parameter idempotent: false for requests that must never reach the host twice (Command,
    ///   Send): after a lost connection they are not sent again, the error says so instead.
    public func exchange(_ soap: Data, idempotent: Bool = true) async throws -> SOAPReply {
        switch config.authentication {
        case .basic:
            return try await exchangeBasic(soap, idempotent: idempotent)
        case .ntlm, .negotiate, .kerberos:
            return try await exchangeWithContext(soap, idempotent: idempotent)
        }
    }

    /// Abandons the request in flight, if any, and with it the connection and its context.
    public func abort() {
        http.abort()
    }

    /// Drops the TCP connection and the context bound to it.
    public func close() async {
        sealing = nil
        authenticatedPort = nil
        await http.reset()
    }

    // MARK: Basic

    private func exchangeBasic(_ soap: Data, idempotent: Bool) async throws -> SOAPReply {
        if config.certificateFingerprintSHA256 != nil && !pinnedCertificateChecked {
            // Learn the certificate with an anonymous request before the password goes out; from
            // then on libcurl checks the pinned key on every new connection before sending.
            try await probeCertificate()
        }
        let credentials = Data("\(config.username):\(config.password)".utf8).base64EncodedString()
        let response = try await send(soap, headers: Self.soapHeaders + ["Authorization: Basic " + credentials],
                                      resendable: idempotent)
        if response.status == 401 {
            throw WinRMError(.auth, "\(config.hostDescription) refused Basic credentials for user \(config.username) (HTTP 401): check the credential's password, and that Basic is enabled on the host (winrm set winrm/config/service/auth @{Basic=\"true\"})", code: "401")
        }
        try classifyNonSOAPStatus(response)
        return SOAPReply(status: response.status, contentType: response.header("Content-Type"), body: response.body,
                         origin: origin(of: response))
    }

    /// Who answered: the proxy (forward mode) or the host itself.
    func origin(of response: HTTPResponse) -> String {
        answeringParty
    }

    /// Requests go to the proxy as absolute-URI requests (forward mode, http target): every answer
    /// may come from the proxy rather than the host. Inside a tunnel (CONNECT, and always for https)
    /// only the host can answer.
    var isForwarded: Bool { Self.isForwarded(config) }

    static func isForwarded(_ config: WinRMConnectionConfig) -> Bool {
        guard let proxy = config.proxy else { return false }
        return !proxy.tunnel && !config.isHTTPS
    }

    static let soapHeaders = ["Content-Type: application/soap+xml;charset=UTF-8", "Accept-Encoding: identity"]

    // MARK: shared

    func send(_ body: Data, headers: [String], resendable: Bool = true) async throws -> HTTPResponse {
        roundTrips += 1
        do {
            let response = try await http.post(body: body, headers: headers, resendable: resendable)
            lastRoundTrip = response.elapsed
            return response
        } catch let failure as TransferFailure {
            var error = classify(failure)
            // Only a body-carrying request can have been acted on; the handshake legs are empty.
            switch failure.reason {
            case .connectionClosed, .timedOut, .other, .resendRefused, .cancelled:
                error.requestMayHaveArrived = !body.isEmpty
            case .couldNotConnect, .couldNotResolve, .tls, .proxy:
                break
            }
            throw error
        }
    }

    /// An anonymous empty POST whose only purpose is the server certificate: checked against
    /// the pin, kept for channel binding, and its public key pinned in libcurl for every later
    /// TLS handshake of this connection.
    func probeCertificate() async throws {
        let response = try await send(Data(), headers: Self.soapHeaders)
        try checkPinnedCertificate(response)
        if let pem = response.certificatesPEM.first, let der = PEM.decode(pem) {
            serverCertificateDER = der
            if let keyPin = Fingerprint.publicKeyPin(certificateDER: der) {
                http.pinPublicKey(keyPin)
            }
        }
    }

    func checkPinnedCertificate(_ response: HTTPResponse) throws {
        guard let expected = config.certificateFingerprintSHA256 else { return }
        guard let pem = response.certificatesPEM.first, let der = PEM.decode(pem) else {
            throw WinRMError(.tls, "\(config.hostDescription) presented no certificate to check against tls.fingerprint_sha256")
        }
        let actual = Fingerprint.sha256Hex(der)
        guard Fingerprint.normalise(expected) == actual else {
            throw WinRMError(.tls, "\(config.hostDescription) presented a certificate with SHA-256 fingerprint \(Fingerprint.colonSeparated(actual)), not the pinned \(Fingerprint.colonSeparated(Fingerprint.normalise(expected))): if the host's certificate was renewed, update tls.fingerprint_sha256; otherwise someone may be intercepting the connection")
        }
        pinnedCertificateChecked = true
    }

    /// Statuses that never carry a WS-Man answer.
    func classifyNonSOAPStatus(_ response: HTTPResponse) throws {
        if response.status == 407 {
            throw proxyAuthError(response)
        }
        // In forward mode the proxy answers for a host it cannot reach (or will not forward to) with
        // its own error page: squid 503 "ERROR: The requested URL could not be retrieved", tinyproxy
        // 500 "Unable to connect". HTTP.sys (Server: Microsoft-HTTPAPI) is the host itself.
        if let proxy = config.proxy, isForwarded, response.status >= 400, response.status != 401, !Self.isSOAP(response),
           response.status == 502 || response.status == 504 || !Self.cameFromHTTPSys(response) {
            let title = Self.pageTitle(response).map { ": \"\($0)\"" } ?? ""
            let fix = response.status == 403
                ? "the proxy refuses to forward to this host — allow its address and port in the proxy's access rules (squid: http_access, Safe_ports)"
                : "the proxy could not reach the host — check the host address and port, and the proxy's access rules"
            throw WinRMError(.proxy, "proxy \(proxy.url) answered HTTP \(response.status) for \(config.hostDescription)\(title): \(fix)", code: String(response.status))
        }
    }

    /// Whether the answer is the WinRM host's own (HTTP.sys) rather than a proxy's page.
    static func cameFromHTTPSys(_ response: HTTPResponse) -> Bool {
        guard response.header("X-Squid-Error") == nil else { return false }
        return response.header("Server")?.hasPrefix("Microsoft-HTTPAPI") ?? false
    }

    func proxyAuthError(_ response: HTTPResponse) -> WinRMError {
        proxyAuthRefusal(asked: response.headers("Proxy-Authenticate"), connectTarget: nil)
    }

    /// HTTP 407, naming the scheme(s) the proxy asked for against what the route sends.
    func proxyAuthRefusal(asked values: [String], connectTarget: String?) -> WinRMError {
        let schemes = values.map { $0.split(separator: " ").first.map(String.init) ?? $0 }
        let asked = schemes.isEmpty ? "no scheme named" : schemes.joined(separator: ", ")
        let proxy = config.proxy?.url ?? "the proxy"
        let configured = config.proxy?.auth ?? .none
        let during = connectTarget.map { " for CONNECT to \($0)" } ?? ""
        if configured == .none {
            return WinRMError(.proxyAuth, "proxy \(proxy) requires authentication\(during) (HTTP 407; it asks for \(asked)) but the route sends none: set proxy_auth and proxy_credential on the route (an authenticating proxy also requires transport https)", code: "407")
        }
        if !schemes.isEmpty && !schemes.contains(where: { $0.equalsIgnoringASCIICase(configured.rawValue) }) {
            return WinRMError(.proxyAuth, "proxy \(proxy) refused our proxy authentication\(during) (HTTP 407; it asks for \(asked), the route sends \(configured.rawValue)): set the route's proxy_auth to \(schemes.map { $0.lowercased() }.joined(separator: " or "))", code: "407")
        }
        return WinRMError(.proxyAuth, "proxy \(proxy) refused our proxy credentials\(during) (HTTP 407; it asks for \(asked), the route sends \(configured.rawValue)): check the user name and password of the route's proxy_credential", code: "407")
    }

    static func isSOAP(_ response: HTTPResponse) -> Bool {
        let type = response.header("Content-Type") ?? ""
        return type.containsIgnoringASCIICase("soap+xml") || type.containsIgnoringASCIICase("multipart/encrypted")
    }

    static func pageTitle(_ response: HTTPResponse) -> String? {
        guard let text = String(data: response.body.prefix(4096), encoding: .utf8),
              let start = text.range(of: "<title>", options: .caseInsensitive),
              let end = text.range(of: "</title>", options: .caseInsensitive, range: start.upperBound..<text.endIndex)
        else { return nil }
        return text[start.upperBound..<end.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func classify(_ failure: TransferFailure) -> WinRMError {
        let host = config.hostDescription
        if let proxy = config.proxy {
            switch failure.proxyConnectStatus {
            case 407:
                return proxyAuthRefusal(asked: failure.proxyAuthenticate, connectTarget: host)
            case 403, 405:
                let port = config.endpoint.port ?? (config.isHTTPS ? 5986 : 5985)
                return WinRMError(.proxy, "proxy \(proxy.url) refuses CONNECT to port \(port) (HTTP \(failure.proxyConnectStatus)): allow it (squid: SSL_ports/Safe_ports and http_access for CONNECT) or use mode forward", code: String(failure.proxyConnectStatus))
            case 500, 502, 503, 504:
                // squid answers 503, tinyproxy 500 ("Unable to connect").
                return WinRMError(.proxy, "proxy \(proxy.url) could not open a tunnel to \(host) (HTTP \(failure.proxyConnectStatus)): the host is unreachable from the proxy — check the address, port and firewall", code: String(failure.proxyConnectStatus))
            case let status where status >= 300:
                return WinRMError(.proxy, "proxy \(proxy.url) answered HTTP \(status) to CONNECT \(host): \(failure.message)", code: String(status))
            default:
                break
            }
            if failure.reason == .proxy || (failure.reason == .couldNotConnect && failure.message.contains(proxyHostPort(proxy))) {
                return WinRMError(.proxy, "proxy \(proxy.url) is unreachable: \(failure.message) — check the route's proxy address and that the proxy is running", code: "curl:\(failure.curlCode)")
            }
            // With an https:// proxy, a TLS failure before any CONNECT answer (or with an http
            // target, which has no TLS of its own) is the proxy's certificate, not the host's.
            if failure.reason == .tls, proxy.url.lowercased().hasPrefix("https://"),
               failure.proxyConnectStatus == 0 || !config.isHTTPS {
                return WinRMError(.proxy, "TLS with proxy \(proxy.url) failed: \(failure.message) — give the proxy's CA in the route's proxy_tls.ca_file (or, only for labs, set proxy_tls.verify false)", code: "curl:\(failure.curlCode)")
            }
        }
        switch failure.reason {
        case .timedOut:
            return WinRMError(.timeout, "\(host) did not answer in time: \(failure.message)", code: "curl:\(failure.curlCode)")
        case .tls:
            return WinRMError(.tls, "TLS with \(host) failed: \(failure.message) — give the host's CA in tls.ca_file, pin it with tls.fingerprint_sha256, or (only for labs) set tls.verify false", code: "curl:\(failure.curlCode)")
        case .couldNotConnect:
            return WinRMError(.network, "cannot connect to \(host): \(failure.message) — is WinRM listening there (winrm quickconfig) and the firewall open?", code: "curl:\(failure.curlCode)")
        case .couldNotResolve:
            return WinRMError(.network, "cannot resolve \(config.endpoint.host ?? host): \(failure.message)", code: "curl:\(failure.curlCode)")
        case .cancelled:
            sealing = nil
            authenticatedPort = nil
            return WinRMError(.network, "\(host): request abandoned", code: "aborted")
        case .resendRefused:
            return WinRMError(.network, "\(host): the connection was lost while a command request was on it; the command may have started on the host and was not sent again", code: "uncertain")
        case .connectionClosed:
            if sealing != nil {
                return WinRMError(.affinity, "\(host) closed the authenticated connection (\(failure.message)): the authentication context was lost with it", code: "curl:\(failure.curlCode)")
            }
            return WinRMError(.network, "\(host) closed the connection: \(failure.message)", code: "curl:\(failure.curlCode)")
        case .proxy, .other:
            return WinRMError(.network, "\(host): \(failure.message)", code: "curl:\(failure.curlCode)")
        }
    }

    private func proxyHostPort(_ proxy: ProxyOptions) -> String {
        guard let url = URL(string: proxy.url), let host = url.host else { return proxy.url }
        return url.port.map { "\(host) port \($0)" } ?? host
    }
}

/// A host's answer to one SOAP request, after unsealing.
public struct SOAPReply: Sendable {
    public var status: Int
    public var contentType: String?
    public var body: Data
    /// Who sent it, for messages ("127.1.0.1:5985", or the proxy in forward mode).
    public var origin: String
}

/// What seals and unseals bodies on an authenticated connection.
struct SealingContext {
    var protocolName: String
    var wrap: (Data) throws -> Data
    var unwrap: (Data, String?) throws -> Data
}
