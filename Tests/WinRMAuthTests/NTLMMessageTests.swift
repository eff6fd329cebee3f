import Foundation
import XCTest
@testable import WinRMAuth

final class NTLMMessageTests: XCTestCase {
    // MARK: Round trips

    func testNegotiateRoundTrip() throws {
        let message = NTLMNegotiateMessage(flags: .clientDefault, version: .winfleetDefault)
        let bytes = message.encoded()
        XCTAssertEqual(bytes.count, 40)
        XCTAssertEqual(Data(bytes.prefix(12)).hex, "4e544c4d5353500001000000")
        XCTAssertEqual(try NTLMNegotiateMessage.decode(bytes), message)
    }

    func testNegotiateFlagsCarryEveryRequiredBit() {
        let flags = NTLMNegotiateFlags.clientDefault
        for required: NTLMNegotiateFlags in [.unicode, .requestTarget, .sign, .seal, .ntlm, .alwaysSign,
                                             .extendedSessionSecurity, .version, .key128, .keyExchange, .key56] {
            XCTAssertTrue(flags.contains(required), "\(required)")
        }
        XCTAssertEqual(flags.rawValue, 0xE208_8235)
    }

    func testChallengeRoundTripWithAllAVPairs() throws {
        var info = NTLMTargetInfo()
        info.setString(.nbDomainName, "WINFLEET")
        info.setString(.nbComputerName, "HOST01")
        info.setString(.dnsComputerName, "host01.fleet.test")
        info.timestamp = 0x01D9_0000_1234_5678
        info.flags = [.micPresent]
        info[.channelBindings] = Data(repeating: 0xCB, count: 16)
        info.setString(.targetName, "HTTP/host01.fleet.test")
        let message = NTLMChallengeMessage(flags: [.unicode, .requestTarget, .targetInfo, .version, .ntlm],
                                           serverChallenge: Data(hex: "1122334455667788"), targetName: "WINFLEET",
                                           targetInfo: info, version: .winfleetDefault)
        let decoded = try NTLMChallengeMessage.decode(message.encoded())
        XCTAssertEqual(decoded, message)
        XCTAssertEqual(decoded.targetInfo?.timestamp, 0x01D9_0000_1234_5678)
        XCTAssertEqual(decoded.targetInfo?.flags, [.micPresent])
        XCTAssertEqual(decoded.targetInfo?.string(.targetName), "HTTP/host01.fleet.test")
        XCTAssertEqual(decoded.targetInfo?[.channelBindings], Data(repeating: 0xCB, count: 16))
    }

    func testAVPairEncodingIsLittleEndianWithEOL() {
        var info = NTLMTargetInfo()
        info.flags = [.micPresent]
        XCTAssertEqual(info.encoded().hex, "06000400" + "02000000" + "00000000")
        info.flags.insert(.accountAuthenticationConstrained)
        XCTAssertEqual(info.encoded().hex, "06000400" + "03000000" + "00000000", "setting flags replaces the pair in place")
    }

    func testAuthenticateRoundTripWithMIC() throws {
        let message = NTLMAuthenticateMessage(
            flags: NTLMNegotiateFlags.clientDefault.union(.targetInfo), lmChallengeResponse: Data(count: 24),
            ntChallengeResponse: Data(repeating: 7, count: 60), domain: "CORP", user: "alice", workstation: "WS1",
            encryptedRandomSessionKey: Data(repeating: 9, count: 16), version: .winfleetDefault,
            mic: Data(repeating: 0xEE, count: 16))
        let bytes = message.encoded()
        XCTAssertEqual(Data(bytes[72..<88]), Data(repeating: 0xEE, count: 16), "MIC sits at offset 72")
        XCTAssertEqual(ByteReader(bytes).uint32(at: 32), 88, "payload starts after the MIC (domain first)")
        XCTAssertEqual(try NTLMAuthenticateMessage.decode(bytes), message)
    }

    func testFileTimeConversion() {
        // pyspnego test_filetime_pack: 1970-01-01T00:00:00Z = 00803ed5deb19d01 (little-endian)
        XCTAssertEqual(FileTime.fileTime(from: Date(timeIntervalSince1970: 0)), 0x019D_B1DE_D53E_8000)
        XCTAssertEqual(FileTime.date(fromFileTime: 0x019D_B1DE_D53E_8000), Date(timeIntervalSince1970: 0))
    }

    // MARK: Malformed CHALLENGE messages name the broken field

    private func challengeBytes() -> [UInt8] { [UInt8](SpecExample.challengeMessage) }

    private func assertMalformed(_ bytes: [UInt8], field: String, detailContains: String,
                                 file: StaticString = #filePath, line: UInt = #line) {
        let client = NTLMClientContext(credential: NTLMCredential(user: "Domain\\User", password: "Password"))
        _ = client.negotiateMessage()
        XCTAssertThrowsError(try client.authenticateMessage(challenge: Data(bytes)), file: file, line: line) { error in
            guard case let .malformed(message, actualField, detail)? = error as? NTLMError else {
                return XCTFail("expected NTLMError.malformed, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(message, "CHALLENGE", file: file, line: line)
            XCTAssertEqual(actualField, field, file: file, line: line)
            XCTAssertTrue(detail.contains(detailContains), "detail: \(detail)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(field), file: file, line: line)
        }
        XCTAssertNil(client.sealer, file: file, line: line)
    }

    func testWrongSignature() {
        var bytes = challengeBytes()
        bytes[0] = UInt8(ascii: "X")
        assertMalformed(bytes, field: "Signature", detailContains: "NTLMSSP")
    }

    func testWrongMessageType() {
        var bytes = challengeBytes()
        bytes[8] = 3
        assertMalformed(bytes, field: "MessageType", detailContains: "expected 2 (CHALLENGE), got 3")
    }

    func testTruncatedHeader() {
        assertMalformed(Array(challengeBytes().prefix(40)), field: "Header", detailContains: "message is 40 bytes")
    }

    func testTargetInfoOffsetBeyondMessage() {
        var bytes = challengeBytes()
        bytes.replaceSubrange(44..<48, with: [0xA0, 0x0F, 0, 0])  // offset 4000
        assertMalformed(bytes, field: "TargetInfoFields",
                        detailContains: "offset 4000 + length 36 beyond message length \(bytes.count)")
    }

    func testTargetInfoLengthBeyondMessage() {
        var bytes = challengeBytes()
        bytes[40] = 0xFF  // Len 0x00FF from offset 0x44
        assertMalformed(bytes, field: "TargetInfoFields", detailContains: "offset 68 + length 255")
    }

    func testTargetNameOffsetBeyondMessage() {
        var bytes = challengeBytes()
        bytes.replaceSubrange(16..<20, with: [0x00, 0x01, 0, 0])
        assertMalformed(bytes, field: "TargetNameFields", detailContains: "offset 256 + length 12")
    }

    func testMissingTargetInfo() {
        var bytes = challengeBytes()
        bytes[22] &= ~0x80  // clear NTLMSSP_NEGOTIATE_TARGET_INFO (0x00800000)
        assertMalformed(bytes, field: "TargetInfoFields", detailContains: "not set")

        var empty = challengeBytes()
        empty[40] = 0  // Len 0
        empty[41] = 0
        assertMalformed(empty, field: "TargetInfoFields", detailContains: "set but empty")
    }

    func testAVPairRunningPastTargetInfo() {
        var bytes = challengeBytes()
        // First AV pair (MsvAvNbDomainName) claims 200 bytes.
        bytes[0x44 + 2] = 200
        assertMalformed(bytes, field: "TargetInfo", detailContains: "length 200")
    }

    func testAVPairListWithoutEOL() {
        var bytes = challengeBytes()
        bytes.removeLast(4)  // drop MsvAvEOL
        bytes[40] = 0x20  // TargetInfo Len 32 (both pairs, no EOL)
        bytes[42] = 0x20
        assertMalformed(bytes, field: "TargetInfo", detailContains: "without MsvAvEOL")
    }

    func testServerRejectsMalformedNegotiate() {
        let server = NTLMServerContext(users: [], netbiosComputer: "H", dnsComputer: "h.test")
        XCTAssertThrowsError(try server.challengeMessage(negotiate: Data("NTLMSSP\0".utf8) + Data([2, 0, 0, 0]) + Data(count: 20)),
                             equals: NTLMError.malformed(message: "NEGOTIATE", field: "MessageType", detail: "expected 1 (NEGOTIATE), got 2"))
    }

    func testServerRejectsAuthenticateWithOutOfRangeField() throws {
        let client = NTLMClientContext(credential: NTLMCredential(user: "alice", password: "pw"))
        let server = NTLMServerContext(users: [NTLMCredential(user: "alice", password: "pw")],
                                       netbiosComputer: "H", dnsComputer: "h.test")
        let challenge = try server.challengeMessage(negotiate: client.negotiateMessage())
        var authenticate = [UInt8](try client.authenticateMessage(challenge: challenge))
        authenticate.replaceSubrange(24..<28, with: [0xFF, 0xFF, 0, 0])  // NtChallengeResponse offset 65535
        XCTAssertThrowsError(try server.accept(authenticate: Data(authenticate))) { error in
            guard case let .malformed(message, field, _)? = error as? NTLMError else { return XCTFail("\(error)") }
            XCTAssertEqual(message, "AUTHENTICATE")
            XCTAssertEqual(field, "NtChallengeResponseFields")
        }
    }
}
