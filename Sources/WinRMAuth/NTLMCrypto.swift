import Crypto
import Foundation

/// The NTLMv2 key and response derivations of MS-NLMP §3.3.2 and the session-security keys of §3.4.5.
/// Pure functions; the contexts compose them.
public enum NTLMCrypto {
    public static func md5(_ data: Data) -> Data {
        Data(Insecure.MD5.hash(data: data))
    }

    public static func hmacMD5(key: Data, _ parts: Data...) -> Data {
        var mac = HMAC<Insecure.MD5>(key: SymmetricKey(data: key))
        for part in parts { mac.update(data: part) }
        return Data(mac.finalize())
    }

    /// NTOWFv1 = MD4(UNICODE(Passwd)), the "NT hash". NTOWFv2 starts from it.
    public static func ntHash(password: String) -> Data {
        Data(MD4.hash(TextCoding.utf16LE(password)))
    }

    /// NTOWFv2 = HMAC_MD5(NT hash, UNICODE(Uppercase(User) ‖ UserDom)). Also ResponseKeyNT and ResponseKeyLM.
    /// The domain keeps its case; only the user name is upper-cased.
    public static func ntowfv2(ntHash: Data, user: String, domain: String) -> Data {
        hmacMD5(key: ntHash, Data(TextCoding.utf16LE(windowsUppercase(user) + domain)))
    }

    public static func ntowfv2(password: String, user: String, domain: String) -> Data {
        ntowfv2(ntHash: ntHash(password: password), user: user, domain: domain)
    }

    /// Windows upper-cases names one UTF-16 code unit at a time (RtlUpcaseUnicodeString), so characters whose
    /// full Unicode upper-case expands (ß → SS) stay unchanged. Approximated with the single-scalar mappings.
    static func windowsUppercase(_ string: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in string.unicodeScalars {
            let mapped = scalar.properties.uppercaseMapping.unicodeScalars
            if mapped.count == 1, let upper = mapped.first { scalars.append(upper) } else { scalars.append(scalar) }
        }
        return String(scalars)
    }

    /// The NTLMv2_CLIENT_CHALLENGE ("temp" in §3.3.2):
    /// RespType 1 ‖ HiRespType 1 ‖ Z(6) ‖ Time ‖ ClientChallenge ‖ Z(4) ‖ AV pairs (with EOL) ‖ Z(4).
    public static func ntlmv2ClientChallengeBlob(timestamp: UInt64, clientChallenge: Data, targetInfo: NTLMTargetInfo) -> Data {
        precondition(clientChallenge.count == 8, "ClientChallenge must be 8 bytes")
        var writer = ByteWriter(capacity: 64)
        writer.append(UInt8(1))
        writer.append(UInt8(1))
        writer.appendZeros(6)
        writer.append(timestamp)
        writer.append(contentsOf: clientChallenge)
        writer.appendZeros(4)
        writer.append(contentsOf: targetInfo.encoded())
        writer.appendZeros(4)
        return writer.data
    }

    /// NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge ‖ temp).
    public static func ntProofString(responseKeyNT: Data, serverChallenge: Data, clientChallengeBlob: Data) -> Data {
        hmacMD5(key: responseKeyNT, serverChallenge, clientChallengeBlob)
    }

    /// NtChallengeResponse = NTProofStr ‖ temp.
    public static func ntlmv2Response(responseKeyNT: Data, serverChallenge: Data, clientChallengeBlob: Data) -> Data {
        ntProofString(responseKeyNT: responseKeyNT, serverChallenge: serverChallenge, clientChallengeBlob: clientChallengeBlob)
            + clientChallengeBlob
    }

    /// LmChallengeResponse (LMv2) = HMAC_MD5(ResponseKeyLM, ServerChallenge ‖ ClientChallenge) ‖ ClientChallenge.
    public static func lmv2Response(responseKeyLM: Data, serverChallenge: Data, clientChallenge: Data) -> Data {
        hmacMD5(key: responseKeyLM, serverChallenge, clientChallenge) + clientChallenge
    }

    /// SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr). For NTLMv2 the KeyExchangeKey equals it.
    public static func sessionBaseKey(responseKeyNT: Data, ntProofString: Data) -> Data {
        hmacMD5(key: responseKeyNT, ntProofString)
    }

    /// MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE ‖ CHALLENGE ‖ AUTHENTICATE-with-zeroed-MIC).
    public static func mic(exportedSessionKey: Data, negotiate: Data, challenge: Data, authenticate: Data) -> Data {
        hmacMD5(key: exportedSessionKey, negotiate, challenge, authenticate)
    }

    /// MD5 over the serialized gss_channel_bindings_struct: the value of MsvAvChannelBindings.
    public static func channelBindingsHash(applicationData: Data) -> Data {
        md5(ChannelBindings.gssChannelBindingsStruct(applicationData: applicationData))
    }

    // MARK: Session security keys (§3.4.5.2, §3.4.5.3)

    public enum Direction: Sendable {
        case clientToServer
        case serverToClient
    }

    private static func magic(_ text: String) -> Data { Data(text.utf8) + Data([0]) }

    private static let clientSigningMagic = magic("session key to client-to-server signing key magic constant")
    private static let serverSigningMagic = magic("session key to server-to-client signing key magic constant")
    private static let clientSealingMagic = magic("session key to client-to-server sealing key magic constant")
    private static let serverSealingMagic = magic("session key to server-to-client sealing key magic constant")

    /// SIGNKEY with extended session security: MD5(ExportedSessionKey ‖ direction magic).
    public static func signingKey(exportedSessionKey: Data, direction: Direction) -> Data {
        md5(exportedSessionKey + (direction == .clientToServer ? clientSigningMagic : serverSigningMagic))
    }

    /// SEALKEY with extended session security: the session key is cut to 16/7/5 bytes by 128/56/40-bit
    /// strength before hashing with the direction magic.
    public static func sealingKey(exportedSessionKey: Data, flags: NTLMNegotiateFlags, direction: Direction) -> Data {
        let strength = flags.contains(.key128) ? 16 : (flags.contains(.key56) ? 7 : 5)
        let truncated = exportedSessionKey.prefix(strength)
        return md5(truncated + (direction == .clientToServer ? clientSealingMagic : serverSealingMagic))
    }
}
