import Foundation
import TestSupport
import XCTest
@testable import WinRMKerberos

/// Client and server contexts against a real MIT KDC started for this class.
final class KerberosHandshakeTests: KDCTestCase {
    private var scratch: URL!

    override class func startRealm() throws -> TestKDC {
        try TestKDC.start(hosts: ["win0001", "win0002"], rc4Hosts: ["legacy01"])
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("krb-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        unsetenv("KRB5CCNAME")
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    private var kdc: TestKDC { realm }

    private func passwordCredential() -> KerberosCredential {
        .password(principal: kdc.user, password: kdc.password)
    }

    private func server(_ host: String = "win0001") throws -> KerberosServerContext {
        try KerberosServerContext(keytab: kdc.keytab, replayCache: "none:")
    }

    // MARK: Handshakes

    func testSPNEGOHandshakeWithPasswordAndMutualAuthentication() throws {
        let client = try KerberosClientContext(targetName: kdc.hostBasedName("win0001"), mechanism: .spnego,
                                               credential: passwordCredential())
        let server = try server()
        let first = try client.step(nil)
        XCTAssertFalse(first.complete, "SPNEGO needs the server's answer")
        let firstToken = try XCTUnwrap(first.token)
        XCTAssertEqual(firstToken.first, 0x60, "SPNEGO initial token is a GSS InitialContextToken")
        let reply = try server.step(firstToken)
        XCTAssertTrue(reply.complete)
        let replyToken = try XCTUnwrap(reply.token, "mutual authentication needs the server's token")
        XCTAssertFalse(client.isComplete)
        let last = try client.step(replyToken)
        XCTAssertTrue(last.complete)
        XCTAssertNil(last.token)

        XCTAssertEqual(client.negotiatedMechanism, "kerberos")
        XCTAssertEqual(server.negotiatedMechanism, "kerberos")
        XCTAssertEqual(server.clientPrincipal, kdc.user)
        XCTAssertEqual(client.clientPrincipal, kdc.user)
        XCTAssertEqual(client.serverPrincipal, kdc.servicePrincipal("win0001"))
        XCTAssertTrue(client.establishedFlags.contains([.mutualAuthentication, .confidentiality, .integrity,
                                                        .replayDetection, .sequenceDetection]),
                      "\(client.establishedFlags)")
        XCTAssertTrue(server.establishedFlags.contains(.mutualAuthentication))
        XCTAssertFalse(server.establishedFlags.contains(.delegation))
    }

    func testRawKerberosHandshakeWithMutualAuthentication() throws {
        let client = try KerberosClientContext(targetName: kdc.servicePrincipal("win0002"), mechanism: .kerberos,
                                               credential: passwordCredential())
        let server = try server()
        let first = try client.step(nil)
        XCTAssertFalse(first.complete, "mutual authentication waits for the AP-REP")
        let reply = try server.step(try XCTUnwrap(first.token))
        XCTAssertTrue(reply.complete)
        XCTAssertTrue(try client.step(try XCTUnwrap(reply.token)).complete)
        XCTAssertEqual(client.negotiatedMechanism, "kerberos")
        XCTAssertEqual(server.negotiatedMechanism, "kerberos")
        XCTAssertEqual(server.clientPrincipal, kdc.user)
        XCTAssertTrue(client.establishedFlags.contains(.mutualAuthentication))
    }

    func testRawKerberosWithoutMutualAuthenticationCompletesAfterOneToken() throws {
        let client = try KerberosClientContext(targetName: kdc.hostBasedName("win0001"), mechanism: .kerberos,
                                               credential: passwordCredential(), mutual: false)
        let server = try server()
        let first = try client.step(nil)
        XCTAssertTrue(first.complete)
        let reply = try server.step(try XCTUnwrap(first.token))
        XCTAssertTrue(reply.complete)
        XCTAssertNil(reply.token, "no AP-REP without mutual authentication")
        XCTAssertFalse(client.establishedFlags.contains(.mutualAuthentication))
        try roundTrip(client: client, server: server, sizes: [1, 500])
    }

    func testDelegationIsGrantedWhenAsked() throws {
        let client = try KerberosClientContext(targetName: kdc.hostBasedName("win0001"), mechanism: .spnego,
                                               credential: passwordCredential(), delegate: true)
        let server = try server()
        try runHandshake(client: client, server: server)
        XCTAssertTrue(server.establishedFlags.contains(.delegation), "\(server.establishedFlags)")
    }

    func testSharedCredentialServesSeveralHosts() throws {
        let credential = try KerberosAcquiredCredential(passwordCredential(), mechanism: .spnego)
        XCTAssertEqual(credential.principal, kdc.user)
        XCTAssertGreaterThan(credential.remainingLifetime, 3600)
        // Each simulated host with its own keytab, in one process.
        for host in ["win0001", "win0002"] {
            let client = try KerberosClientContext(targetName: kdc.hostBasedName(host), credential: credential)
            let server = try KerberosServerContext(keytab: kdc.hostKeytab(host),
                                                   servicePrincipal: kdc.servicePrincipal(host), replayCache: "none:")
            try runHandshake(client: client, server: server)
            XCTAssertEqual(server.clientPrincipal, kdc.user)
            try roundTrip(client: client, server: server, sizes: [64])
        }
    }

    func testServerRestrictedToAnotherPrincipalRejectsTheTicket() throws {
        let client = try KerberosClientContext(targetName: kdc.hostBasedName("win0001"), mechanism: .kerberos,
                                               credential: passwordCredential())
        // win0002's keytab does not hold win0001's key.
        let server = try KerberosServerContext(keytab: kdc.hostKeytab("win0002"), replayCache: "none:")
        let token = try XCTUnwrap(client.step(nil).token)
        assertKerberosError(try server.step(token)) { if case .noServiceKey = $0 { return true }; return false }
    }

    func testMissingKeytabIsNamed() throws {
        let missing = scratch.appendingPathComponent("absent.keytab").path
        let error = assertKerberosError(try KerberosServerContext(keytab: missing)) {
            if case .noServiceKey = $0 { return true }; return false
        }
        XCTAssertTrue(error?.description.contains(missing) ?? false, "\(String(describing: error))")
    }

    func testReplayedAuthenticatorIsRefused() throws {
        let replayCache = "file2:" + scratch.appendingPathComponent("rcache").path
        let client = try KerberosClientContext(targetName: kdc.hostBasedName("win0001"), mechanism: .kerberos,
                                               credential: passwordCredential())
        let token = try XCTUnwrap(client.step(nil).token)
        let first = try KerberosServerContext(keytab: kdc.keytab, replayCache: replayCache)
        XCTAssertTrue(try first.step(token).complete)
        let second = try KerberosServerContext(keytab: kdc.keytab, replayCache: replayCache)
        assertKerberosError(try second.step(token)) { if case .integrity = $0 { return true }; return false }
    }

    // MARK: Message encryption

    func testWrapUnwrapBothDirectionsUnderSPNEGO() throws {
        let (client, server) = try establish(.spnego)
        try roundTrip(client: client, server: server, sizes: [1, 100 * 1024, 0x3FFF, 17])
    }

    func testWrapUnwrapBothDirectionsUnderRawKerberos() throws {
        let (client, server) = try establish(.kerberos)
        try roundTrip(client: client, server: server, sizes: [1, 100 * 1024])
    }

    func testManyMessagesInSequence() throws {
        let (client, server) = try establish(.spnego)
        for index in 0 ..< 200 {
            try roundTrip(client: client, server: server, sizes: [1 + (index * 37) % 3000])
        }
    }

    func testAES256HeaderLayoutMatchesWindows() throws {
        let (client, server) = try establish(.spnego)
        for size in [1, 15, 16, 17, 4096] {
            let plaintext = bytes(size)
            let (header, payload) = try client.wrap(plaintext)
            // RFC 4121 token header 16 + AES confounder 16 + encrypted header copy 16 + HMAC-SHA1-96 12.
            XCTAssertEqual(header.count, 60)
            XCTAssertEqual(payload.count, size, "AES-CTS: no padding")
            XCTAssertEqual(Array(header.prefix(2)), [0x05, 0x04], "RFC 4121 wrap token")
            XCTAssertEqual(header[2] & 0x02, 0x02, "Sealed flag")
            XCTAssertEqual(Array(header[4 ..< 8]), [0x00, 0x00, 0x00, 0x1C], "EC 0, RRC 28: trailer rotated into header")
            XCTAssertNotEqual(payload, plaintext, "payload is encrypted")
            XCTAssertEqual(try server.unwrap(header: header, payload: payload), plaintext)
        }
    }

    /// A legacy host with only an RC4-HMAC key. With mutual authentication MIT (like Windows)
    /// upgrades the context to an AES acceptor subkey through RFC 4537 enctype negotiation,
    /// so the wrap tokens are RFC 4121 anyway; without it the initiator's RC4 subkey stays
    /// and the tokens are RFC 4757: GSS framing, one padding byte after the data.
    func testRC4LegacyHostWrapLayout() throws {
        let upgraded = try KerberosClientContext(targetName: kdc.hostBasedName("legacy01"), mechanism: .kerberos,
                                                 credential: passwordCredential())
        let upgradedServer = try KerberosServerContext(keytab: kdc.hostKeytab("legacy01"), replayCache: "none:")
        try runHandshake(client: upgraded, server: upgradedServer)
        XCTAssertEqual(try upgraded.wrap(Data("a".utf8)).header.count, 60, "mutual: AES subkey negotiated")

        for mechanism in KerberosMechanism.allCases {
            let client = try KerberosClientContext(targetName: kdc.hostBasedName("legacy01"), mechanism: mechanism,
                                                   credential: passwordCredential(), mutual: false)
            let server = try KerberosServerContext(keytab: kdc.hostKeytab("legacy01"), replayCache: "none:")
            try runHandshake(client: client, server: server)
            for size in [1, 15, 16, 1000] {
                let plaintext = bytes(size)
                let (header, payload) = try client.wrap(plaintext)
                XCTAssertEqual(header.first, 0x60, "RFC 1964 framing")
                XCTAssertTrue(GSSAPI.isRFC1964RC4WrapToken(header))
                // 0x60, DER length of the rest, krb5 OID (11), token header 8, SND_SEQ 8,
                // SGN_CKSUM 8, confounder 8; the DER length covers data and padding too.
                let inner = 11 + 32 + size + 1
                let lengthOfLength = inner < 0x80 ? 1 : inner < 0x100 ? 2 : inner < 0x10000 ? 3 : 4
                XCTAssertEqual(header.count, 1 + lengthOfLength + 43, "\(mechanism): RC4 wrap header for \(size) bytes")
                XCTAssertEqual(payload.count, size + 1, "RC4: one padding byte")
                XCTAssertEqual(try server.unwrap(header: header, payload: payload), plaintext)
                let response = bytes(size + 5)
                let back = try server.wrap(response)
                XCTAssertEqual(try client.unwrap(header: back.header, payload: back.payload), response)
            }
            var (header, payload) = try client.wrap(Data("<x/>".utf8))
            payload[0] ^= 0x20
            assertKerberosError(try server.unwrap(header: header, payload: payload)) {
                if case .integrity = $0 { return true }; return false
            }
            (header, payload) = try client.wrap(Data("<y/>".utf8))
            header[header.count - 3] ^= 0x20
            assertKerberosError(try server.unwrap(header: header, payload: payload)) {
                if case .integrity = $0 { return true }; return false
            }
        }
    }

    func testFlippedByteIsAnIntegrityError() throws {
        let (client, server) = try establish(.spnego)
        let plaintext = Data("<s:Envelope>hello</s:Envelope>".utf8)

        var (header, payload) = try client.wrap(plaintext)
        payload[payload.count / 2] ^= 0x01
        assertKerberosError(try server.unwrap(header: header, payload: payload)) {
            if case .integrity = $0 { return true }; return false
        }

        let server2 = try establishFresh()
        (header, payload) = try server2.client.wrap(plaintext)
        header[header.count - 1] ^= 0x80
        assertKerberosError(try server2.server.unwrap(header: header, payload: payload)) {
            if case .integrity = $0 { return true }; return false
        }
    }

    func testReplayedAndReorderedMessagesAreIntegrityErrors() throws {
        let (client, server) = try establish(.kerberos)
        let one = try client.wrap(Data("one".utf8))
        let two = try client.wrap(Data("two".utf8))
        let three = try client.wrap(Data("three".utf8))
        XCTAssertEqual(try server.unwrap(header: one.header, payload: one.payload), Data("one".utf8))
        // Replay of a message already accepted.
        let replay = assertKerberosError(try server.unwrap(header: one.header, payload: one.payload)) {
            if case .integrity = $0 { return true }; return false
        }
        XCTAssertTrue(replay?.description.contains("replay") ?? false, "\(String(describing: replay))")
        // Skipping "two": a gap.
        assertKerberosError(try server.unwrap(header: three.header, payload: three.payload)) {
            if case .integrity = $0 { return true }; return false
        }
        _ = two
    }

    func testWrapBeforeCompletionIsRefused() throws {
        let client = try KerberosClientContext(targetName: kdc.hostBasedName("win0001"), mechanism: .spnego,
                                               credential: passwordCredential())
        _ = try client.step(nil)
        assertKerberosError(try client.wrap(Data("x".utf8))) { if case .other = $0 { return true }; return false }
    }

    // MARK: Ticket caches

    func testTicketCacheFromKinitViaKRB5CCNAME() throws {
        let cache = "FILE:" + scratch.appendingPathComponent("ccache").path
        try kdc.kinit(cache: cache)
        setenv("KRB5CCNAME", cache, 1)
        for mechanism in KerberosMechanism.allCases {
            let client = try KerberosClientContext(targetName: kdc.hostBasedName("win0001"), mechanism: mechanism,
                                                   credential: .defaultCache)
            let server = try server()
            try runHandshake(client: client, server: server)
            XCTAssertEqual(server.clientPrincipal, kdc.user)
            try roundTrip(client: client, server: server, sizes: [10])
        }
    }

    func testNamedTicketCacheWithoutEnvironment() throws {
        let cache = "FILE:" + scratch.appendingPathComponent("named-ccache").path
        try kdc.kinit(cache: cache)
        let client = try KerberosClientContext(targetName: kdc.hostBasedName("win0002"), mechanism: .spnego,
                                               credential: .cache(cache))
        try runHandshake(client: client, server: try server())
        XCTAssertEqual(client.clientPrincipal, kdc.user)
    }

    func testMissingTicketCacheSaysRunKinit() throws {
        setenv("KRB5CCNAME", "FILE:" + scratch.appendingPathComponent("no-such-ccache").path, 1)
        for mechanism in KerberosMechanism.allCases {
            let error = assertKerberosError(
                try KerberosClientContext(targetName: kdc.hostBasedName("win0001"), mechanism: mechanism,
                                          credential: .defaultCache)) { $0 == .noCredentials }
            XCTAssertTrue(error?.description.contains("kinit") ?? false)
        }
    }

    func testExpiredTicket() throws {
        let cache = "FILE:" + scratch.appendingPathComponent("short-ccache").path
        try kdc.kinit(cache: cache, lifetime: "2s")
        // Acquired while valid, used after expiry (a long-lived fleet session)…
        let acquired = try KerberosAcquiredCredential(.cache(cache), mechanism: .kerberos)
        Thread.sleep(forTimeInterval: 3.2)
        let client = try KerberosClientContext(targetName: kdc.hostBasedName("win0002"), credential: acquired)
        assertKerberosError(try client.step(nil)) { $0 == .expiredTicket }
        // …and acquired after expiry.
        for mechanism in KerberosMechanism.allCases {
            let error = assertKerberosError(
                try KerberosClientContext(targetName: kdc.hostBasedName("win0001"), mechanism: mechanism,
                                          credential: .cache(cache))) { $0 == .expiredTicket }
            XCTAssertTrue(error?.description.contains("kinit") ?? false)
        }
    }

    /// The password path must not write a ccache: KRB5CCNAME points at a file that must
    /// stay absent, and the scratch directory stays empty.
    func testPasswordCredentialStaysInMemory() throws {
        let cachePath = scratch.appendingPathComponent("must-not-exist").path
        setenv("KRB5CCNAME", "FILE:" + cachePath, 1)
        let client = try KerberosClientContext(targetName: kdc.hostBasedName("win0001"), mechanism: .spnego,
                                               credential: passwordCredential())
        try runHandshake(client: client, server: try server())
        XCTAssertFalse(FileManager.default.fileExists(atPath: cachePath))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path), [])
        let defaultCache = kdc.directory.appendingPathComponent("default.ccache").path
        XCTAssertFalse(FileManager.default.fileExists(atPath: defaultCache))
    }

    // MARK: Failures with names

    func testWrongPasswordIsPreauthFailed() throws {
        for mechanism in KerberosMechanism.allCases {
            let error = assertKerberosError(
                try KerberosClientContext(targetName: kdc.hostBasedName("win0001"), mechanism: mechanism,
                                          credential: .password(principal: kdc.user, password: "not-the-password"))
            ) { $0 == .preauthFailed }
            XCTAssertFalse(error?.description.contains("not-the-password") ?? true, "password leaked into the error")
        }
    }

    func testUnknownUserIsNamed() throws {
        let error = assertKerberosError(
            try KerberosClientContext(targetName: kdc.hostBasedName("win0001"), mechanism: .spnego,
                                      credential: .password(principal: "nobody", password: "x"))) {
            if case .unknownClientPrincipal = $0 { return true }; return false
        }
        XCTAssertTrue(error?.description.contains("nobody@\(kdc.realm)") ?? false, "\(String(describing: error))")
    }

    func testUnknownServicePrincipalNamesTheSPN() throws {
        for mechanism in KerberosMechanism.allCases {
            let client = try KerberosClientContext(targetName: kdc.hostBasedName("win9999"), mechanism: mechanism,
                                                   credential: passwordCredential())
            let error = assertKerberosError(try client.step(nil)) {
                $0 == .unknownServerPrincipal(spn: "HTTP/win9999.\(self.kdc.domain)@\(self.kdc.realm)")
            }
            XCTAssertTrue(error?.description.contains("HTTP/win9999.\(kdc.domain)@\(kdc.realm)") ?? false)
        }
    }

    /// The numeric krb5 codes we map on must be the ones the library describes that way.
    /// gss_display_status only describes codes it has seen, so the com_err table is asked
    /// directly (error_message from libcom_err, loaded with libkrb5).
    func testMinorStatusValuesMatchTheLibrary() throws {
        typealias ErrorMessage = @convention(c) (Int) -> UnsafePointer<CChar>?
        let process = dlopen(nil, RTLD_NOW)
        let symbol = try XCTUnwrap(dlsym(process, "error_message"), "libcom_err's error_message not loaded")
        let errorMessage = unsafeBitCast(symbol, to: ErrorMessage.self)
        let expectations: [(Int32, String)] = [
            (KerberosMinorStatus.clockSkew, "Clock skew too great"),
            (KerberosMinorStatus.kdcReplySkew, "Clock skew too great in KDC reply"),
            (KerberosMinorStatus.serverPrincipalUnknown, "Server not found in Kerberos database"),
            (KerberosMinorStatus.clientPrincipalUnknown, "Client not found in Kerberos database"),
            (KerberosMinorStatus.preauthFailed, "Preauthentication failed"),
            (KerberosMinorStatus.badIntegrity, "Decrypt integrity check failed"),
            (KerberosMinorStatus.ticketExpired, "Ticket expired"),
            (KerberosMinorStatus.ticketNotYetValid, "Ticket not yet valid"),
            (KerberosMinorStatus.replay, "Request is a replay"),
            (KerberosMinorStatus.modified, "Message stream modified"),
            (KerberosMinorStatus.badKeyVersion, "Key version is not available"),
            (KerberosMinorStatus.noKey, "Service key not available"),
            (KerberosMinorStatus.ticketNotForUs, "The ticket isn't for us"),
            (KerberosMinorStatus.kdcUnreachable, "Cannot contact any KDC"),
            (KerberosMinorStatus.realmUnknown, "Cannot find KDC for requested realm"),
            (KerberosMinorStatus.realmCannotResolve, "Cannot resolve network address for KDC"),
            (KerberosMinorStatus.keytabEntryNotFound, "Key table entry not found"),
            (KerberosMinorStatus.cacheFileMissing, "No credentials cache found"),
            (KerberosMinorStatus.cacheNotFound, "Matching credential not found"),
            (KerberosMinorStatus.wrongPrincipal, "Wrong principal in request"),
            (KerberosMinorStatus.principalExpired, "Client's entry in database has expired"),
            (KerberosMinorStatus.keyExpired, "Password has expired"),
        ]
        XCTAssertEqual(Set(expectations.map(\.0)), Set(KerberosMinorStatus.all), "every mapped code is checked")
        for (code, text) in expectations {
            let message = errorMessage(Int(code)).map { String(cString: $0) } ?? ""
            XCTAssertTrue(message.hasPrefix(text), "code \(code): expected “\(text)”, library says “\(message)”")
        }
    }

    // MARK: Helpers

    private func establish(_ mechanism: KerberosMechanism) throws -> (KerberosClientContext, KerberosServerContext) {
        let client = try KerberosClientContext(targetName: kdc.hostBasedName("win0001"), mechanism: mechanism,
                                               credential: passwordCredential())
        let server = try server()
        try runHandshake(client: client, server: server)
        XCTAssertTrue(client.isComplete && server.isComplete)
        return (client, server)
    }

    private func establishFresh() throws -> (client: KerberosClientContext, server: KerberosServerContext) {
        let pair = try establish(.spnego)
        return (pair.0, pair.1)
    }

    private func roundTrip(client: KerberosClientContext, server: KerberosServerContext, sizes: [Int],
                           file: StaticString = #filePath, line: UInt = #line) throws {
        for size in sizes {
            let request = bytes(size, seed: UInt8(truncatingIfNeeded: size))
            let wrapped = try client.wrap(request)
            XCTAssertEqual(try server.unwrap(header: wrapped.header, payload: wrapped.payload), request,
                           "client→server \(size) bytes", file: file, line: line)
            let response = bytes(size + 3, seed: UInt8(truncatingIfNeeded: size &+ 1))
            let back = try server.wrap(response)
            XCTAssertEqual(try client.unwrap(header: back.header, payload: back.payload), response,
                           "server→client \(size + 3) bytes", file: file, line: line)
        }
    }
}

final class KerberosCredentialTextTests: XCTestCase {
    func testPasswordNeverPrinted() {
        let credential = KerberosCredential.password(principal: "operator@WINFLEET.TEST", password: "s3cret-Pa55")
        var dumped = ""
        dump(credential, to: &dumped)
        for text in ["\(credential)", String(reflecting: credential), dumped] {
            XCTAssertFalse(text.contains("s3cret-Pa55"), text)
            XCTAssertTrue(text.contains("operator@WINFLEET.TEST"), text)
        }
    }
}
