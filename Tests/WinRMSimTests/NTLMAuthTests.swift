import Foundation
import XCTest
import WSMan
import WinRMAuth
@testable import WinRMSim

final class NTLMAuthTests: XCTestCase {
    let user = SimulatorConfig.demoUser

    private func connect(_ fleet: SimulatedFleet, https: Bool = false) throws -> RawHTTPConnection {
        let host = fleet.hosts[0]
        return try RawHTTPConnection(host: host.address, port: host.port, tls: https, trustPEM: fleet.certificatePEM)
    }

    func testHandshakeThenSealedCommands() throws {
        let fleet = try TestFleet.start { $0.auth = .ntlm }
        defer { fleet.shutdown() }
        let connection = try connect(fleet)
        let unauthenticated = try connection.post()
        XCTAssertEqual(unauthenticated.status, 401)
        XCTAssertEqual(unauthenticated.headers("WWW-Authenticate"), ["Negotiate"])

        let client = WinRSTestClient(connection: connection, https: false)
        let final = try client.authenticateNTLM(user: user.user, password: user.password)
        XCTAssertEqual(final.status, 200)
        XCTAssertEqual(final.body, Data())

        let shell = try client.createShell()
        let result = try client.run(shellID: shell.shellID, "cmd.exe", arguments: ["/c", "hostname"])
        XCTAssertEqual(result.stdoutText, "WIN0001\r\n")
        let whoami = try client.run(shellID: shell.shellID, "whoami")
        XCTAssertEqual(whoami.stdoutText, "winfleet\\operator\r\n")
        try client.deleteShell(shell.shellID)

        let counters = fleet.counters
        XCTAssertEqual(counters.authenticationsCompleted, 1, "one handshake serves the whole connection")
        XCTAssertEqual(counters.authenticationsPerConnection, [1: 1])
        XCTAssertEqual(counters.authenticationsPerHost["WIN0001"], 1)
        XCTAssertEqual(counters.plainBodyRefusals, 0)
    }

    func testRawNTLMSchemeIsAcceptedToo() throws {
        let fleet = try TestFleet.start { $0.auth = .ntlm }
        defer { fleet.shutdown() }
        let client = WinRSTestClient(connection: try connect(fleet), https: false)
        XCTAssertEqual(try client.authenticateNTLM(user: user.user, password: user.password, scheme: "NTLM").status, 200)
        XCTAssertNoThrow(try client.createShell())
    }

    func testWrongPasswordGets401() throws {
        let fleet = try TestFleet.start { $0.auth = .ntlm }
        defer { fleet.shutdown() }
        let client = WinRSTestClient(connection: try connect(fleet), https: false)
        let response = try client.authenticateNTLM(user: user.user, password: "wrong")
        XCTAssertEqual(response.status, 401)
        XCTAssertEqual(fleet.counters.authenticationFailures, 1)
        XCTAssertEqual(fleet.counters.authenticationsCompleted, 0)
    }

    func testAuthenticateOnAnotherConnectionIsRefused() throws {
        let fleet = try TestFleet.start { $0.auth = .ntlm }
        defer { fleet.shutdown() }
        let first = try connect(fleet)
        let second = try connect(fleet)
        let context = NTLMClientContext(credential: NTLMCredential(user: user.user, password: user.password))
        let challengeResponse = try first.post(headers: [("Authorization", "Negotiate " + context.negotiateMessage().base64EncodedString())])
        XCTAssertEqual(challengeResponse.status, 401)
        let header = try XCTUnwrap(challengeResponse.headers("WWW-Authenticate").first { $0.hasPrefix("Negotiate ") })
        let challenge = try XCTUnwrap(Data(base64Encoded: String(header.dropFirst("Negotiate ".count))))
        let authenticate = try context.authenticateMessage(challenge: challenge)
        // A proxy without connection affinity sends the AUTHENTICATE on another upstream connection.
        let response = try second.post(headers: [("Authorization", "Negotiate " + authenticate.base64EncodedString())])
        XCTAssertEqual(response.status, 401)
        XCTAssertEqual(response.headers("WWW-Authenticate"), ["Negotiate"])
        XCTAssertEqual(fleet.counters.authenticationsCompleted, 0)
        XCTAssertEqual(fleet.counters.authenticationFailures, 1)
    }

    func testNewConnectionMustAuthenticateAgain() throws {
        let fleet = try TestFleet.start { $0.auth = .ntlm }
        defer { fleet.shutdown() }
        let client = WinRSTestClient(connection: try connect(fleet), https: false)
        try client.authenticateNTLM(user: user.user, password: user.password)
        let shell = try client.createShell()

        let other = WinRSTestClient(connection: try connect(fleet), https: false)
        let anonymous = try other.exchange(WinRS.command(other.ctx, shellID: shell.shellID, command: "hostname").body)
        XCTAssertEqual(anonymous.status, 401)
        XCTAssertEqual(fleet.counters.commandsStarted, 0)
        // After its own handshake the new connection reaches the same shell (shells outlive connections).
        try other.authenticateNTLM(user: user.user, password: user.password)
        XCTAssertEqual(try other.run(shellID: shell.shellID, "hostname").stdoutText, "WIN0001\r\n")
        XCTAssertEqual(fleet.counters.authenticationsPerConnection, [1: 1, 2: 1])
    }

    func testPlainBodyIsRefusedOnHTTP() throws {
        let fleet = try TestFleet.start { $0.auth = .ntlm }
        defer { fleet.shutdown() }
        let client = WinRSTestClient(connection: try connect(fleet), https: false)
        try client.authenticateNTLM(user: user.user, password: user.password, seal: false)
        let response = try client.exchange(WinRS.createShell(client.ctx).body)
        XCTAssertEqual(response.status, 401)
        XCTAssertEqual(response.headers("WWW-Authenticate"), ["Negotiate"])
        XCTAssertEqual(fleet.counters.plainBodyRefusals, 1)
        XCTAssertEqual(fleet.counters.shellsCreated, 0)
        // The connection lost its authentication: even a sealed body now needs a new handshake.
        client.sealBodies = true
        XCTAssertEqual(try client.exchange(WinRS.createShell(client.ctx).body).status, 401)
    }

    func testPlainBodyIsAcceptedWithAllowUnencrypted() throws {
        let fleet = try TestFleet.start { $0.auth = .ntlm; $0.allowUnencrypted = true }
        defer { fleet.shutdown() }
        let client = WinRSTestClient(connection: try connect(fleet), https: false)
        try client.authenticateNTLM(user: user.user, password: user.password, seal: false)
        let shell = try client.createShell()
        XCTAssertEqual(try client.run(shellID: shell.shellID, "echo plain").stdoutText, "plain\r\n")
    }

    func testDropAfterAuthClosesTheConnection() throws {
        let fleet = try TestFleet.start { $0.auth = .ntlm; $0.dropAfterAuth = true }
        defer { fleet.shutdown() }
        let connection = try connect(fleet)
        let client = WinRSTestClient(connection: connection, https: false)
        let final = try client.authenticateNTLM(user: user.user, password: user.password)
        XCTAssertEqual(final.status, 200)
        XCTAssertEqual(final.header("Connection"), "close")
        XCTAssertTrue(connection.waitUntilClosed())
        XCTAssertEqual(fleet.counters.authenticationsCompleted, 1)
        XCTAssertEqual(fleet.counters.connectionsDropped, 1)
    }

    func testFlippedByteIsRefusedAndClosesTheConnection() throws {
        let fleet = try TestFleet.start { $0.auth = .ntlm }
        defer { fleet.shutdown() }
        let connection = try connect(fleet)
        let client = WinRSTestClient(connection: connection, https: false)
        try client.authenticateNTLM(user: user.user, password: user.password)
        var sealed = try WinRMEncryption.encode(WinRS.createShell(client.ctx).body, protocol: WinRMEncryption.spnegoProtocol,
                                                sealer: try XCTUnwrap(client.sealer))
        // Flip a byte inside the encrypted payload (just before the closing boundary).
        let index = sealed.count - "--Encrypted Boundary--\r\n".count - 10
        sealed[index] ^= 0x01
        let response = try connection.post(body: sealed, contentType: WinRMEncryption.contentType(protocol: WinRMEncryption.spnegoProtocol))
        XCTAssertEqual(response.status, 400)
        XCTAssertTrue(connection.waitUntilClosed())
        XCTAssertEqual(fleet.counters.integrityFailures, 1)
        XCTAssertEqual(fleet.counters.shellsCreated, 0)
    }

    func testHTTPSRequiresChannelBinding() throws {
        let fleet = try TestFleet.start { $0.auth = .ntlm; $0.https = true }
        defer { fleet.shutdown() }
        let der = try XCTUnwrap(fleet.certificateDER)

        let without = WinRSTestClient(connection: try connect(fleet, https: true), https: true)
        XCTAssertEqual(try without.authenticateNTLM(user: user.user, password: user.password, seal: false).status, 401)

        let with = WinRSTestClient(connection: try connect(fleet, https: true), https: true)
        let response = try with.authenticateNTLM(user: user.user, password: user.password,
                                                 channelBindings: ChannelBindings.tlsServerEndPoint(certificateDER: der),
                                                 seal: false)
        XCTAssertEqual(response.status, 200)
        // Over https plain bodies are fine (TLS protects them).
        let shell = try with.createShell()
        XCTAssertEqual(try with.run(shellID: shell.shellID, "hostname").stdoutText, "WIN0001\r\n")
    }

    func testAuthFailHostRejectsEveryCredential() throws {
        let fleet = try TestFleet.start { $0.auth = .ntlm; $0.hostCount = 2; $0.faults.authFailHosts = ["WIN0002"] }
        defer { fleet.shutdown() }
        let good = WinRSTestClient(connection: try connect(fleet), https: false)
        XCTAssertEqual(try good.authenticateNTLM(user: user.user, password: user.password).status, 200)
        let host = fleet.hosts[1]
        let bad = WinRSTestClient(connection: try RawHTTPConnection(host: host.address, port: host.port), https: false)
        XCTAssertEqual(try bad.authenticateNTLM(user: user.user, password: user.password).status, 401)
        XCTAssertEqual(fleet.counters.authenticationFailuresPerHost, ["WIN0002": 1])
    }
}

final class NTLMAuthMoreTests: XCTestCase {
    let user = SimulatorConfig.demoUser

    /// Clients that put the SOAP body on the AUTHENTICATE leg (Apache CXF, older Go clients) get it
    /// processed over https.
    func testAuthenticateCarryingABodyIsServedOverHTTPS() throws {
        let fleet = try TestFleet.start { $0.auth = .ntlm; $0.https = true }
        defer { fleet.shutdown() }
        let host = fleet.hosts[0]
        let connection = try RawHTTPConnection(host: host.address, port: host.port, tls: true, trustPEM: fleet.certificatePEM)
        let context = NTLMClientContext(credential: NTLMCredential(user: user.user, password: user.password),
                                        channelBindings: ChannelBindings.tlsServerEndPoint(certificateDER: try XCTUnwrap(fleet.certificateDER)))
        let ctx = WSManEndpointContext(to: "https://\(host.address):\(host.port)/wsman")
        let create = WinRS.createShell(ctx)
        let first = try connection.post(headers: [("Authorization", "Negotiate " + context.negotiateMessage().base64EncodedString())],
                                        body: create.body)
        XCTAssertEqual(first.status, 401)
        let header = try XCTUnwrap(first.headers("WWW-Authenticate").first { $0.hasPrefix("Negotiate ") })
        let authenticate = try context.authenticateMessage(challenge: try XCTUnwrap(Data(base64Encoded: String(header.dropFirst(10)))))
        let second = try connection.post(headers: [("Authorization", "Negotiate " + authenticate.base64EncodedString())], body: create.body)
        XCTAssertEqual(second.status, 200)
        XCTAssertFalse(try WinRSResponse.parseCreate(second.body, request: create).shellID.isEmpty)
        XCTAssertEqual(fleet.counters.shellsCreated, 1)
    }

    func testBasicHostAlsoOffersAndAcceptsNegotiate() throws {
        let fleet = try TestFleet.start { $0.auth = .basic }
        defer { fleet.shutdown() }
        let host = fleet.hosts[0]
        let client = WinRSTestClient(connection: try RawHTTPConnection(host: host.address, port: host.port), https: false)
        XCTAssertEqual(try client.connection.post().headers("WWW-Authenticate"), ["Negotiate"],
                       "Basic is not offered over http without AllowUnencrypted")
        XCTAssertEqual(try client.authenticateNTLM(user: user.user, password: user.password).status, 200)
        XCTAssertNoThrow(try client.createShell())
    }

    func testIdleConnectionsAreClosedLikeHTTPSys() throws {
        let fleet = try TestFleet.start { $0.auth = .ntlm; $0.connectionIdleTimeoutSeconds = 0.3 }
        defer { fleet.shutdown() }
        let host = fleet.hosts[0]
        let client = WinRSTestClient(connection: try RawHTTPConnection(host: host.address, port: host.port), https: false,
                                     operationTimeoutSeconds: 1)
        try client.authenticateNTLM(user: user.user, password: user.password)
        let shell = try client.createShell()
        // A long poll longer than the idle timeout is not idleness.
        let commandID = try client.startCommand(shellID: shell.shellID, "sleep 0.6")
        XCTAssertEqual(try client.receiveAll(shellID: shell.shellID, commandID: commandID).exitCode, 0)
        XCTAssertFalse(client.connection.waitUntilClosed(timeout: 0.1))
        XCTAssertTrue(client.connection.waitUntilClosed(timeout: 1))
    }
}
