import Foundation
import WSMan
import WinRMSim
import TestSupport
import XCTest
@testable import WinRMTransport

/// The libcurl transport over real sockets: the simulator, and a raw server for answers no WinRM host gives.
///
/// Address slices: 127.1.50.1-127.1.53.238 (1,000 hosts, .0 and .255 skipped), 127.1.58.1-127.1.58.12 (TLS tests, one
/// address per test), 127.1.59.1-127.1.59.5 (raw servers).
final class TransportTests: XCTestCase {
    private let user = SimulatorConfig.demoUser.user
    private let password = SimulatorConfig.demoUser.password

    private func connectionConfig(_ host: SimulatedHost, https: Bool, auth: HostAuthentication,
                                  password: String? = nil) -> WinRMConnectionConfig {
        let url = URL(string: "\(https ? "https" : "http")://\(host.address):\(host.port)/wsman")!
        return WinRMConnectionConfig(endpoint: url, authentication: auth, username: user, password: password ?? self.password)
    }

    /// One WinRS Create over `connection`; returns the new shell's id.
    private func createShell(_ connection: WinRMConnection) async throws -> String {
        let context = WSManEndpointContext(to: connection.config.endpoint.absoluteString)
        let request = WinRS.createShell(context)
        let reply = try await connection.exchange(request.body)
        let envelope = try WSManResponse.envelope(status: reply.status, contentType: reply.contentType, body: reply.body,
                                                  from: reply.origin, relatesTo: request.messageID)
        return try WinRSResponse.parseCreate(envelope: envelope, request: request).shellID
    }

    private func startFleet(_ config: SimulatorConfig) throws -> SimulatedFleet {
        let fleet = SimulatedFleet(config: config)
        try fleet.start()
        return fleet
    }

    private func writeCertificate(_ fleet: SimulatedFleet) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("winfleet-transport-\(UUID().uuidString).pem").path
        try Data(try XCTUnwrap(fleet.certificatePEM).utf8).write(to: URL(fileURLWithPath: path))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    // MARK: scale

    func testThousandConcurrentNTLMConnectionsOnOneEventLoop() async throws {
        let fleet = try startFleet(SimulatorConfig(hostCount: 1000, firstAddress: "127.1.50.1", auth: .ntlm))
        defer { fleet.shutdown() }
        XCTAssertEqual(fleet.hosts.last?.address, "127.1.53.238")
        let connections = fleet.hosts.map { WinRMConnection(config: connectionConfig($0, https: false, auth: .ntlm)) }
        let started = Date()
        let outcomes = await withTaskGroup(of: Result<String, Error>.self) { group in
            for connection in connections {
                group.addTask { do { return .success(try await self.createShell(connection)) } catch { return .failure(error) } }
            }
            var outcomes: [Result<String, Error>] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        let elapsed = Date().timeIntervalSince(started)
        let failures = outcomes.compactMap { if case .failure(let error) = $0 { return String(describing: error) } else { return nil } }
        XCTAssertEqual(failures.count, 0, "first failures: \(failures.prefix(5))")
        let shellIDs = Set(outcomes.compactMap { try? $0.get() })
        XCTAssertEqual(shellIDs.count, 1000)
        let counters = fleet.counters
        XCTAssertEqual(counters.connectionsAccepted, 1000, "one TCP connection per host")
        XCTAssertEqual(counters.authenticationsCompleted, 1000)
        XCTAssertEqual(counters.shellsCreated, 1000)
        XCTAssertEqual(counters.integrityFailures, 0)
        XCTAssertEqual(counters.plainBodyRefusals, 0)
        XCTAssertTrue(connections.allSatisfy { $0.roundTrips == 3 }, "NEGOTIATE, AUTHENTICATE, Create on each")
        print("1,000 NTLM connections, handshake + sealed Create each: \(String(format: "%.2f", elapsed)) s")
        for connection in connections { await connection.close() }
    }

    // MARK: certificate pinning

    func testPinnedFingerprintAcceptsTheHostsCertificate() async throws {
        let fleet = try startFleet(SimulatorConfig(hostCount: 1, firstAddress: "127.1.58.1", https: true, auth: .basic))
        defer { fleet.shutdown() }
        var config = connectionConfig(fleet.hosts[0], https: true, auth: .basic)
        config.tls.caFile = try writeCertificate(fleet)
        let fingerprint = try XCTUnwrap(fleet.certificateFingerprintSHA256)
        config.certificateFingerprintSHA256 = Fingerprint.colonSeparated(fingerprint)  // as `openssl x509 -fingerprint` prints it
        let connection = WinRMConnection(config: config)
        let shellID = try await createShell(connection)
        XCTAssertFalse(shellID.isEmpty)
        XCTAssertEqual(fleet.counters.authenticationsCompleted, 1)
        await connection.close()
    }

    /// The error message for an untrusted certificate offers pinning as an alternative to a CA file
    /// ("give the host's CA in tls.ca_file, pin it with tls.fingerprint_sha256, or …"), so a pin alone
    /// must be enough to trust the host.
    func testPinnedFingerprintAloneTrustsASelfSignedCertificate() async throws {
        let fleet = try startFleet(SimulatorConfig(hostCount: 1, firstAddress: "127.1.58.2", https: true, auth: .basic))
        defer { fleet.shutdown() }
        var config = connectionConfig(fleet.hosts[0], https: true, auth: .basic)
        config.certificateFingerprintSHA256 = try XCTUnwrap(fleet.certificateFingerprintSHA256)
        XCTAssertTrue(config.tls.verify)
        XCTAssertNil(config.tls.caFile)
        let connection = WinRMConnection(config: config)
        do {
            let shellID = try await createShell(connection)
            XCTAssertFalse(shellID.isEmpty)
        } catch {
            XCTFail("a pinned certificate without ca_file is refused: \(error)")
        }
        await connection.close()
    }

    func testWrongPinnedFingerprintIsRefusedBeforeBasicCredentialsAreSent() async throws {
        let fleet = try startFleet(SimulatorConfig(hostCount: 1, firstAddress: "127.1.58.3", https: true, auth: .basic))
        defer { fleet.shutdown() }
        var config = connectionConfig(fleet.hosts[0], https: true, auth: .basic)
        config.tls.caFile = try writeCertificate(fleet)
        config.certificateFingerprintSHA256 = String(repeating: "ab", count: 32)
        let connection = WinRMConnection(config: config)
        do {
            _ = try await createShell(connection)
            XCTFail("a certificate that does not match the pin was accepted")
        } catch let error as WinRMError {
            XCTAssertEqual(error.kind, .tls, "\(error)")
            XCTAssertTrue(error.message.contains("AB:AB:AB"), "names the pinned fingerprint: \(error.message)")
            XCTAssertFalse(error.message.contains(password))
        }
        let counters = fleet.counters
        XCTAssertEqual(counters.authenticationsCompleted, 0,
                       "the host saw valid Basic credentials although the certificate did not match the pin")
        XCTAssertEqual(counters.authenticationFailures, 0)
        XCTAssertEqual(counters.requestsByAction.values.reduce(0, +), 0, "no SOAP request went out")
    }

    func testWrongPinnedFingerprintIsRefusedBeforeNTLMStarts() async throws {
        let fleet = try startFleet(SimulatorConfig(hostCount: 1, firstAddress: "127.1.58.4", https: true, auth: .ntlm))
        defer { fleet.shutdown() }
        var config = connectionConfig(fleet.hosts[0], https: true, auth: .ntlm)
        config.tls.caFile = try writeCertificate(fleet)
        config.certificateFingerprintSHA256 = String(repeating: "0", count: 64)
        let connection = WinRMConnection(config: config)
        do {
            _ = try await createShell(connection)
            XCTFail("a certificate that does not match the pin was accepted")
        } catch let error as WinRMError {
            XCTAssertEqual(error.kind, .tls, "\(error)")
        }
        XCTAssertEqual(fleet.counters.authenticationsCompleted, 0)
        XCTAssertEqual(fleet.counters.authenticationFailures, 0)
        XCTAssertEqual(connection.roundTrips, 1, "only the anonymous certificate probe went out")
    }

    func testNTLMOverHTTPSWithPinAndChannelBinding() async throws {
        let fleet = try startFleet(SimulatorConfig(hostCount: 1, firstAddress: "127.1.58.5", https: true, auth: .ntlm,
                                                   requireChannelBinding: true))
        defer { fleet.shutdown() }
        var config = connectionConfig(fleet.hosts[0], https: true, auth: .ntlm)
        config.tls.caFile = try writeCertificate(fleet)
        config.certificateFingerprintSHA256 = try XCTUnwrap(fleet.certificateFingerprintSHA256)
        let connection = WinRMConnection(config: config)
        let shellID = try await createShell(connection)
        XCTAssertFalse(shellID.isEmpty)
        XCTAssertEqual(fleet.counters.authenticationsCompleted, 1)
        XCTAssertEqual(fleet.counters.authenticationFailures, 0)
        await connection.close()
    }

    // MARK: TLS verification

    func testVerificationWithoutCAFileRefusesTheSelfSignedCertificate() async throws {
        for (index, auth) in [HostAuthentication.basic, .ntlm].enumerated() {
            let fleet = try startFleet(SimulatorConfig(hostCount: 1, firstAddress: "127.1.58.\(10 + index)", https: true,
                                                       auth: auth == .basic ? .basic : .ntlm))
            defer { fleet.shutdown() }
            let config = connectionConfig(fleet.hosts[0], https: true, auth: auth)
            XCTAssertTrue(config.tls.verify)
            let connection = WinRMConnection(config: config)
            do {
                _ = try await createShell(connection)
                XCTFail("\(auth): a self-signed certificate was trusted without ca_file")
            } catch let error as WinRMError {
                XCTAssertEqual(error.kind, .tls, "\(auth): \(error)")
                XCTAssertTrue(error.message.contains("ca_file"), "says how to fix it: \(error.message)")
                XCTAssertFalse(error.requestMayHaveArrived)
            }
            XCTAssertEqual(fleet.counters.authenticationsCompleted, 0)
            XCTAssertEqual(fleet.counters.authenticationFailures, 0)
        }
    }

    // MARK: answers that are not WinRM

    private func notSOAPSummary(_ reply: SOAPReply, _ request: WSManRequest) -> String? {
        do {
            _ = try WSManResponse.envelope(status: reply.status, contentType: reply.contentType, body: reply.body,
                                           from: reply.origin, relatesTo: request.messageID)
            return nil
        } catch WSManError.notSOAP(_, _, let summary) {
            return summary
        } catch {
            return "unexpected error \(error)"
        }
    }

    func testPlainTextAndHTMLAnswersAreReportedClearly() async throws {
        let server = try RawHTTPServer(address: "127.1.59.1") { _ in
            .text(200, "OK", contentType: "text/plain", "hello, this is not SOAP\nbut a text file")
        }
        defer { server.stop() }
        var config = WinRMConnectionConfig(endpoint: URL(string: server.url)!, authentication: .basic, username: user, password: password)
        config.connectTimeout = 5
        let connection = WinRMConnection(config: config)
        let request = WinRS.createShell(WSManEndpointContext(to: server.url))
        let reply = try await connection.exchange(request.body)
        XCTAssertEqual(reply.status, 200)
        let summary = try XCTUnwrap(notSOAPSummary(reply, request))
        XCTAssertTrue(summary.contains("127.1.59.1:\(server.port)"), "names who answered: \(summary)")
        XCTAssertTrue(summary.contains("text/plain"), summary)
        XCTAssertTrue(summary.contains("hello, this is not SOAP"), "quotes the body: \(summary)")
        await connection.close()

        let page = "<!DOCTYPE html><html><head><title>502 Bad Gateway - upstream unreachable</title></head><body><h1>Bad Gateway</h1></body></html>"
        let html = try RawHTTPServer(address: "127.1.59.2") { _ in
            .text(502, "Bad Gateway", contentType: "text/html; charset=utf-8", page)
        }
        defer { html.stop() }
        let htmlConnection = WinRMConnection(config: WinRMConnectionConfig(endpoint: URL(string: html.url)!, authentication: .basic,
                                                                           username: user, password: password))
        let htmlRequest = WinRS.createShell(WSManEndpointContext(to: html.url))
        let htmlReply = try await htmlConnection.exchange(htmlRequest.body)
        XCTAssertEqual(htmlReply.status, 502)
        let htmlSummary = try XCTUnwrap(notSOAPSummary(htmlReply, htmlRequest))
        XCTAssertTrue(htmlSummary.contains("text/html page \"502 Bad Gateway - upstream unreachable\""), htmlSummary)
        XCTAssertTrue(htmlSummary.contains("127.1.59.2:\(html.port)"), htmlSummary)
        let description = WSManError.notSOAP(status: htmlReply.status, contentType: htmlReply.contentType, summary: htmlSummary).description
        XCTAssertTrue(description.contains("not a WinRM (SOAP) response"), description)
        await htmlConnection.close()
    }

    func testHTMLPageWhereTheNTLMChallengeBelongsIsReportedClearly() async throws {
        let page = "<html><head><title>Corporate Web Filter: access blocked</title></head><body>blocked</body></html>"
        let server = try RawHTTPServer(address: "127.1.59.3") { _ in
            .text(200, "OK", contentType: "text/html", page)
        }
        defer { server.stop() }
        let connection = WinRMConnection(config: WinRMConnectionConfig(endpoint: URL(string: server.url)!, authentication: .ntlm,
                                                                       username: user, password: password))
        do {
            _ = try await connection.exchange(WinRS.createShell(WSManEndpointContext(to: server.url)).body)
            XCTFail("an HTML page was taken for an NTLM challenge")
        } catch let error as WinRMError {
            XCTAssertEqual(error.kind, .protocol, "\(error)")
            XCTAssertTrue(error.message.contains("HTTP 200"), error.message)
            XCTAssertTrue(error.message.contains("Corporate Web Filter: access blocked"), "names the page: \(error.message)")
            XCTAssertTrue(error.message.contains("127.1.59.3:\(server.port)"), error.message)
        }
        XCTAssertEqual(server.requests.count, 1, "the NEGOTIATE only; no credentials followed")
        XCTAssertTrue(server.requests.allSatisfy { $0.body.isEmpty }, "no SOAP body was sent before authentication")
    }

    func testBasicRefusedIsAnAuthErrorWithoutThePassword() async throws {
        let server = try RawHTTPServer(address: "127.1.59.4") { _ in
            RawHTTPServer.Response(status: 401, reason: "Unauthorized", headers: [("WWW-Authenticate", "Basic realm=\"WSMAN\"")])
        }
        defer { server.stop() }
        let connection = WinRMConnection(config: WinRMConnectionConfig(endpoint: URL(string: server.url)!, authentication: .basic,
                                                                       username: user, password: password))
        do {
            _ = try await connection.exchange(WinRS.createShell(WSManEndpointContext(to: server.url)).body)
            XCTFail("401 accepted")
        } catch let error as WinRMError {
            XCTAssertEqual(error.kind, .auth)
            XCTAssertEqual(error.code, "401")
            XCTAssertFalse(error.message.contains(password))
            XCTAssertTrue(error.message.contains(user))
        }
        XCTAssertEqual(server.requests.count, 1, "one attempt, no retry storm")
    }
}
