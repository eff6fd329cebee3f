@testable import Fleet
import Foundation
import WinRMSim
import XCTest

/// The audit every proxy test ends with must be able to fail: over a direct http route with
/// Basic and AllowUnencrypted (the only way the rules let SOAP travel in clear, and never through
/// a proxy) it must see the envelope, the Basic header and the command. Addresses 127.1.25.x.
final class PlaintextAuditTests: ProxyTestCase {

    func testTheAuditSeesPlaintextWhenThereIsSome() async throws {
        let host = try startHost("CLEAR1", address: ProxyTestAddresses.host(25, 1), auth: .basic, allowUnencrypted: true)
        unaudited.insert(ObjectIdentifier(host.relay))   // this hop carries plain text on purpose
        let marker = "marker-clear-5Jt"
        markers = [marker]
        let inventory = try writeInventory(routes: ["direct": [:]],
                                           hosts: [hostEntry(host, route: "direct", extra: ["allow_unencrypted": true])])

        let run = try await runEngine(inventory: inventory, command: "echo \(marker)")

        XCTAssertEqual(try run.result("CLEAR1").status, .ok)
        let found = audit.findings(in: host.relay.allBytes)
        XCTAssertTrue(found.contains("a SOAP envelope (<s:Envelope)"), "\(found)")
        XCTAssertTrue(found.contains("Authorization: Basic to the host"), "\(found)")
        XCTAssertTrue(found.contains("the host password as a Basic header"), "\(found)")
        XCTAssertTrue(found.contains("the command marker \(marker)"), "\(found)")
    }

    func testTheAuditFindsNothingInSealedTraffic() async throws {
        let host = try startHost("SEALED1", address: ProxyTestAddresses.host(25, 2))
        let marker = "marker-sealed-8Wn"
        markers = [marker]
        let inventory = try writeInventory(routes: ["direct": [:]], hosts: [hostEntry(host, route: "direct")])

        let run = try await runEngine(inventory: inventory, command: "echo \(marker)")

        XCTAssertEqual(try run.result("SEALED1").stdout, "\(marker)\r\n")
        XCTAssertTrue(host.relay.allBytes.contains("multipart/encrypted"))
        XCTAssertEqual(audit.findings(in: host.relay.allBytes), [])
    }

    func testProxyAuthorizationIsNotMistakenForHostBasic() {
        let hop = Data("CONNECT 127.1.25.9:5986 HTTP/1.1\r\nProxy-Authorization: Basic cHg6cHc=\r\n\r\n".utf8)
        XCTAssertEqual(PlaintextAudit().findings(in: hop), [])
        let leak = Data("POST /wsman HTTP/1.1\r\nAUTHORIZATION: Basic cHg6cHc=\r\n\r\n".utf8)
        XCTAssertEqual(PlaintextAudit().findings(in: leak), ["Authorization: Basic to the host"])
    }
}
