import Foundation
import XCTest
import WSMan
@testable import WinRMSim

final class BasicAuthTests: XCTestCase {
    let user = SimulatorConfig.demoUser

    func testBasicOverHTTPSRunsCommands() throws {
        let fleet = try TestFleet.start { $0.https = true; $0.auth = .basic }
        defer { fleet.shutdown() }
        let host = fleet.hosts[0]
        let connection = try RawHTTPConnection(host: host.address, port: host.port, tls: true, trustPEM: fleet.certificatePEM)
        let client = WinRSTestClient(connection: connection, https: true)
        client.useBasic(user: user.user, password: user.password)
        let shell = try client.createShell()
        XCTAssertEqual(shell.shellID, shell.shellID.uppercased())
        XCTAssertEqual(shell.owner, "WINFLEET\\operator")
        XCTAssertEqual(shell.idleTimeout, 7200)

        let hostname = try client.run(shellID: shell.shellID, "hostname")
        XCTAssertEqual(hostname.stdoutText, "WIN0001\r\n")
        XCTAssertEqual(hostname.exitCode, 0)

        let echo = try client.run(shellID: shell.shellID, "cmd.exe", arguments: ["/c", "echo", "hello", "fleet"])
        XCTAssertEqual(echo.stdoutText, "hello fleet\r\n")

        let whoami = try client.run(shellID: shell.shellID, "whoami")
        XCTAssertEqual(whoami.stdoutText, "winfleet\\operator\r\n")

        let exit3 = try client.run(shellID: shell.shellID, "exit 3")
        XCTAssertEqual(exit3.exitCode, 3)

        let unknown = try client.run(shellID: shell.shellID, "frobnicate --now")
        XCTAssertEqual(unknown.exitCode, 9009)
        XCTAssertEqual(unknown.stderrText,
                       "'frobnicate' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n")
        XCTAssertEqual(unknown.stdout, Data())

        let ipconfig = try client.run(shellID: shell.shellID, "ipconfig")
        XCTAssertTrue(ipconfig.stdoutText.contains("IPv4 Address. . . . . . . . . . . : \(host.address)\r\n"))

        try client.deleteShell(shell.shellID)
        XCTAssertEqual(fleet.shellCount(host: host.name), 0)

        let counters = fleet.counters
        XCTAssertEqual(counters.commandsStartedPerHost[host.name], 6)
        XCTAssertEqual(counters.requestsByAction["Create"], 1)
        XCTAssertEqual(counters.requestsByAction["Delete"], 1)
        XCTAssertEqual(counters.authenticationsPerConnection.values.reduce(0, +), 1, "one Basic logon per connection")
        XCTAssertEqual(counters.connectionsAccepted, 1)
    }

    func testUnauthenticatedRequestGetsChallenge() throws {
        let fleet = try TestFleet.start { $0.https = true; $0.auth = .basic }
        defer { fleet.shutdown() }
        let host = fleet.hosts[0]
        let connection = try RawHTTPConnection(host: host.address, port: host.port, tls: true, trustPEM: fleet.certificatePEM)
        let response = try connection.post(body: Data("<x/>".utf8))
        XCTAssertEqual(response.status, 401)
        XCTAssertEqual(response.headers("WWW-Authenticate"), ["Negotiate", "Basic realm=\"WSMAN\""])
        XCTAssertEqual(response.header("Content-Length"), "0")
        XCTAssertEqual(response.header("Server"), "Microsoft-HTTPAPI/2.0")
        // The connection stays usable (keep-alive) for the authenticated retry.
        let retry = try connection.post(headers: [("Authorization", "Basic " + Data("\(user.user):\(user.password)".utf8).base64EncodedString())])
        XCTAssertEqual(retry.status, 200)
    }

    func testWrongBasicPasswordIsRefused() throws {
        let fleet = try TestFleet.start { $0.https = true; $0.auth = .basic }
        defer { fleet.shutdown() }
        let host = fleet.hosts[0]
        let connection = try RawHTTPConnection(host: host.address, port: host.port, tls: true, trustPEM: fleet.certificatePEM)
        let client = WinRSTestClient(connection: connection, https: true)
        client.useBasic(user: user.user, password: "not-the-password")
        XCTAssertThrowsError(try client.createShell()) { error in
            XCTAssertEqual((error as? WinRSTestClient.Failure)?.status, 401)
        }
        XCTAssertEqual(fleet.counters.authenticationFailures, 1)
        XCTAssertEqual(fleet.counters.shellsCreated, 0)
    }

    func testBasicOverHTTPIsRefusedWithoutAllowUnencrypted() throws {
        let fleet = try TestFleet.start { $0.auth = .basic }
        defer { fleet.shutdown() }
        let host = fleet.hosts[0]
        let connection = try RawHTTPConnection(host: host.address, port: host.port)
        let client = WinRSTestClient(connection: connection, https: false)
        client.useBasic(user: user.user, password: user.password)
        let response = try client.exchange(WinRS.createShell(client.ctx).body)
        XCTAssertEqual(response.status, 401)
        XCTAssertFalse(response.headers("WWW-Authenticate").contains { $0.lowercased().hasPrefix("basic") },
                       "Basic must not be offered on http when AllowUnencrypted is false")
        XCTAssertEqual(fleet.counters.shellsCreated, 0)
        XCTAssertEqual(fleet.counters.authenticationFailures, 1)
    }

    func testBasicOverHTTPWorksWithAllowUnencrypted() throws {
        let fleet = try TestFleet.start { $0.auth = .basic; $0.allowUnencrypted = true }
        defer { fleet.shutdown() }
        let host = fleet.hosts[0]
        let connection = try RawHTTPConnection(host: host.address, port: host.port)
        let client = WinRSTestClient(connection: connection, https: false)
        client.useBasic(user: "operator", password: user.password)
        let shell = try client.createShell()
        XCTAssertEqual(try client.run(shellID: shell.shellID, "echo ok").stdoutText, "ok\r\n")
    }

    func testNotFoundAndMethodNotAllowed() throws {
        let fleet = try TestFleet.start { $0.auth = .basic; $0.allowUnencrypted = true }
        defer { fleet.shutdown() }
        let host = fleet.hosts[0]
        let connection = try RawHTTPConnection(host: host.address, port: host.port)
        let notFound = try connection.post(path: "/nothing")
        XCTAssertEqual(notFound.status, 404)
        XCTAssertTrue(notFound.text.contains("<TITLE>Not Found</TITLE>"))
        let get = try connection.send(method: "GET", path: "/wsman", headers: [], body: Data())
        XCTAssertEqual(get.status, 405)
    }
}
