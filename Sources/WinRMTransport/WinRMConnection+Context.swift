import ASCIIText
import Foundation
import WinRMAuth

/// Connection-bound authentication (NTLM here; Kerberos and Negotiate through GSS-API in
/// WinRMConnection+Kerberos.swift, as another `SealingContext`). The handshake runs on an
/// empty-body POST on this connection; afterwards bodies go without an Authorization header, sealed when the config says so,
/// and the context lives exactly as long as the TCP connection.
extension WinRMConnection {
    func exchangeWithContext(_ soap: Data, idempotent: Bool) async throws -> SOAPReply {
        var reauthenticated = false
        while true {
            if sealing == nil {
                try await authenticateConnection()
            }
            let (headers, body) = try outgoing(soap)
            let idleBefore = lastResponseAt.map { Date().timeIntervalSince($0) } ?? 0
            let response = try await send(body, headers: headers, resendable: idempotent)
            lastResponseAt = Date()
            let connectionChanged = response.newConnections > 0
            if connectionChanged && idleBefore >= Self.idleCloseExpected && !reauthenticated
                && (response.status == 401 || response.status >= 400) {
                // The kept connection sat idle and was closed, as hosts do with idle connections.
                record(.reconnectedAfterIdle(detail: "idle \(Int(idleBefore)) s, new connection on local port \(response.localPort)"))
                sealing = nil
                authenticatedPort = nil
                reauthenticated = true
                continue
            }
            if response.status == 401 || (connectionChanged && response.status >= 400) {
                // The host no longer knows our context: the TCP connection changed under us
                // (a proxy without affinity, an idle close) or the host dropped it.
                let what = connectionChanged
                    ? "the TCP connection changed after authentication (local port \(authenticatedPort ?? 0) → \(response.localPort)), so the host saw an unauthenticated connection"
                    : "the host answered 401 on the connection we had authenticated (local port \(response.localPort)), so something between us and the host switched connections"
                record(.affinityLost(detail: what))
                sealing = nil
                authenticatedPort = nil
                // libcurl never re-sends a non-idempotent body (the rewind is refused), so a 401
                // here means the host did not act on it: sending it again after re-authenticating
                // cannot run anything twice.
                if reauthenticated {
                    throw affinityError(what + "; it happened again after re-authenticating")
                }
                reauthenticated = true
                continue
            }
            if connectionChanged {
                // A new connection answered without asking to authenticate: only possible when the
                // host accepts anonymous requests, which WinRM never does. Treat as lost affinity.
                record(.affinityLost(detail: "new TCP connection (local port \(response.localPort)) after authentication"))
            }
            try classifyNonSOAPStatus(response)
            do {
                return try incoming(response)
            } catch var error as WinRMError {
                // The host answered (so it read the request) but we cannot read the answer.
                error.requestMayHaveArrived = !idempotent
                throw error
            }
        }
    }

    /// Runs the NTLM 401 handshake on an empty-body POST (Kerberos: WinRMConnection+Kerberos.swift).
    func authenticateNTLM() async throws {
        let credential = NTLMCredential(user: config.username, password: config.password)
        var certificateDER: Data?
        if config.isHTTPS, config.certificateFingerprintSHA256 != nil {
            try await probeCertificate()
        }
        // Leg 1: NEGOTIATE. Its bytes do not depend on channel bindings, which only this leg's
        // answer (the server certificate) lets us compute; the real context is made after it.
        let negotiate = NTLMClientContext(credential: credential).negotiateMessage()
        let first = try await send(Data(), headers: Self.authorizationHeaders(negotiate))
        let handshakePort = first.localPort
        if let pem = first.certificatesPEM.first, let der = PEM.decode(pem) {
            certificateDER = der
            serverCertificateDER = der
        } else {
            certificateDER = serverCertificateDER
        }
        if first.status == 407 { throw proxyAuthError(first) }
        try classifyNonSOAPStatus(first)
        guard first.status == 401 else {
            throw WinRMError(.protocol, "\(config.hostDescription) answered HTTP \(first.status) to the NTLM NEGOTIATE where 401 with a challenge was expected\(Self.pageTitle(first).map { " (page \"\($0)\")" } ?? "")", code: String(first.status))
        }
        guard let challenge = Self.negotiateToken(first) else {
            let offered = Self.offeredSchemes(first)
            if let proxy = config.proxy, isForwarded {
                // A forward proxy that cannot pin connections strips the connection-based challenges
                // (squid with connection-auth=off): the host's NTLM CHALLENGE never reaches us.
                record(.affinityLost(detail: "no Negotiate/NTLM challenge came back through forward proxy \(proxy.url)"))
                throw affinityError("the host's 401 came back through the proxy without a Negotiate/NTLM challenge (it offers \(offered.isEmpty ? "nothing" : offered.joined(separator: ", "))): the proxy does not pass connection-based authentication (squid: http_port connection-auth=off); if the host really has Negotiate disabled, enable it (winrm set winrm/config/service/auth @{Negotiate=\"true\"})", code: "401")
            }
            if offered.contains(where: { $0.equalsIgnoringASCIICase("Negotiate") || $0.equalsIgnoringASCIICase("NTLM") }) {
                throw WinRMError(.auth, "\(config.hostDescription) did not answer our NTLM NEGOTIATE with a challenge: Negotiate/NTLM may be disabled for this account or the request never reached the host", code: "401")
            }
            throw WinRMError(.auth, "\(config.hostDescription) does not offer Negotiate (it offers \(offered.isEmpty ? "nothing" : offered.joined(separator: ", "))): enable Negotiate on the host (winrm set winrm/config/service/auth @{Negotiate=\"true\"}) or use the auth it offers", code: "401")
        }
        // The client context is made now, with the channel binding of the certificate we saw.
        let bindings = config.isHTTPS ? certificateDER.map { ChannelBindings.tlsServerEndPoint(certificateDER: $0) } : nil
        let authenticateContext = NTLMClientContext(credential: credential, channelBindings: bindings,
                                                    servicePrincipalName: "HTTP/\(config.endpoint.host ?? "")")
        // The MIC covers the NEGOTIATE that went out: this context must produce the same bytes.
        guard authenticateContext.negotiateMessage() == negotiate else {
            throw WinRMError(.protocol, "NTLM NEGOTIATE changed between contexts; cannot compute a valid MIC")
        }
        let authenticateMessage: Data
        do {
            authenticateMessage = try authenticateContext.authenticateMessage(challenge: challenge)
        } catch let error as NTLMError {
            throw WinRMError(.protocol, "\(config.hostDescription) sent a CHALLENGE we cannot use: \(error)")
        }
        // Leg 2: AUTHENTICATE, on the same connection.
        let second = try await send(Data(), headers: Self.authorizationHeaders(authenticateMessage))
        if second.status == 407 { throw proxyAuthError(second) }
        if second.newConnections > 0 || second.localPort != handshakePort {
            record(.affinityLost(detail: "AUTHENTICATE went out on a new TCP connection (local port \(handshakePort) → \(second.localPort))"))
            throw affinityError("the TCP connection changed between NEGOTIATE and AUTHENTICATE (local port \(handshakePort) → \(second.localPort)), so the host saw the AUTHENTICATE without its NEGOTIATE")
        }
        if second.status == 401 {
            // Through a forward proxy our connection to the proxy staying the same says nothing about
            // the proxy's connection to the host, unless the proxy promised to pin it: squid announces
            // "Proxy-Support: Session-Based-Authentication" (RFC 4559 §6) when it does.
            if let proxy = config.proxy, isForwarded, !Self.proxyPinsConnections(first) {
                throw WinRMError(.affinity, "\(config.hostDescription) refused our AUTHENTICATE through forward proxy \(proxy.url) although our connection to the proxy stayed the same, and the proxy does not announce connection pinning (Proxy-Support: Session-Based-Authentication): it most likely passed the two NTLM legs over different connections to the host (no connection affinity); if the password is right, use mode tunnel or a proxy that pins connection-auth connections", code: "401")
            }
            throw WinRMError(.auth, "\(config.hostDescription) refused the credentials of \(config.username) (HTTP 401 after NTLM AUTHENTICATE on the same connection): check the password and that the account may use WinRM\(config.isHTTPS ? "; over HTTPS the host may also require channel binding (CbtHardeningLevel)" : "")", code: "401")
        }
        guard (200..<300).contains(second.status) else {
            try classifyNonSOAPStatus(second)
            throw WinRMError(.protocol, "\(config.hostDescription) answered HTTP \(second.status) to the NTLM AUTHENTICATE", code: String(second.status))
        }
        guard let sealer = authenticateContext.sealer else {
            throw WinRMError(.protocol, "\(config.hostDescription) negotiated NTLM without signing and sealing; WinRM message encryption needs both")
        }
        try adoptSealer(sealer, protocolName: WinRMEncryption.spnegoProtocol, mechanism: "ntlm", handshake: "NTLM",
                        response: second)
    }

    /// The handshake that ended with `response` (a 200) gave us `sealer`: bodies on this connection
    /// are sealed with it from now on.
    func adoptSealer(_ sealer: MessageSealer, protocolName: String, mechanism: String, handshake: String,
                     response: HTTPResponse) throws {
        sealing = SealingContext(
            protocolName: protocolName,
            wrap: { try WinRMEncryption.encode($0, protocol: protocolName, sealer: sealer) },
            unwrap: { try WinRMEncryption.decode($0, contentType: $1, sealer: sealer) })
        authenticatedPort = response.localPort
        record(.authenticated(mechanism: mechanism, localPort: response.localPort))
        if Self.closesConnection(response) {
            // The seed's failure case: the connection is closed after the 200 that ends the handshake
            // (the host accepted us), so the context dies before the first real request can use it.
            sealing = nil
            authenticatedPort = nil
            record(.affinityLost(detail: "connection closed right after the 200 that ended the \(handshake) handshake (local port \(response.localPort))"))
            throw affinityError("the connection was closed right after the 200 that ended the \(handshake) handshake (local port \(response.localPort)), so the authenticated context died before any request could use it")
        }
    }

    private func outgoing(_ soap: Data) throws -> ([String], Data) {
        guard config.seals, let sealing else {
            return (Self.soapHeaders, soap)
        }
        do {
            let body = try sealing.wrap(soap)
            return (["Content-Type: " + WinRMEncryption.contentType(protocol: sealing.protocolName), "Accept-Encoding: identity"], body)
        } catch {
            throw WinRMError(.protocol, "cannot seal the request for \(config.hostDescription): \(error)")
        }
    }

    private func incoming(_ response: HTTPResponse) throws -> SOAPReply {
        let contentType = response.header("Content-Type")
        var body = response.body
        if WinRMEncryption.isEncrypted(contentType: contentType) {
            guard let sealing else {
                throw WinRMError(.protocol, "\(config.hostDescription) sent a sealed body on a connection without a context")
            }
            do {
                body = try sealing.unwrap(response.body, contentType)
            } catch {
                // A failed unseal breaks the RC4 stream: this context is unusable from here on.
                self.sealing = nil
                self.authenticatedPort = nil
                throw WinRMError(.protocol, "\(config.hostDescription) sent a sealed message that fails its integrity check (\(error)): the message was altered on the way or the context is out of step; the connection is dropped", code: "integrity")
            }
            return SOAPReply(status: response.status, contentType: "application/soap+xml;charset=UTF-8", body: body, origin: origin(of: response))
        }
        if config.seals && response.status < 300 && !body.isEmpty {
            throw WinRMError(.protocol, "\(config.hostDescription) answered a sealed request with a plain body (\(contentType ?? "no content type")): refusing unsealed data")
        }
        return SOAPReply(status: response.status, contentType: contentType, body: body, origin: origin(of: response))
    }

    /// The proxy promised to keep our connection pinned to one connection to the host.
    static func proxyPinsConnections(_ response: HTTPResponse) -> Bool {
        response.headers("Proxy-Support").contains { $0.containsIgnoringASCIICase("Session-Based-Authentication") }
    }

    /// The answer announces that the connection closes after it.
    static func closesConnection(_ response: HTTPResponse) -> Bool {
        (response.headers("Connection") + response.headers("Proxy-Connection")).contains {
            $0.split(separator: ",").contains { $0.trimmingASCIIWhitespace.equalsIgnoringASCIICase("close") }
        }
    }

    func affinityError(_ what: String, code: String? = nil) -> WinRMError {
        let via = config.proxy.map { " through proxy \($0.url) (\($0.tunnel ? "tunnel" : "forward") mode)" } ?? ""
        let remedy = config.proxy.map { $0.tunnel
            ? "check the proxy keeps CONNECT tunnels open (no idle close right after the 200)"
            : "use mode tunnel, or a proxy that pins connection-auth connections" } ?? "check for a load balancer or middlebox that closes or swaps connections"
        return WinRMError(.affinity, "\(config.hostDescription)\(via): connection affinity lost: \(what) — NTLM needs one TCP connection end to end: \(remedy)", code: code)
    }

    static func authorizationHeaders(_ token: Data) -> [String] {
        ["Authorization: Negotiate " + token.base64EncodedString(), "Content-Type: application/soap+xml;charset=UTF-8", "Accept-Encoding: identity"]
    }

    /// The token of `WWW-Authenticate: Negotiate <b64>` (or `NTLM <b64>`).
    static func negotiateToken(_ response: HTTPResponse) -> Data? {
        challengeTokens(response, schemes: ["Negotiate", "NTLM"]).first?.token
    }

    /// The `WWW-Authenticate: <scheme> <base64>` challenges whose scheme is one of `schemes` (in any
    /// case) and whose token decodes, in the order the host sent them.
    static func challengeTokens(_ response: HTTPResponse, schemes: [String]) -> [(scheme: Substring, token: Data)] {
        response.headers("WWW-Authenticate").compactMap { value in
            let parts = value.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, schemes.contains(where: { parts[0].equalsIgnoringASCIICase($0) }),
                  let token = Data(base64Encoded: parts[1].trimmingASCIIWhitespace) else { return nil }
            return (parts[0], token)
        }
    }

    /// The schemes a 401 offers, as written (`Negotiate`, `Kerberos`, `Basic realm=…` gives `Basic`).
    static func offeredSchemes(_ response: HTTPResponse) -> [String] {
        response.headers("WWW-Authenticate").map { $0.split(separator: " ").first.map(String.init) ?? $0 }
    }
}
