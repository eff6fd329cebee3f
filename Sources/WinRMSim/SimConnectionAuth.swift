import ASCIIText
import Foundation
import WSMan
import WinRMAuth
import WinRMKerberos

/// Authentication state of one TCP connection, as HTTP.sys and the WinRM service keep it: NTLM and
/// Kerberos are connection-bound (NEGOTIATE and AUTHENTICATE must arrive on the same connection, and after
/// the 200 the connection stays authenticated without an `Authorization` header); Basic is per request.
/// Kerberos goes through MIT GSS-API with the host's keytab (`SimKerberosAcceptor`); the host's final token
/// (mutual authentication) rides on the 200, a KRB-ERROR (clock skew, …) on the 401.
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
        /// Kerberos acceptance (keytab + the host's SPN); nil when the host does not accept Kerberos.
        var kerberos: SimKerberosAcceptor? = nil

        /// Basic is offered only where Windows would accept it: enabled, and over https or with
        /// AllowUnencrypted=true. (Windows never advertises Basic on an http listener that refuses
        /// unencrypted traffic; see WinRMSim.swift.)
        var basicUsable: Bool { mode.acceptsBasic && (https || allowUnencrypted) }

        /// The `WWW-Authenticate` values of an initial 401.
        var challengeHeaders: [String] {
            var headers: [String] = []
            if mode.acceptsNegotiate { headers.append("Negotiate") }
            if kerberos != nil { headers.append("Kerberos") }
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
        /// The request may be served. `completedHandshake`: this request ended an NTLM or Kerberos handshake
        /// or was the first valid Basic request of the connection (counts as one authentication).
        /// `wwwAuthenticate`: the final token to send with the 200 (SPNEGO accept-completed + mechListMIC,
        /// or the Kerberos AP-REP of mutual authentication).
        case proceed(identity: SimIdentity, sealing: SimSealing?, completedHandshake: Bool, wwwAuthenticate: String? = nil,
                     handshake: Handshake? = nil)
    }

    /// What a completed handshake established (for the counters).
    struct Handshake {
        /// "basic", "ntlm" or "kerberos".
        var mechanism: String
        /// The client delegated its TGT (Kerberos).
        var delegated = false
    }

    private enum Phase {
        case anonymous
        /// SPNEGO NegTokenInit named NTLM but not first, without an NTLM token: waiting for NEGOTIATE.
        case spnegoMechSelected(mechTypeListDER: [UInt8]?)
        case challengeSent(context: NTLMServerContext, spnego: SPNEGOHandshake?)
        /// A Kerberos/SPNEGO acceptor that asked for another leg (rare: Kerberos normally takes one).
        case kerberosInProgress(context: KerberosServerContext)
        case authenticated(identity: SimIdentity, sealing: SimSealing)
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

    /// The sealing of an authenticated NTLM or Kerberos connection.
    var sealing: SimSealing? {
        if case .authenticated(_, let sealing) = phase { return sealing }
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
        guard let header = authorization?.trimmingASCIIWhitespace, !header.isEmpty else {
            if case .authenticated(let identity, let sealing) = phase {
                return .proceed(identity: identity, sealing: sealing, completedHandshake: false)
            }
            return .challenge(wwwAuthenticate: settings.challengeHeaders, rejectedCredential: false, reason: nil)
        }
        let scheme = header.prefix { $0 != " " }
        let token = header.dropFirst(scheme.count).trimmingASCIIWhitespace
        switch scheme.lowercased() {
        case "basic":
            return authorizeBasic(token)
        case "negotiate", "ntlm":
            return authorizeNTLM(scheme: String(scheme), token: token)
        case "kerberos":
            guard settings.kerberos != nil else { return refuse("Kerberos authentication is disabled (no keytab)") }
            guard let bytes = Data(base64Encoded: token), !bytes.isEmpty else {
                return refuse("Authorization token is not base64")
            }
            return kerberosStep(scheme: String(scheme), token: bytes)
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
        return .proceed(identity: SimIdentity(account: account), sealing: nil, completedHandshake: first,
                        handshake: Handshake(mechanism: "basic"))
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
        let isNegotiate = scheme.lowercased() == "negotiate"
        if isNegotiate, settings.kerberos != nil {
            // Kerberos under Negotiate: a raw AP-REQ (pypsrp auth="kerberos"), a later SPNEGO leg of a
            // Kerberos handshake, or a NegTokenInit whose preferred mechanism is Kerberos.
            if SimKerberosAcceptor.isRawKerberos(bytes) { return kerberosStep(scheme: scheme, token: bytes) }
            if case .kerberosInProgress = phase, bytes.first == 0xA1 { return kerberosStep(scheme: scheme, token: bytes) }
            if bytes.first == 0x60, let incoming = try? SPNEGOToken.parse(bytes), incoming.isInit,
               let preferred = incoming.mechTypes.first,
               SimKerberosAcceptor.kerberosOIDs.contains(preferred) || !incoming.mechTypes.contains(SPNEGOToken.ntlmOID) {
                return kerberosStep(scheme: scheme, token: bytes)
            }
        }
        if SPNEGOToken.isSPNEGO(bytes) {
            guard isNegotiate else { return refuse("SPNEGO token under the \(scheme) scheme") }
            guard settings.mode.acceptsNTLM else { return refuse("NTLM is refused on this host (Kerberos only)") }
            return authorizeSPNEGO(scheme: scheme, token: bytes)
        }
        guard bytes.count >= 12, bytes.prefix(8) == Data("NTLMSSP\0".utf8) else {
            return refuse(settings.kerberos == nil
                          ? "token is neither NTLMSSP nor SPNEGO (this host accepts no Kerberos: no keytab)"
                          : "token is neither NTLMSSP, SPNEGO nor Kerberos")
        }
        guard settings.mode.acceptsNTLM else { return refuse("NTLM is refused on this host (Kerberos only)") }
        switch ntlmStep(bytes, spnego: nil) {
        case .challenge(let challenge):
            return .continueHandshake(wwwAuthenticate: "\(scheme) \(challenge.base64EncodedString())")
        case .accepted(let identity, let sealer):
            return .proceed(identity: identity, sealing: Self.ntlmSealing(sealer), completedHandshake: true,
                            handshake: Handshake(mechanism: "ntlm"))
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
                return refuse(settings.kerberos == nil
                              ? "SPNEGO offers no NTLM, and this host accepts no Kerberos (no keytab)"
                              : "SPNEGO offers neither NTLM nor Kerberos")
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
            return .proceed(identity: identity, sealing: Self.ntlmSealing(sealer), completedHandshake: true,
                            wwwAuthenticate: "\(scheme) \(reply.base64EncodedString())", handshake: Handshake(mechanism: "ntlm"))
        }
    }

    private enum NTLMStep {
        case challenge(Data)
        case accepted(SimIdentity, NTLMSealer)
        case refused(String)
    }

    static func ntlmSealing(_ sealer: NTLMSealer) -> SimSealing {
        SimSealing(sealer: sealer, protocolName: WinRMEncryption.spnegoProtocol)
    }

    /// One Kerberos leg through GSS-API: a raw AP-REQ or an SPNEGO token carrying one. On success
    /// the 200 carries the acceptor's token (AP-REP, inside SPNEGO when the client spoke SPNEGO); on
    /// failure the 401 carries the acceptor's error token (a KRB-ERROR such as clock skew) when
    /// the library made one, so the client learns the cause.
    private mutating func kerberosStep(scheme: String, token: Data) -> Decision {
        guard let acceptor = settings.kerberos else { return refuse("Kerberos authentication is disabled (no keytab)") }
        let context: KerberosServerContext
        if case .kerberosInProgress(let existing) = phase, token.first == 0xA1 {
            context = existing
        } else {
            do {
                context = try acceptor.makeContext()
            } catch {
                return refuse("Kerberos acceptor unavailable: \(error)")
            }
        }
        let result: (token: Data?, complete: Bool)
        do {
            result = try context.step(token)
        } catch {
            phase = .anonymous
            let headers = context.errorToken.map { ["\(scheme) \($0.base64EncodedString())"] } ?? settings.challengeHeaders
            return .challenge(wwwAuthenticate: headers, rejectedCredential: true, reason: "Kerberos refused: \(error)")
        }
        let reply = result.token.map { "\(scheme) \($0.base64EncodedString())" }
        guard result.complete else {
            guard let reply else { return refuse("the Kerberos acceptor wants another leg but produced no token") }
            phase = .kerberosInProgress(context: context)
            return .continueHandshake(wwwAuthenticate: reply)
        }
        let principal = context.clientPrincipal ?? ""
        guard !settings.rejectAllCredentials else {
            return refuse("credentials rejected on this host (authFailHosts)")
        }
        // Any realm user can get a ticket; like WinRM's access check, only the host's accounts may in.
        guard settings.users.contains(where: { Self.sameAccount($0.user, principal) }) else {
            return refuse("Kerberos principal \(principal) is not an account of this host (access denied)")
        }
        let identity = SimIdentity(account: principal)
        let protocolName = scheme.lowercased() == "kerberos" ? WinRMEncryption.kerberosProtocol : WinRMEncryption.spnegoProtocol
        let sealing = SimSealing(sealer: KerberosServerSealer(context: context), protocolName: protocolName)
        phase = .authenticated(identity: identity, sealing: sealing)
        return .proceed(identity: identity, sealing: sealing, completedHandshake: true, wwwAuthenticate: reply,
                        handshake: Handshake(mechanism: "kerberos",
                                             delegated: context.establishedFlags.contains(.delegation)))
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
            guard case .challengeSent(let context, _) = phase else {
                // HTTP.sys has no NTLM context for this connection: the NEGOTIATE went elsewhere.
                return .refused("NTLM AUTHENTICATE on a connection that did not see the NEGOTIATE")
            }
            do {
                let sealer = try context.accept(authenticate: bytes)
                guard !settings.rejectAllCredentials else {
                    return .refused("credentials rejected on this host (authFailHosts)")
                }
                let identity = SimIdentity(account: context.authenticatedUser ?? "")
                phase = .authenticated(identity: identity, sealing: Self.ntlmSealing(sealer))
                return .accepted(identity, sealer)
            } catch {
                return .refused("NTLM AUTHENTICATE refused: \(error)")
            }
        default:
            return .refused("unexpected NTLM message type \(messageType)")
        }
    }
}
