import Foundation
import WinRMAuth

/// Authentication state of one TCP connection, as HTTP.sys and the WinRM service keep it: NTLM is
/// connection-bound (NEGOTIATE and AUTHENTICATE must arrive on the same connection, and after the 200 the
/// connection stays authenticated without an `Authorization` header); Basic is per request.
///
/// Pure state machine: the connection handler feeds it the `Authorization` header of each request and
/// carries out the decision.
struct SimConnectionAuth {
    struct Settings {
        var mode: SimAuth
        var https: Bool
        var allowUnencrypted: Bool
        var users: [SimUser]
        /// Host name (NetBIOS) and DNS name announced in the NTLM CHALLENGE.
        var hostName: String
        var dnsName: String
        /// tls-server-end-point application data the client must bind (https + requireChannelBinding).
        var expectedChannelBindings: Data?
        /// `authFailHosts`: every credential is rejected.
        var rejectAllCredentials: Bool

        /// Basic is offered only where Windows would accept it: enabled, and over https or with
        /// AllowUnencrypted=true. (Windows never advertises Basic on an http listener that refuses
        /// unencrypted traffic; see WinRMSim.swift.)
        var basicUsable: Bool { mode.acceptsBasic && (https || allowUnencrypted) }

        /// The `WWW-Authenticate` values of an initial 401.
        var challengeHeaders: [String] {
            var headers: [String] = []
            if mode.acceptsNegotiate { headers.append("Negotiate") }
            if basicUsable { headers.append("Basic realm=\"WSMAN\"") }
            return headers
        }
    }

    enum Decision {
        /// 401 with the initial challenge. `rejectedCredential` is true when a credential was presented
        /// and refused (wrong password, handshake out of order, scheme not allowed).
        case challenge(wwwAuthenticate: [String], rejectedCredential: Bool, reason: String?)
        /// 401 carrying the NTLM CHALLENGE (`WWW-Authenticate: Negotiate <base64>`).
        case continueHandshake(wwwAuthenticate: String)
        /// The request may be served. `completedHandshake`: this request ended an NTLM handshake or was
        /// the first valid Basic request of the connection (counts as one authentication).
        /// `wwwAuthenticate`: the final SPNEGO token (accept-completed + mechListMIC) to send with the 200.
        case proceed(identity: SimIdentity, sealer: NTLMSealer?, completedHandshake: Bool, wwwAuthenticate: String? = nil)
    }

    private enum Phase {
        case anonymous
        /// SPNEGO NegTokenInit named NTLM but not first, without an NTLM token: waiting for NEGOTIATE.
        case spnegoMechSelected(mechTypeListDER: [UInt8]?)
        case challengeSent(context: NTLMServerContext, spnego: SPNEGOHandshake?)
        case authenticated(identity: SimIdentity, sealer: NTLMSealer)
    }

    /// NTLM inside SPNEGO: the mechListMIC covers the client's MechTypeList and is exchanged in both
    /// directions with the NTLM signing of the new context.
    ///
    /// Known gap: after the MIC exchange Windows and pyspnego restart the RC4 sealing handle of each
    /// direction while sequence numbers continue (pyspnego `_reset_ntlm_crypto_state`). `NTLMSealer` has no
    /// such reset, so sealed messages (NTLM-in-SPNEGO over http) fail after an SPNEGO handshake that
    /// carried a mechListMIC; over https (no sealing) SPNEGO works. Raw NTLM is unaffected.
    struct SPNEGOHandshake {
        var mechTypeListDER: [UInt8]?
    }

    let settings: Settings
    private var phase: Phase = .anonymous
    private var basicAccount: String?

    init(settings: Settings) {
        self.settings = settings
    }

    /// The sealer of an authenticated NTLM connection.
    var sealer: NTLMSealer? {
        if case .authenticated(_, let sealer) = phase { return sealer }
        return nil
    }

    var identity: SimIdentity? {
        if case .authenticated(let identity, _) = phase { return identity }
        return nil
    }

    /// Forget the authentication (Windows does after refusing a plaintext body, or a failed request).
    mutating func reset() {
        phase = .anonymous
        basicAccount = nil
    }

    mutating func authorize(_ authorization: String?) -> Decision {
        guard let header = authorization?.trimmingCharacters(in: .whitespaces), !header.isEmpty else {
            if case .authenticated(let identity, let sealer) = phase {
                return .proceed(identity: identity, sealer: sealer, completedHandshake: false)
            }
            return .challenge(wwwAuthenticate: settings.challengeHeaders, rejectedCredential: false, reason: nil)
        }
        let scheme = header.prefix { $0 != " " }
        let token = header.dropFirst(scheme.count).trimmingCharacters(in: .whitespaces)
        switch scheme.lowercased() {
        case "basic":
            return authorizeBasic(token)
        case "negotiate", "ntlm":
            return authorizeNTLM(scheme: String(scheme), token: token)
        default:
            return refuse("unsupported authorization scheme \(scheme)")
        }
    }

    private mutating func refuse(_ reason: String) -> Decision {
        phase = .anonymous
        return .challenge(wwwAuthenticate: settings.challengeHeaders, rejectedCredential: true, reason: reason)
    }

    private mutating func authorizeBasic(_ token: String) -> Decision {
        guard settings.basicUsable else {
            return refuse(settings.mode.acceptsBasic
                          ? "Basic over http refused: AllowUnencrypted is false"
                          : "Basic authentication is disabled")
        }
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":") else {
            return refuse("malformed Basic credentials")
        }
        let account = String(text[..<colon])
        let password = String(text[text.index(after: colon)...])
        guard !settings.rejectAllCredentials,
              settings.users.contains(where: { Self.sameAccount($0.user, account) && $0.password == password }) else {
            return refuse("Basic credentials rejected for '\(account)'")
        }
        let first = basicAccount?.caseInsensitiveCompare(account) != .orderedSame
        basicAccount = account
        return .proceed(identity: SimIdentity(account: account), sealer: nil, completedHandshake: first)
    }

    /// `WINFLEET\operator` matches `WINFLEET\operator`, `winfleet\OPERATOR` and `operator` (a local
    /// account name without domain), like a Windows logon with the machine's domain.
    static func sameAccount(_ configured: String, _ given: String) -> Bool {
        if configured.caseInsensitiveCompare(given) == .orderedSame { return true }
        let c = SimIdentity(account: configured), g = SimIdentity(account: given)
        guard c.user.caseInsensitiveCompare(g.user) == .orderedSame else { return false }
        return g.domain == nil || c.domain == nil || c.domain!.caseInsensitiveCompare(g.domain!) == .orderedSame
    }

    private mutating func authorizeNTLM(scheme: String, token: String) -> Decision {
        guard settings.mode.acceptsNegotiate else { return refuse("Negotiate authentication is disabled") }
        guard let bytes = Data(base64Encoded: token), !bytes.isEmpty else {
            return refuse("Authorization token is not base64")
        }
        if SPNEGOToken.isSPNEGO(bytes) {
            guard scheme.lowercased() == "negotiate" else { return refuse("SPNEGO token under the \(scheme) scheme") }
            return authorizeSPNEGO(scheme: scheme, token: bytes)
        }
        guard bytes.count >= 12, bytes.prefix(8) == Data("NTLMSSP\0".utf8) else {
            return refuse("token is neither NTLMSSP nor SPNEGO (Kerberos is not offered by the simulator)")
        }
        switch ntlmStep(bytes, spnego: nil) {
        case .challenge(let challenge):
            return .continueHandshake(wwwAuthenticate: "\(scheme) \(challenge.base64EncodedString())")
        case .accepted(let identity, let sealer):
            return .proceed(identity: identity, sealer: sealer, completedHandshake: true)
        case .refused(let reason):
            return refuse(reason)
        }
    }

    private mutating func authorizeSPNEGO(scheme: String, token: Data) -> Decision {
        let incoming: SPNEGOToken.Incoming
        do {
            incoming = try SPNEGOToken.parse(token)
        } catch {
            return refuse("malformed SPNEGO token: \(error)")
        }
        var mechTypeListDER: [UInt8]?
        if incoming.isInit {
            guard incoming.mechTypes.contains(SPNEGOToken.ntlmOID) else {
                return refuse("SPNEGO offers no NTLM (Kerberos is not offered by the simulator)")
            }
            mechTypeListDER = incoming.mechTypeListDER
            guard incoming.mechTypes.first == SPNEGOToken.ntlmOID, let mechToken = incoming.mechToken else {
                // The client's optimistic token is for another mechanism: select NTLM and ask for its token.
                phase = .spnegoMechSelected(mechTypeListDER: mechTypeListDER)
                let reply = SPNEGOToken.response(state: .acceptIncomplete, supportedMech: SPNEGOToken.ntlmOID)
                return .continueHandshake(wwwAuthenticate: "\(scheme) \(reply.base64EncodedString())")
            }
            return spnegoNTLM(scheme: scheme, ntlm: Data(mechToken), mic: nil, mechTypeListDER: mechTypeListDER)
        }
        guard let mechToken = incoming.mechToken else { return refuse("SPNEGO NegTokenResp without a token") }
        switch phase {
        case .spnegoMechSelected(let list): mechTypeListDER = list
        case .challengeSent(_, let handshake?): mechTypeListDER = handshake.mechTypeListDER
        default: break
        }
        return spnegoNTLM(scheme: scheme, ntlm: Data(mechToken), mic: incoming.mechListMIC.map { Data($0) },
                          mechTypeListDER: mechTypeListDER)
    }

    private mutating func spnegoNTLM(scheme: String, ntlm: Data, mic: Data?, mechTypeListDER: [UInt8]?) -> Decision {
        guard ntlm.count >= 12, ntlm.prefix(8) == Data("NTLMSSP\0".utf8) else {
            return refuse("SPNEGO token does not carry NTLMSSP")
        }
        switch ntlmStep(ntlm, spnego: mechTypeListDER ?? []) {
        case .challenge(let challenge):
            let reply = SPNEGOToken.response(state: .acceptIncomplete, supportedMech: SPNEGOToken.ntlmOID,
                                             responseToken: challenge)
            return .continueHandshake(wwwAuthenticate: "\(scheme) \(reply.base64EncodedString())")
        case .refused(let reason):
            return refuse(reason)
        case .accepted(let identity, let sealer):
            var serverMIC: Data?
            if let mic = mic, let list = mechTypeListDER {
                do {
                    try sealer.verify(Data(list), signature: mic)
                    serverMIC = try sealer.sign(Data(list))
                } catch {
                    phase = .anonymous
                    return refuse("SPNEGO mechListMIC does not verify: \(error)")
                }
            }
            let reply = SPNEGOToken.response(state: .acceptCompleted, mechListMIC: serverMIC)
            return .proceed(identity: identity, sealer: sealer, completedHandshake: true,
                            wwwAuthenticate: "\(scheme) \(reply.base64EncodedString())")
        }
    }

    private enum NTLMStep {
        case challenge(Data)
        case accepted(SimIdentity, NTLMSealer)
        case refused(String)
    }

    private func makeContext() -> NTLMServerContext {
        NTLMServerContext(
            users: settings.users.map { NTLMCredential(user: $0.user, password: $0.password) },
            targetName: SimIdentity(account: settings.users.first?.user ?? "").domain ?? settings.hostName,
            netbiosComputer: settings.hostName, dnsComputer: settings.dnsName,
            expectedChannelBindings: settings.expectedChannelBindings)
    }

    /// One NTLM leg. `spnego` is the MechTypeList DER when NTLM runs inside SPNEGO.
    private mutating func ntlmStep(_ bytes: Data, spnego: [UInt8]?) -> NTLMStep {
        let messageType = bytes[bytes.startIndex + 8]
        switch messageType {
        case 1:
            let context = makeContext()
            do {
                let challenge = try context.challengeMessage(negotiate: bytes)
                let handshake = spnego.map { SPNEGOHandshake(mechTypeListDER: $0.isEmpty ? nil : $0) }
                phase = .challengeSent(context: context, spnego: handshake)
                return .challenge(challenge)
            } catch {
                return .refused("NTLM NEGOTIATE refused: \(error)")
            }
        case 3:
            guard case .challengeSent(let context, let handshake) = phase else {
                // HTTP.sys has no NTLM context for this connection: the NEGOTIATE went elsewhere.
                return .refused("NTLM AUTHENTICATE on a connection that did not see the NEGOTIATE")
            }
            do {
                let sealer = try context.accept(authenticate: bytes)
                guard !settings.rejectAllCredentials else {
                    return .refused("credentials rejected on this host (authFailHosts)")
                }
                let identity = SimIdentity(account: context.authenticatedUser ?? "")
                phase = .authenticated(identity: identity, sealer: sealer)
                return .accepted(identity, sealer)
            } catch {
                return .refused("NTLM AUTHENTICATE refused: \(error)")
            }
        default:
            return .refused("unexpected NTLM message type \(messageType)")
        }
    }
}
