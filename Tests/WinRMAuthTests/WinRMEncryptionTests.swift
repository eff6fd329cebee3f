import Foundation
import XCTest
@testable import WinRMAuth

final class WinRMEncryptionTests: XCTestCase {
    /// A connected client/server sealer pair from a real handshake.
    func sealers() throws -> (client: NTLMSealer, server: NTLMSealer) {
        let client = NTLMClientContext(credential: NTLMCredential(user: "CORP\\alice", password: "pw"))
        let server = NTLMServerContext(users: [NTLMCredential(user: "CORP\\alice", password: "pw")],
                                       netbiosComputer: "HOST01", dnsComputer: "host01.fleet.test")
        let challenge = try server.challengeMessage(negotiate: client.negotiateMessage())
        let serverSealer = try server.accept(authenticate: client.authenticateMessage(challenge: challenge))
        return (try XCTUnwrap(client.sealer), serverSealer)
    }

    func testContentType() {
        XCTAssertEqual(WinRMEncryption.contentType(protocol: WinRMEncryption.spnegoProtocol),
                       "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-encrypted\";boundary=\"Encrypted Boundary\"")
        XCTAssertEqual(WinRMEncryption.contentType(protocol: WinRMEncryption.kerberosProtocol),
                       "multipart/encrypted;protocol=\"application/HTTP-Kerberos-session-encrypted\";boundary=\"Encrypted Boundary\"")
        XCTAssertTrue(WinRMEncryption.isEncrypted(contentType: WinRMEncryption.contentType(protocol: WinRMEncryption.spnegoProtocol)))
        XCTAssertFalse(WinRMEncryption.isEncrypted(contentType: "application/soap+xml;charset=UTF-8"))
        XCTAssertFalse(WinRMEncryption.isEncrypted(contentType: nil))
    }

    /// Exact bytes with the MS-NLMP §4.2.4.4 sealer, so header and payload are known values.
    func testExactFramingBytes() throws {
        let sealer = try NTLMSealer(exportedSessionKey: SpecExample.randomSessionKey,
                                    flags: [.seal, .sign, .extendedSessionSecurity, .keyExchange, .key128], role: .client)
        let body = try WinRMEncryption.encode(SpecExample.plaintext, protocol: WinRMEncryption.spnegoProtocol, sealer: sealer)
        var expected = Data()
        expected.append(contentsOf: Array((
            "--Encrypted Boundary\r\n"
            + "\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
            + "\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=18\r\n"
            + "--Encrypted Boundary\r\n"
            + "\tContent-Type: application/octet-stream\r\n").utf8))
        expected.append(Data(hex: "10000000"))                                   // header length 16, little-endian
        expected.append(Data(hex: "010000007fb38ec5c55d497600000000"))           // NTLMSSP_MESSAGE_SIGNATURE
        expected.append(Data(hex: "54e50165bf1936dc996020c1811b0f06fb5f"))       // sealed "Plaintext"
        expected.append(contentsOf: Array("--Encrypted Boundary--\r\n".utf8))
        XCTAssertEqual(body.hex, expected.hex)
        XCTAssertEqual(String(decoding: body.prefix(22), as: UTF8.self), "--Encrypted Boundary\r\n")

        let server = try NTLMSealer(exportedSessionKey: SpecExample.randomSessionKey,
                                    flags: [.seal, .sign, .extendedSessionSecurity, .keyExchange, .key128], role: .server)
        XCTAssertEqual(try WinRMEncryption.decode(body, contentType: WinRMEncryption.contentType(protocol: WinRMEncryption.spnegoProtocol),
                                                  sealer: server), SpecExample.plaintext)
    }

    func testRoundTripBothDirectionsWithUTF16Charset() throws {
        let (client, server) = try sealers()
        for index in 0..<3 {
            let request = Data("<s:Envelope>\(index) \(String(repeating: "é", count: 1000 * index))</s:Envelope>".utf8)
            let body = try WinRMEncryption.encode(request, protocol: WinRMEncryption.spnegoProtocol, sealer: client)
            XCTAssertEqual(try WinRMEncryption.decode(body, contentType: nil, sealer: server), request)

            let response = Data("<s:Envelope>reply \(index)</s:Envelope>".utf16.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8($0 >> 8)] })
            let reply = try WinRMEncryption.encode(response, protocol: WinRMEncryption.spnegoProtocol, sealer: server, charset: "UTF-16")
            XCTAssertTrue(String(decoding: reply.prefix(200), as: UTF8.self).contains("charset=UTF-16;Length=\(response.count)\r\n"))
            XCTAssertEqual(try WinRMEncryption.decode(reply, contentType: WinRMEncryption.contentType(protocol: WinRMEncryption.spnegoProtocol),
                                                      sealer: client), response)
        }
    }

    func testToleratesExchangeStyleBoundaryWithSpace() throws {
        let (client, server) = try sealers()
        let request = Data("<s:Envelope/>".utf8)
        let body = try WinRMEncryption.encode(request, protocol: WinRMEncryption.spnegoProtocol, sealer: client)
        let exchangeStyle = body.replacing(Data("--Encrypted Boundary".utf8), with: Data("-- Encrypted Boundary".utf8))
        XCTAssertNotEqual(exchangeStyle, body)
        XCTAssertEqual(try WinRMEncryption.decode(exchangeStyle, contentType: nil, sealer: server), request)
    }

    func testLengthMismatchIsIntegrityError() throws {
        let (client, server) = try sealers()
        let body = try WinRMEncryption.encode(Data("<s:Envelope/>".utf8), protocol: WinRMEncryption.spnegoProtocol, sealer: client)
        let wrongLength = body.replacing(Data("Length=13".utf8), with: Data("Length=14".utf8))
        XCTAssertNotEqual(wrongLength, body)
        XCTAssertThrowsError(try WinRMEncryption.decode(wrongLength, contentType: nil, sealer: server)) { error in
            guard case let .integrity(detail)? = error as? WinRMEncryptionError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("decrypted 13 bytes but OriginalContent says Length=14"), detail)
        }
    }

    func testTamperedEncryptedBodyIsNTLMIntegrityError() throws {
        let (client, server) = try sealers()
        var body = try WinRMEncryption.encode(Data("<s:Envelope/>".utf8), protocol: WinRMEncryption.spnegoProtocol, sealer: client)
        let payloadIndex = body.count - "--Encrypted Boundary--\r\n".utf8.count - 2
        body[payloadIndex] ^= 0x01
        XCTAssertThrowsError(try WinRMEncryption.decode(body, contentType: nil, sealer: server)) { error in
            guard case .integrity? = error as? NTLMError else { return XCTFail("\(error)") }
        }
    }

    func testStructuralErrorsNameTheProblem() throws {
        let (_, server) = try sealers()
        XCTAssertThrowsError(try WinRMEncryption.decode(Data("<s:Envelope/>".utf8), contentType: "application/soap+xml;charset=UTF-8", sealer: server),
                             equals: WinRMEncryptionError.notEncrypted(contentType: "application/soap+xml;charset=UTF-8"))
        XCTAssertThrowsError(try WinRMEncryption.decode(Data("no boundary here".utf8), contentType: nil, sealer: server)) { error in
            guard case .missingBoundary? = error as? WinRMEncryptionError else { return XCTFail("\(error)") }
        }
        let noLength = Data(("--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
            + "\tOriginalContent: type=application/soap+xml;charset=UTF-8\r\n--Encrypted Boundary\r\n"
            + "\tContent-Type: application/octet-stream\r\n\u{10}\0\0\0--Encrypted Boundary--\r\n").utf8)
        XCTAssertThrowsError(try WinRMEncryption.decode(noLength, contentType: nil, sealer: server)) { error in
            guard case .missingLength? = error as? WinRMEncryptionError else { return XCTFail("\(error)") }
        }
        let badPrefix = Data(("--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
            + "\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=4\r\n--Encrypted Boundary\r\n"
            + "\tContent-Type: application/octet-stream\r\n").utf8) + Data([0xFF, 0, 0, 0]) + Data("abcd--Encrypted Boundary--\r\n".utf8)
        XCTAssertThrowsError(try WinRMEncryption.decode(badPrefix, contentType: nil, sealer: server)) { error in
            guard case let .badLengthPrefix(detail)? = error as? WinRMEncryptionError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("security header length 255"), detail)
        }
        let noClosing = Data(("--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
            + "\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=4\r\n--Encrypted Boundary\r\n"
            + "\tContent-Type: application/octet-stream\r\n").utf8) + Data([16, 0, 0, 0]) + Data(count: 20)
        XCTAssertThrowsError(try WinRMEncryption.decode(noClosing, contentType: nil, sealer: server)) { error in
            guard case let .missingBoundary(detail)? = error as? WinRMEncryptionError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("after the encrypted payload"), detail)
        }
    }

    func testMultiplePartsAreConcatenated() throws {
        let (client, server) = try sealers()
        let first = try WinRMEncryption.encode(Data("part one;".utf8), protocol: WinRMEncryption.spnegoProtocol, sealer: client)
        let second = try WinRMEncryption.encode(Data("part two".utf8), protocol: WinRMEncryption.spnegoProtocol, sealer: client)
        // Drop the first body's closing delimiter so both parts share one body.
        let closing = Data("--Encrypted Boundary--\r\n".utf8)
        let combined = first.prefix(first.count - closing.count) + second
        XCTAssertEqual(try WinRMEncryption.decode(combined, contentType: "multipart/x-multi-encrypted;protocol=\"x\";boundary=\"Encrypted Boundary\"",
                                                  sealer: server), Data("part one;part two".utf8))
    }
}
