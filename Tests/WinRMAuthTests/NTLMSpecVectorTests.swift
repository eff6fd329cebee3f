import Foundation
import XCTest
@testable import WinRMAuth

/// MS-NLMP §4.2.1 common values and §4.2.4 "NTLMv2 Authentication" example, bit-exact.
/// (Values also used by pyspnego's tests/_ntlm_raw test suite.)
enum SpecExample {
    static let user = "User"
    static let domain = "Domain"
    static let password = "Password"
    static let workstation = "COMPUTER"
    static let randomSessionKey = Data(repeating: 0x55, count: 16)
    static let time: UInt64 = 0
    static let clientChallenge = Data(repeating: 0xAA, count: 8)
    static let serverChallenge = Data(hex: "0123456789abcdef")
    static let plaintext = Data("Plaintext".utf16.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8($0 >> 8)] })

    /// §4.2.4.1.1 AV pairs: MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server", MsvAvEOL.
    static let targetInfo = Data(hex: """
        02000c00 44006f006d00610069006e00
        01000c00 530065007200760065007200
        00000000
        """)

    /// §4.2.4.3 CHALLENGE_MESSAGE.
    static let challengeMessage = Data(hex: """
        4e544c4d53535000 02000000
        0c000c0038000000
        33828ae2
        0123456789abcdef
        0000000000000000
        2400240044000000
        060070170000000f
        530065007200760065007200
        02000c0044006f006d00610069006e00
        01000c00530065007200760065007200
        00000000
        """)

    /// §4.2.4.2.2 NTLMv2 response "temp" (the client challenge blob).
    static let clientBlob = Data(hex: """
        0101 0000 00000000 0000000000000000 aaaaaaaaaaaaaaaa 00000000
        02000c0044006f006d00610069006e00
        01000c00530065007200760065007200
        00000000
        00000000
        """)

    /// §4.2.4.3 AUTHENTICATE_MESSAGE (legacy layout: Version but no MIC).
    static let authenticateMessage = Data(hex: """
        4e544c4d53535000 03000000
        180018006c000000
        5400540084000000
        0c000c0048000000
        0800080054000000
        100010005c000000
        10001000d8000000
        358288e2
        0501280a0000000f
        44006f006d00610069006e00
        5500730065007200
        43004f004d0050005500540045005200
        86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa
        68cd0ab851e51c96aabc927bebef6a1c
        01010000000000000000000000000000aaaaaaaaaaaaaaaa00000000
        02000c0044006f006d00610069006e00
        01000c00530065007200760065007200
        0000000000000000
        c5dad2544fc9799094ce1ce90bc9d03e
        """)
}

final class NTLMSpecVectorTests: XCTestCase {
    func testResponseKeyNTIsNTOWFv2() {
        // §4.2.4.1.1 ResponseKeyNT = NTOWFv2("Password", "User", "Domain")
        XCTAssertEqual(NTLMCrypto.ntowfv2(password: SpecExample.password, user: SpecExample.user, domain: SpecExample.domain).hex,
                       "0c868a403bfd7a93a3001ef22ef02e3f")
    }

    func testNTLMv2ResponseAndKeys() throws {
        let responseKey = NTLMCrypto.ntowfv2(password: SpecExample.password, user: SpecExample.user, domain: SpecExample.domain)
        let targetInfo = try NTLMTargetInfo.decode(SpecExample.targetInfo, message: "test", field: "TargetInfo")
        let blob = NTLMCrypto.ntlmv2ClientChallengeBlob(timestamp: SpecExample.time, clientChallenge: SpecExample.clientChallenge,
                                                       targetInfo: targetInfo)
        XCTAssertEqual(blob.hex, SpecExample.clientBlob.hex, "temp")

        // §4.2.4.2.2 NTLMv2 Response: NTProofStr
        let proof = NTLMCrypto.ntProofString(responseKeyNT: responseKey, serverChallenge: SpecExample.serverChallenge,
                                             clientChallengeBlob: blob)
        XCTAssertEqual(proof.hex, "68cd0ab851e51c96aabc927bebef6a1c")
        XCTAssertEqual(NTLMCrypto.ntlmv2Response(responseKeyNT: responseKey, serverChallenge: SpecExample.serverChallenge,
                                                 clientChallengeBlob: blob).hex,
                       "68cd0ab851e51c96aabc927bebef6a1c" + SpecExample.clientBlob.hex)

        // §4.2.4.2.1 LMv2 Response
        XCTAssertEqual(NTLMCrypto.lmv2Response(responseKeyLM: responseKey, serverChallenge: SpecExample.serverChallenge,
                                               clientChallenge: SpecExample.clientChallenge).hex,
                       "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")

        // §4.2.4.1.2 Session Base Key (= KeyExchangeKey for NTLMv2)
        let sessionBaseKey = NTLMCrypto.sessionBaseKey(responseKeyNT: responseKey, ntProofString: proof)
        XCTAssertEqual(sessionBaseKey.hex, "8de40ccadbc14a82f15cb0ad0de95ca3")

        // §4.2.4.2.3 Encrypted Session Key = RC4K(KeyExchangeKey, RandomSessionKey)
        XCTAssertEqual(RC4.oneShot(key: sessionBaseKey, SpecExample.randomSessionKey).hex, "c5dad2544fc9799094ce1ce90bc9d03e")
    }

    /// §4.2.4.4 (and §4.2.3.4 for the 56/40-bit and server-direction keys): SealKey / SignKey.
    func testSealAndSignKeys() {
        let key = SpecExample.randomSessionKey
        let ess128: NTLMNegotiateFlags = [.extendedSessionSecurity, .key128]
        XCTAssertEqual(NTLMCrypto.sealingKey(exportedSessionKey: key, flags: ess128, direction: .clientToServer).hex,
                       "59f600973cc4960a25480a7c196e4c58")
        XCTAssertEqual(NTLMCrypto.sealingKey(exportedSessionKey: key, flags: ess128, direction: .serverToClient).hex,
                       "9355f3a957c1583d25c4c2f11e40390e")
        XCTAssertEqual(NTLMCrypto.sealingKey(exportedSessionKey: key, flags: [.extendedSessionSecurity, .key56], direction: .clientToServer).hex,
                       "a5f7253c1065e8d3d68642040e71cfe0")
        XCTAssertEqual(NTLMCrypto.sealingKey(exportedSessionKey: key, flags: [.extendedSessionSecurity, .key56], direction: .serverToClient).hex,
                       "583e2f98959b385cd158f3734b5f5d3f")
        XCTAssertEqual(NTLMCrypto.sealingKey(exportedSessionKey: key, flags: [.extendedSessionSecurity], direction: .clientToServer).hex,
                       "42f964a471091a02ff4a77455366e4e5")
        XCTAssertEqual(NTLMCrypto.sealingKey(exportedSessionKey: key, flags: [.extendedSessionSecurity], direction: .serverToClient).hex,
                       "c5d3853b406b7c1241c595f0ce0750e2")
        XCTAssertEqual(NTLMCrypto.signingKey(exportedSessionKey: key, direction: .clientToServer).hex,
                       "4788dc861b4782f35d43fd98fe1a2d39")
        XCTAssertEqual(NTLMCrypto.signingKey(exportedSessionKey: key, direction: .serverToClient).hex,
                       "d04d6f10741041d1d246d64188d7a8ad")
    }

    /// §4.2.4.4 GSS_WrapEx: "Plaintext" (UTF-16LE), sequence number 0, sealed then signed with one RC4 handle.
    func testSealedMessageExample() throws {
        let flags: NTLMNegotiateFlags = [.seal, .sign, .extendedSessionSecurity, .keyExchange, .key128]
        let client = try NTLMSealer(exportedSessionKey: SpecExample.randomSessionKey, flags: flags, role: .client)
        let (header, payload) = try client.wrap(SpecExample.plaintext)
        XCTAssertEqual(payload.hex, "54e50165bf1936dc996020c1811b0f06fb5f")
        XCTAssertEqual(header.hex, "010000007fb38ec5c55d497600000000")
        XCTAssertEqual(client.outgoingSequenceNumber, 1)

        let server = try NTLMSealer(exportedSessionKey: SpecExample.randomSessionKey, flags: flags, role: .server)
        XCTAssertEqual(try server.unwrap(header: header, payload: payload), SpecExample.plaintext)
    }

    /// Without KEY_EXCH the checksum is not RC4-encrypted (pyspnego test_seal_ntlmv2_no_key_exch).
    func testSealedMessageWithoutKeyExchange() throws {
        let flags: NTLMNegotiateFlags = [.seal, .sign, .extendedSessionSecurity, .key128]
        let client = try NTLMSealer(exportedSessionKey: SpecExample.randomSessionKey, flags: flags, role: .client)
        let (header, payload) = try client.wrap(SpecExample.plaintext)
        XCTAssertEqual(payload.hex, "54e50165bf1936dc996020c1811b0f06fb5f")
        XCTAssertEqual(header.hex, "0100000070352851f256430900000000")
    }

    func testChallengeMessageDecodesAndReencodesBitExact() throws {
        let challenge = try NTLMChallengeMessage.decode(SpecExample.challengeMessage)
        XCTAssertEqual(challenge.flags.rawValue, 0xE28A_8233)
        XCTAssertEqual(challenge.serverChallenge, SpecExample.serverChallenge)
        XCTAssertEqual(challenge.targetName, "Server")
        XCTAssertEqual(challenge.targetInfo?.string(.nbDomainName), "Domain")
        XCTAssertEqual(challenge.targetInfo?.string(.nbComputerName), "Server")
        XCTAssertEqual(challenge.targetInfo?.encoded().hex, SpecExample.targetInfo.hex)
        XCTAssertEqual(challenge.version, NTLMVersion(major: 6, minor: 0, build: 6000, revision: 15))
        XCTAssertEqual(challenge.encoded().hex, SpecExample.challengeMessage.hex)
    }

    func testAuthenticateMessageDecodes() throws {
        let message = try NTLMAuthenticateMessage.decode(SpecExample.authenticateMessage)
        XCTAssertEqual(message.flags.rawValue, 0xE288_8235)
        XCTAssertEqual(message.domain, "Domain")
        XCTAssertEqual(message.user, "User")
        XCTAssertEqual(message.workstation, "COMPUTER")
        XCTAssertEqual(message.version, NTLMVersion(major: 5, minor: 1, build: 2600, revision: 15))
        XCTAssertNil(message.mic, "the §4.2.4.3 example predates the MIC field")
        XCTAssertEqual(message.lmChallengeResponse.hex, "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
        XCTAssertEqual(message.ntChallengeResponse.hex, "68cd0ab851e51c96aabc927bebef6a1c" + SpecExample.clientBlob.hex)
        XCTAssertEqual(message.encryptedRandomSessionKey.hex, "c5dad2544fc9799094ce1ce90bc9d03e")
        XCTAssertEqual(message.encoded().hex, SpecExample.authenticateMessage.hex, "re-encoding keeps the Windows payload order")
    }

    /// The whole client, driven with the example's randomness and clock, must emit the example AUTHENTICATE.
    func testClientContextReproducesSpecAuthenticateMessage() throws {
        let client = NTLMClientContext(credential: NTLMCredential(user: "Domain\\User", password: "Password"),
                                       workstation: SpecExample.workstation)
        var draws: [Data] = [SpecExample.clientChallenge, SpecExample.randomSessionKey]
        client.randomBytes = { count in
            let next = draws.removeFirst()
            XCTAssertEqual(next.count, count)
            return next
        }
        client.now = { FileTime.date(fromFileTime: SpecExample.time) }
        client.announcedVersion = NTLMVersion(major: 5, minor: 1, build: 2600)
        _ = client.negotiateMessage()
        let authenticate = try client.authenticateMessage(challenge: SpecExample.challengeMessage)
        XCTAssertEqual(authenticate.hex, SpecExample.authenticateMessage.hex)

        // And its sealer produces the §4.2.4.4 sealed message.
        let sealer = try XCTUnwrap(client.sealer)
        let (header, payload) = try sealer.wrap(SpecExample.plaintext)
        XCTAssertEqual(payload.hex, "54e50165bf1936dc996020c1811b0f06fb5f")
        XCTAssertEqual(header.hex, "010000007fb38ec5c55d497600000000")
    }

    /// The server, fed the example AUTHENTICATE for its own challenge, authenticates the user and recovers
    /// the exported session key (checked by unsealing the example's sealed message).
    func testServerAcceptsSpecAuthenticateMessage() throws {
        let server = NTLMServerContext(users: [NTLMCredential(user: "Domain\\User", password: "Password")],
                                       netbiosComputer: "SERVER", dnsComputer: "server.domain.test",
                                       serverChallenge: SpecExample.serverChallenge)
        let negotiate = NTLMNegotiateMessage(flags: .clientDefault, version: .winfleetDefault).encoded()
        _ = try server.challengeMessage(negotiate: negotiate)
        let sealer = try server.accept(authenticate: SpecExample.authenticateMessage)
        XCTAssertEqual(server.authenticatedUser, "Domain\\User")
        let plaintext = try sealer.unwrap(header: Data(hex: "010000007fb38ec5c55d497600000000"),
                                          payload: Data(hex: "54e50165bf1936dc996020c1811b0f06fb5f"))
        XCTAssertEqual(plaintext, SpecExample.plaintext)
    }
}
