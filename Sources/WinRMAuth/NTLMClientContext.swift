import Foundation

/// Client (initiator) side of NTLMv2 (MS-NLMP §3.1.5): NEGOTIATE → (CHALLENGE) → AUTHENTICATE.
///
/// Always NTLMv2 with extended session security. When the server offers KEY_EXCH a random exported
/// session key is sent RC4-encrypted under the key exchange key. When the CHALLENGE carries an
/// MsvAvTimestamp the NTLMv2 blob reuses that time, the LM response is Z(24) and a MIC over the three
/// messages is added (MsvAvFlags bit 0x2). Channel bindings (application data, usually
/// `ChannelBindings.tlsServerEndPoint(certificateDER:)`) go into MsvAvChannelBindings as an MD5 of the
/// gss_channel_bindings_struct.
///
/// Not thread-safe; a context belongs to one connection and one handshake.
public final class NTLMClientContext {
    public let credential: NTLMCredential
    public let workstation: String?
    public let channelBindings: Data?
    public let servicePrincipalName: String?

    /// Session security for the authenticated connection; nil until `authenticateMessage` succeeds or when
    /// the server negotiated neither SIGN nor SEAL.
    public private(set) var sealer: NTLMSealer?
    /// Flags sent in AUTHENTICATE (the negotiated set); nil until then.
    public private(set) var negotiatedFlags: NTLMNegotiateFlags?

    private var negotiateBytes: Data?
    private var completed = false

    /// Randomness for the client challenge and the exported session key. Tests substitute it.
    var randomBytes: (Int) -> Data = NTLMClientContext.systemRandomBytes
    /// Clock used when the server sent no MsvAvTimestamp.
    var now: () -> Date = Date.init
    /// VERSION announced in NEGOTIATE and AUTHENTICATE (tests use the MS-NLMP example's 5.1.2600).
    var announcedVersion: NTLMVersion = .winfleetDefault

    /// - Parameters:
    ///   - workstation: NetBIOS name announced in AUTHENTICATE (informational; nil sends an empty name).
    ///   - channelBindings: gss_channel_bindings_struct application data (`tls-server-end-point:` ‖ hash), or nil.
    ///   - servicePrincipalName: e.g. `HTTP/host.example.com`, sent as MsvAvTargetName (nil omits it).
    public init(credential: NTLMCredential, workstation: String? = nil, channelBindings: Data? = nil,
                servicePrincipalName: String? = nil) {
        self.credential = credential
        self.workstation = workstation
        self.channelBindings = channelBindings
        self.servicePrincipalName = servicePrincipalName
    }

    /// The NEGOTIATE message (type 1). Repeated calls return the same bytes: the MIC covers exactly what was sent.
    public func negotiateMessage() -> Data {
        if let negotiateBytes { return negotiateBytes }
        let message = NTLMNegotiateMessage(flags: .clientDefault, version: announcedVersion).encoded()
        negotiateBytes = message
        return message
    }

    /// Processes the server's CHALLENGE (type 2) and returns the AUTHENTICATE message (type 3).
    /// On success `sealer` is ready. Malformed challenges throw `NTLMError.malformed` naming the field.
    public func authenticateMessage(challenge challengeBytes: Data) throws -> Data {
        guard let negotiateBytes else {
            throw NTLMError.invalidState("negotiateMessage() must be sent before authenticateMessage(challenge:)")
        }
        guard !completed else {
            throw NTLMError.invalidState("this context already produced its AUTHENTICATE message; create a new context")
        }
        let challenge = try NTLMChallengeMessage.decode(challengeBytes)
        let flags = try negotiatedFlags(for: challenge)
        guard challenge.flags.contains(.targetInfo), let serverTargetInfo = challenge.targetInfo else {
            throw NTLMError.malformed(
                message: "CHALLENGE", field: "TargetInfoFields",
                detail: "missing (NTLMSSP_NEGOTIATE_TARGET_INFO \(challenge.flags.contains(.targetInfo) ? "set but empty" : "not set")); "
                    + "NTLMv2 requires the server's target info")
        }

        // NTLMv2 response (§3.3.2).
        let clientChallenge = randomBytes(8)
        let serverTimestamp = serverTargetInfo.timestamp
        let includeMIC = serverTimestamp != nil
        var blobTargetInfo = serverTargetInfo
        if includeMIC { blobTargetInfo.flags.insert(.micPresent) }
        if let channelBindings {
            blobTargetInfo[.channelBindings] = NTLMCrypto.channelBindingsHash(applicationData: channelBindings)
        }
        if let servicePrincipalName { blobTargetInfo.setString(.targetName, servicePrincipalName) }

        let timestamp = serverTimestamp ?? FileTime.fileTime(from: now())
        let responseKey = NTLMCrypto.ntowfv2(ntHash: credential.ntHash, user: credential.user, domain: credential.domain)
        let blob = NTLMCrypto.ntlmv2ClientChallengeBlob(timestamp: timestamp, clientChallenge: clientChallenge, targetInfo: blobTargetInfo)
        let ntProof = NTLMCrypto.ntProofString(responseKeyNT: responseKey, serverChallenge: challenge.serverChallenge, clientChallengeBlob: blob)
        let ntResponse = ntProof + blob
        // With a MIC the LM response must be Z(24) (§3.1.5.1.2): an LMv2 response cannot be bound by the MIC.
        let lmResponse = includeMIC
            ? Data(count: 24)
            : NTLMCrypto.lmv2Response(responseKeyLM: responseKey, serverChallenge: challenge.serverChallenge, clientChallenge: clientChallenge)

        // Keys (§3.1.5.1.2): for NTLMv2 the key exchange key is the session base key.
        let keyExchangeKey = NTLMCrypto.sessionBaseKey(responseKeyNT: responseKey, ntProofString: ntProof)
        let exportedSessionKey: Data
        let encryptedRandomSessionKey: Data
        if flags.contains(.keyExchange) {
            exportedSessionKey = randomBytes(16)
            encryptedRandomSessionKey = RC4.oneShot(key: keyExchangeKey, exportedSessionKey)
        } else {
            exportedSessionKey = keyExchangeKey
            encryptedRandomSessionKey = Data()
        }

        var authenticate = NTLMAuthenticateMessage(
            flags: flags, lmChallengeResponse: lmResponse, ntChallengeResponse: ntResponse,
            domain: credential.domain, user: credential.user, workstation: workstation ?? "",
            encryptedRandomSessionKey: encryptedRandomSessionKey,
            version: flags.contains(.version) ? announcedVersion : nil,
            mic: includeMIC ? Data(count: 16) : nil)
        var message = authenticate.encoded()
        if includeMIC {
            let mic = NTLMCrypto.mic(exportedSessionKey: exportedSessionKey, negotiate: negotiateBytes,
                                     challenge: challengeBytes, authenticate: message)
            authenticate.mic = mic
            message.replaceSubrange(NTLMAuthenticateMessage.micOffset..<(NTLMAuthenticateMessage.micOffset + 16), with: mic)
        }

        if !flags.intersection([.sign, .seal]).isEmpty {
            sealer = try NTLMSealer(exportedSessionKey: exportedSessionKey, flags: flags, role: .client)
        }
        negotiatedFlags = flags
        completed = true
        return message
    }

    /// The AUTHENTICATE flags: what both sides agreed to, plus the server's TARGET_INFO and our own
    /// REQUEST_TARGET (Windows keeps both; see the MS-NLMP §4.2.4.3 AUTHENTICATE example, flags 0xE2888235).
    private func negotiatedFlags(for challenge: NTLMChallengeMessage) throws -> NTLMNegotiateFlags {
        let offered = challenge.flags
        guard offered.contains(.unicode) else {
            throw NTLMError.unsupported("server did not negotiate NTLMSSP_NEGOTIATE_UNICODE (OEM strings are not supported)")
        }
        guard offered.contains(.extendedSessionSecurity) else {
            throw NTLMError.unsupported(
                "server did not negotiate NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY; refusing weaker NTLM session security")
        }
        var flags = offered.intersection(.clientDefault)
        if offered.contains(.targetInfo) { flags.insert(.targetInfo) }
        flags.insert(.requestTarget)
        return flags
    }

    static func systemRandomBytes(_ count: Int) -> Data {
        // Eight bytes per draw: each draw is a getrandom(2) call.
        var generator = SystemRandomNumberGenerator()
        var bytes = Data(capacity: count + 8)
        while bytes.count < count {
            withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        return bytes.prefix(count)
    }
}
