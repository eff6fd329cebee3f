import Foundation

/// Server (acceptor) side of NTLMv2, used by the simulator: NEGOTIATE → CHALLENGE, AUTHENTICATE → sealer.
///
/// Verifies, in order: the user is known, the NTLMv2 proof (NTProofStr), channel bindings when
/// `expectedChannelBindings` is set, then the MIC whenever the client's MsvAvFlags announce one.
/// Only NTLMv2 with extended session security is accepted; NTLMv1/LM and anonymous logons are refused.
public final class NTLMServerContext {
    public let targetName: String
    public let netbiosComputer: String
    public let dnsComputer: String
    public let expectedChannelBindings: Data?

    /// `displayName` of the registered credential that authenticated (e.g. `CORP\alice`), nil before success.
    public private(set) var authenticatedUser: String?
    public private(set) var negotiatedFlags: NTLMNegotiateFlags?

    private let users: [NTLMCredential]
    private let now: () -> Date
    private let fixedServerChallenge: Data?
    private var negotiateBytes: Data?
    private var challengeBytes: Data?
    private var challenge: NTLMChallengeMessage?
    private var accepted = false

    /// - Parameters:
    ///   - users: accepted accounts. A credential without a domain matches any domain the client names.
    ///   - targetName: NetBIOS domain announced as TargetName / MsvAvNbDomainName.
    ///   - serverChallenge: fixed 8-byte challenge for tests; nil draws a random one.
    ///   - expectedChannelBindings: application data the client must bind (`ChannelBindings.tlsServerEndPoint`
    ///     of this server's certificate); nil disables the check.
    public init(users: [NTLMCredential], targetName: String = "WINFLEET", netbiosComputer: String, dnsComputer: String,
                now: @escaping () -> Date = Date.init, serverChallenge: Data? = nil, expectedChannelBindings: Data? = nil) {
        precondition(serverChallenge == nil || serverChallenge?.count == 8, "serverChallenge must be 8 bytes")
        self.users = users
        self.targetName = targetName
        self.netbiosComputer = netbiosComputer
        self.dnsComputer = dnsComputer
        self.now = now
        self.fixedServerChallenge = serverChallenge
        self.expectedChannelBindings = expectedChannelBindings
    }

    /// Answers a NEGOTIATE with a CHALLENGE carrying the server challenge and target info (with MsvAvTimestamp,
    /// which obliges the client to send a MIC).
    public func challengeMessage(negotiate negotiateBytes: Data) throws -> Data {
        guard challengeBytes == nil else {
            throw NTLMError.invalidState("this server context already issued a CHALLENGE; use a new context per handshake")
        }
        let negotiate = try NTLMNegotiateMessage.decode(negotiateBytes)
        guard negotiate.flags.contains(.unicode) else {
            throw NTLMError.unsupported("client did not offer NTLMSSP_NEGOTIATE_UNICODE (OEM strings are not supported)")
        }
        guard negotiate.flags.contains(.extendedSessionSecurity) else {
            throw NTLMError.unsupported("client did not offer NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY")
        }

        var flags = negotiate.flags.intersection(.serverSupported)
        flags.formUnion([.ntlm, .targetInfo, .targetTypeDomain])
        flags.insert(.requestTarget)  // we always return a TargetName

        var targetInfo = NTLMTargetInfo()
        targetInfo.setString(.nbDomainName, targetName)
        targetInfo.setString(.nbComputerName, netbiosComputer)
        if let dot = dnsComputer.firstIndex(of: ".") {
            targetInfo.setString(.dnsDomainName, String(dnsComputer[dnsComputer.index(after: dot)...]))
        }
        targetInfo.setString(.dnsComputerName, dnsComputer)
        targetInfo.timestamp = FileTime.fileTime(from: now())

        let challenge = NTLMChallengeMessage(
            flags: flags, serverChallenge: fixedServerChallenge ?? NTLMClientContext.systemRandomBytes(8),
            targetName: targetName, targetInfo: targetInfo,
            version: flags.contains(.version) ? .winfleetDefault : nil)
        let bytes = challenge.encoded()
        self.negotiateBytes = negotiateBytes
        self.challenge = challenge
        self.challengeBytes = bytes
        return bytes
    }

    /// Verifies the AUTHENTICATE message and returns the server-side sealer.
    /// Errors: `authenticationFailed(user:)` (unknown user / wrong password), `channelBindingMismatch`,
    /// `micMismatch`, `malformed`, `unsupported` (NTLMv1, anonymous, no ESS).
    public func accept(authenticate authenticateBytes: Data) throws -> NTLMSealer {
        guard let negotiateBytes, let challengeBytes, let challenge else {
            throw NTLMError.invalidState("challengeMessage(negotiate:) must run before accept(authenticate:)")
        }
        guard !accepted else {
            throw NTLMError.invalidState("this server context already accepted an AUTHENTICATE message")
        }
        let authenticate = try NTLMAuthenticateMessage.decode(authenticateBytes)
        let shownUser = authenticate.domain.isEmpty ? authenticate.user : "\(authenticate.domain)\\\(authenticate.user)"

        guard !authenticate.user.isEmpty, !authenticate.ntChallengeResponse.isEmpty else {
            throw NTLMError.unsupported("anonymous NTLM logon is not accepted")
        }
        // NTProofStr (16) + blob header (28) + at least MsvAvEOL (4).
        guard authenticate.ntChallengeResponse.count >= 48 else {
            throw NTLMError.unsupported(
                "NtChallengeResponse of \(authenticate.ntChallengeResponse.count) bytes is NTLMv1/LM; only NTLMv2 is accepted")
        }
        let flags = authenticate.flags.intersection(challenge.flags)
        guard flags.contains(.extendedSessionSecurity) else {
            throw NTLMError.unsupported("AUTHENTICATE did not keep NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY")
        }
        guard let credential = users.first(where: { $0.matches(user: authenticate.user, domain: authenticate.domain) }) else {
            throw NTLMError.authenticationFailed(user: shownUser)
        }

        // NTLMv2 proof over the blob exactly as received (§3.3.2); the user/domain strings are the client's.
        let ntResponse = authenticate.ntChallengeResponse
        let receivedProof = ntResponse.prefix(16)
        let blob = ntResponse.dropFirst(16)
        let responseKey = NTLMCrypto.ntowfv2(ntHash: credential.ntHash, user: authenticate.user, domain: authenticate.domain)
        let expectedProof = NTLMCrypto.ntProofString(responseKeyNT: responseKey, serverChallenge: challenge.serverChallenge,
                                                     clientChallengeBlob: Data(blob))
        guard ConstantTime.equals(expectedProof, receivedProof) else {
            throw NTLMError.authenticationFailed(user: shownUser)
        }

        // The blob's AV pairs are authenticated by NTProofStr, so flags and bindings in them can be trusted.
        let blobTargetInfo = try NTLMTargetInfo.decode(Data(blob.dropFirst(28)), message: "AUTHENTICATE",
                                                       field: "NtChallengeResponse.AvPairs")
        if let expectedChannelBindings {
            let expected = NTLMCrypto.channelBindingsHash(applicationData: expectedChannelBindings)
            guard let received = blobTargetInfo[.channelBindings], received != Data(count: 16),
                  ConstantTime.equals(expected, received) else {
                throw NTLMError.channelBindingMismatch
            }
        }

        let keyExchangeKey = NTLMCrypto.sessionBaseKey(responseKeyNT: responseKey, ntProofString: expectedProof)
        let exportedSessionKey: Data
        if flags.contains(.keyExchange) {
            guard authenticate.encryptedRandomSessionKey.count == 16 else {
                throw NTLMError.malformed(
                    message: "AUTHENTICATE", field: "EncryptedRandomSessionKeyFields",
                    detail: "KEY_EXCH negotiated but the key is \(authenticate.encryptedRandomSessionKey.count) bytes, expected 16")
            }
            exportedSessionKey = RC4.oneShot(key: keyExchangeKey, authenticate.encryptedRandomSessionKey)
        } else {
            exportedSessionKey = keyExchangeKey
        }

        if blobTargetInfo.flags.contains(.micPresent) {
            guard let receivedMIC = authenticate.mic else { throw NTLMError.micMismatch }
            var zeroed = authenticateBytes
            let micRange = zeroed.startIndex + NTLMAuthenticateMessage.micOffset
            zeroed.replaceSubrange(micRange..<(micRange + 16), with: Data(count: 16))
            let expectedMIC = NTLMCrypto.mic(exportedSessionKey: exportedSessionKey, negotiate: negotiateBytes,
                                             challenge: challengeBytes, authenticate: zeroed)
            guard ConstantTime.equals(expectedMIC, receivedMIC) else { throw NTLMError.micMismatch }
        }

        let sealer = try NTLMSealer(exportedSessionKey: exportedSessionKey, flags: flags, role: .server)
        accepted = true
        negotiatedFlags = flags
        authenticatedUser = credential.displayName
        return sealer
    }
}
