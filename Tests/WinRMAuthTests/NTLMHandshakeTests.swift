import Foundation
import XCTest
@testable import WinRMAuth

final class NTLMHandshakeTests: XCTestCase {
    static let fixedNow = Date(timeIntervalSince1970: 1_780_000_000)

    struct Handshake {
        var client: NTLMClientContext
        var server: NTLMServerContext
        var negotiate: Data
        var challenge: Data
        var authenticate: Data
    }

    /// Runs NEGOTIATE → CHALLENGE → AUTHENTICATE without accepting, so tests can tamper with the last leg.
    func handshake(clientUser: String = "CORP\\alice", clientPassword: String = "S3cret-pässword",
                   serverUsers: [NTLMCredential] = [NTLMCredential(user: "CORP\\alice", password: "S3cret-pässword")],
                   clientBindings: Data? = nil, serverBindings: Data? = nil) throws -> Handshake {
        let client = NTLMClientContext(credential: NTLMCredential(user: clientUser, password: clientPassword),
                                       workstation: "FLEETWS", channelBindings: clientBindings,
                                       servicePrincipalName: "HTTP/host01.fleet.test")
        let server = NTLMServerContext(users: serverUsers, netbiosComputer: "HOST01", dnsComputer: "host01.fleet.test",
                                       now: { Self.fixedNow }, expectedChannelBindings: serverBindings)
        let negotiate = client.negotiateMessage()
        let challenge = try server.challengeMessage(negotiate: negotiate)
        let authenticate = try client.authenticateMessage(challenge: challenge)
        return Handshake(client: client, server: server, negotiate: negotiate, challenge: challenge, authenticate: authenticate)
    }

    func testRoundTripAndFiveMessagesEachWay() throws {
        let run = try handshake()
        let serverSealer = try run.server.accept(authenticate: run.authenticate)
        let clientSealer = try XCTUnwrap(run.client.sealer)
        XCTAssertEqual(run.server.authenticatedUser, "CORP\\alice")
        XCTAssertEqual(run.client.negotiatedFlags, run.server.negotiatedFlags)
        XCTAssertTrue(try XCTUnwrap(run.client.negotiatedFlags).isSuperset(of: [.seal, .sign, .extendedSessionSecurity, .keyExchange, .key128]))

        for index in 0..<5 {
            let request = Data("<s:Envelope>request \(index) \(String(repeating: "x", count: index * 300))</s:Envelope>".utf8)
            let (requestHeader, requestPayload) = try clientSealer.wrap(request)
            XCTAssertEqual(requestHeader.count, 16)
            XCTAssertNotEqual(requestPayload, request, "payload is encrypted")
            XCTAssertEqual(try serverSealer.unwrap(header: requestHeader, payload: requestPayload), request)

            let response = Data("<s:Envelope>response \(index)</s:Envelope>".utf8)
            let (responseHeader, responsePayload) = try serverSealer.wrap(response)
            XCTAssertEqual(try clientSealer.unwrap(header: responseHeader, payload: responsePayload), response)
        }
        XCTAssertEqual(clientSealer.outgoingSequenceNumber, 5)
        XCTAssertEqual(clientSealer.incomingSequenceNumber, 5)
        XCTAssertEqual(serverSealer.outgoingSequenceNumber, 5)
        XCTAssertEqual(serverSealer.incomingSequenceNumber, 5)
    }

    func testSignAndVerifyWithoutSealing() throws {
        let run = try handshake()
        let serverSealer = try run.server.accept(authenticate: run.authenticate)
        let clientSealer = try XCTUnwrap(run.client.sealer)
        let message = Data("integrity only".utf8)
        let signature = try clientSealer.sign(message)
        XCTAssertNoThrow(try serverSealer.verify(message, signature: signature))
        // The next sealed message still lines up: sign() advanced the same RC4 stream and sequence on both sides.
        let (header, payload) = try clientSealer.wrap(Data("after sign".utf8))
        XCTAssertEqual(try serverSealer.unwrap(header: header, payload: payload), Data("after sign".utf8))
    }

    func testAuthenticateUsesServerTimestampMICAndZeroLMResponse() throws {
        let run = try handshake()
        let message = try NTLMAuthenticateMessage.decode(run.authenticate)
        XCTAssertEqual(message.lmChallengeResponse, Data(count: 24), "Z(24) when a MIC is sent")
        XCTAssertNotNil(message.mic)
        XCTAssertEqual(message.user, "alice")
        XCTAssertEqual(message.domain, "CORP")
        XCTAssertEqual(message.workstation, "FLEETWS")
        let blob = message.ntChallengeResponse.dropFirst(16)
        XCTAssertEqual(ByteReader(Data(blob)).uint64(at: 8), FileTime.fileTime(from: Self.fixedNow),
                       "blob timestamp is the CHALLENGE's MsvAvTimestamp")
        let pairs = try NTLMTargetInfo.decode(Data(blob.dropFirst(28)), message: "test", field: "blob")
        XCTAssertTrue(pairs.flags.contains(.micPresent))
        XCTAssertEqual(pairs.string(.targetName), "HTTP/host01.fleet.test")
        XCTAssertEqual(pairs.string(.nbComputerName), "HOST01")
        XCTAssertNil(pairs[.channelBindings], "no bindings requested")
    }

    func testWrongPasswordIsAuthenticationFailedWithoutLeakingThePassword() throws {
        let run = try handshake(clientPassword: "not-the-password")
        XCTAssertThrowsError(try run.server.accept(authenticate: run.authenticate),
                             equals: NTLMError.authenticationFailed(user: "CORP\\alice"))
        XCTAssertNil(run.server.authenticatedUser)
        do {
            _ = try run.server.accept(authenticate: run.authenticate)
        } catch {
            XCTAssertFalse("\(error)".contains("not-the-password"))
            XCTAssertFalse("\(error)".contains("S3cret"))
        }
    }

    func testUnknownUserIsAuthenticationFailed() throws {
        let run = try handshake(clientUser: "CORP\\mallory")
        XCTAssertThrowsError(try run.server.accept(authenticate: run.authenticate),
                             equals: NTLMError.authenticationFailed(user: "CORP\\mallory"))
    }

    func testUserMatchingIgnoresCaseAndDomainlessServerCredential() throws {
        let run = try handshake(clientUser: "corp\\ALICE", serverUsers: [NTLMCredential(user: "alice", password: "S3cret-pässword")])
        XCTAssertNoThrow(try run.server.accept(authenticate: run.authenticate))
        XCTAssertEqual(run.server.authenticatedUser, "alice")
    }

    func testUPNLogon() throws {
        let credential = NTLMCredential(user: "alice@corp.example", password: "S3cret-pässword")
        let run = try handshake(clientUser: "alice@corp.example", serverUsers: [credential])
        let message = try NTLMAuthenticateMessage.decode(run.authenticate)
        XCTAssertEqual(message.user, "alice@corp.example")
        XCTAssertEqual(message.domain, "")
        XCTAssertNoThrow(try run.server.accept(authenticate: run.authenticate))
    }

    func testTamperedMICIsRejected() throws {
        let run = try handshake()
        var tampered = run.authenticate
        tampered[NTLMAuthenticateMessage.micOffset] ^= 0x01
        XCTAssertThrowsError(try run.server.accept(authenticate: tampered), equals: NTLMError.micMismatch)
    }

    func testAlteredMessageCoveredOnlyByMICIsRejected() throws {
        // The workstation name is not part of NTProofStr; only the MIC protects it.
        let run = try handshake()
        let message = try NTLMAuthenticateMessage.decode(run.authenticate)
        let workstationOffset = Int(ByteReader(run.authenticate).uint32(at: 48)!)
        var tampered = run.authenticate
        tampered[workstationOffset] ^= 0x20  // "FLEETWS" → "fLEETWS"
        XCTAssertEqual(try NTLMAuthenticateMessage.decode(tampered).workstation, "f" + message.workstation.dropFirst())
        XCTAssertThrowsError(try run.server.accept(authenticate: tampered), equals: NTLMError.micMismatch)
    }

    func testStrippedMICIsRejected() throws {
        // A MIC-flagged blob with the MIC zeroed out must not pass.
        let run = try handshake()
        var tampered = run.authenticate
        tampered.replaceSubrange(72..<88, with: Data(count: 16))
        XCTAssertThrowsError(try run.server.accept(authenticate: tampered), equals: NTLMError.micMismatch)
    }

    func testChannelBindingsMatch() throws {
        let bindings = ChannelBindings.tlsServerEndPoint(certificateDER: Data("fake cert".utf8), hash: .sha256)
        let run = try handshake(clientBindings: bindings, serverBindings: bindings)
        let blob = try NTLMAuthenticateMessage.decode(run.authenticate).ntChallengeResponse.dropFirst(16 + 28)
        XCTAssertEqual(try NTLMTargetInfo.decode(Data(blob), message: "t", field: "b")[.channelBindings],
                       NTLMCrypto.md5(ChannelBindings.gssChannelBindingsStruct(applicationData: bindings)))
        XCTAssertNoThrow(try run.server.accept(authenticate: run.authenticate))
    }

    func testChannelBindingsMismatch() throws {
        let serverSide = ChannelBindings.tlsServerEndPoint(certificateDER: Data("real cert".utf8), hash: .sha256)
        let proxySide = ChannelBindings.tlsServerEndPoint(certificateDER: Data("intercepting proxy cert".utf8), hash: .sha256)
        let run = try handshake(clientBindings: proxySide, serverBindings: serverSide)
        XCTAssertThrowsError(try run.server.accept(authenticate: run.authenticate), equals: NTLMError.channelBindingMismatch)
    }

    func testMissingChannelBindingsWhenRequired() throws {
        let serverSide = ChannelBindings.tlsServerEndPoint(certificateDER: Data("real cert".utf8), hash: .sha256)
        let run = try handshake(clientBindings: nil, serverBindings: serverSide)
        XCTAssertThrowsError(try run.server.accept(authenticate: run.authenticate), equals: NTLMError.channelBindingMismatch)
    }

    func testClientBindingsAcceptedWhenServerDoesNotCheck() throws {
        let bindings = ChannelBindings.tlsServerEndPoint(certificateDER: Data("cert".utf8), hash: .sha256)
        let run = try handshake(clientBindings: bindings, serverBindings: nil)
        XCTAssertNoThrow(try run.server.accept(authenticate: run.authenticate))
    }

    // MARK: Sealed message tampering

    func testFlippedPayloadByteIsIntegrityErrorAndContextStaysDead() throws {
        let run = try handshake()
        let serverSealer = try run.server.accept(authenticate: run.authenticate)
        let clientSealer = try XCTUnwrap(run.client.sealer)
        let (header, payload) = try clientSealer.wrap(Data("Get-Service".utf8))
        var flipped = payload
        flipped[flipped.startIndex + 3] ^= 0x80
        XCTAssertThrowsError(try serverSealer.unwrap(header: header, payload: flipped)) { error in
            guard case let .integrity(detail)? = error as? NTLMError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("bad checksum"), detail)
        }
        // The RC4 stream is now out of step; the sealer refuses further use instead of producing garbage.
        let (nextHeader, nextPayload) = try clientSealer.wrap(Data("next".utf8))
        XCTAssertThrowsError(try serverSealer.unwrap(header: nextHeader, payload: nextPayload)) { error in
            guard case let .integrity(detail)? = error as? NTLMError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("re-authenticate"), detail)
        }
    }

    func testFlippedHeaderByteIsIntegrityError() throws {
        let run = try handshake()
        let serverSealer = try run.server.accept(authenticate: run.authenticate)
        let (header, payload) = try XCTUnwrap(run.client.sealer).wrap(Data("Get-Process".utf8))
        var flipped = header
        flipped[flipped.startIndex + 6] ^= 0x01
        XCTAssertThrowsError(try serverSealer.unwrap(header: flipped, payload: payload)) { error in
            guard case .integrity? = error as? NTLMError else { return XCTFail("\(error)") }
        }
    }

    func testReorderedMessagesAreRejected() throws {
        let run = try handshake()
        let serverSealer = try run.server.accept(authenticate: run.authenticate)
        let clientSealer = try XCTUnwrap(run.client.sealer)
        _ = try clientSealer.wrap(Data("first".utf8))
        let (secondHeader, secondPayload) = try clientSealer.wrap(Data("second".utf8))
        XCTAssertThrowsError(try serverSealer.unwrap(header: secondHeader, payload: secondPayload)) { error in
            guard case let .integrity(detail)? = error as? NTLMError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("sequence number 1, expected 0"), detail)
        }
    }

    func testShortHeaderIsIntegrityError() throws {
        let run = try handshake()
        let serverSealer = try run.server.accept(authenticate: run.authenticate)
        XCTAssertThrowsError(try serverSealer.unwrap(header: Data(count: 8), payload: Data("x".utf8))) { error in
            guard case let .integrity(detail)? = error as? NTLMError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("16 bytes, got 8"), detail)
        }
    }

    // MARK: Ordering

    func testOutOfOrderCalls() throws {
        let client = NTLMClientContext(credential: NTLMCredential(user: "alice", password: "pw"))
        XCTAssertThrowsError(try client.authenticateMessage(challenge: SpecExample.challengeMessage)) { error in
            guard case .invalidState? = error as? NTLMError else { return XCTFail("\(error)") }
        }
        let server = NTLMServerContext(users: [], netbiosComputer: "H", dnsComputer: "h.test")
        XCTAssertThrowsError(try server.accept(authenticate: SpecExample.authenticateMessage)) { error in
            guard case .invalidState? = error as? NTLMError else { return XCTFail("\(error)") }
        }
        let run = try handshake()
        XCTAssertThrowsError(try run.client.authenticateMessage(challenge: run.challenge)) { error in
            guard case .invalidState? = error as? NTLMError else { return XCTFail("\(error)") }
        }
        _ = try run.server.accept(authenticate: run.authenticate)
        XCTAssertThrowsError(try run.server.accept(authenticate: run.authenticate)) { error in
            guard case .invalidState? = error as? NTLMError else { return XCTFail("\(error)") }
        }
    }

    func testClientRefusesServerWithoutExtendedSessionSecurity() throws {
        var challenge = try NTLMChallengeMessage.decode(SpecExample.challengeMessage)
        challenge.flags.remove(.extendedSessionSecurity)
        let client = NTLMClientContext(credential: NTLMCredential(user: "alice", password: "pw"))
        _ = client.negotiateMessage()
        XCTAssertThrowsError(try client.authenticateMessage(challenge: challenge.encoded())) { error in
            guard case let .unsupported(detail)? = error as? NTLMError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("EXTENDED_SESSIONSECURITY"))
        }
    }

    func testClientWithoutServerTimestampSendsLMv2AndNoMIC() throws {
        // The §4.2.4 CHALLENGE has no MsvAvTimestamp: the client must use its own clock and skip the MIC.
        let client = NTLMClientContext(credential: NTLMCredential(user: "Domain\\User", password: "Password"))
        client.randomBytes = { Data(repeating: 0xAA, count: $0) }
        client.now = { Self.fixedNow }
        _ = client.negotiateMessage()
        let message = try NTLMAuthenticateMessage.decode(client.authenticateMessage(challenge: SpecExample.challengeMessage))
        XCTAssertNil(message.mic)
        XCTAssertEqual(message.lmChallengeResponse.hex, "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
        XCTAssertEqual(ByteReader(message.ntChallengeResponse).uint64(at: 16 + 8), FileTime.fileTime(from: Self.fixedNow))
    }
}
