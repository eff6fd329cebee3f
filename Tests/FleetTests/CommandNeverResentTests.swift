import FleetTestSupport
import Foundation
import Inventory
import WSMan
import WinRMTransport
import TestSupport
import XCTest
@testable import Fleet

/// A host that answers a Command with something that is not a WinRS answer (a garbled body, a
/// middlebox's page): the Command reached the host, so it must not be sent again.
///
/// Address slice: 127.1.40.201 (raw server).
final class CommandNeverResentTests: XCTestCase {
    func testCommandAnsweredWithANonSOAPBodyIsNotSentAgain() async throws {
        let server = try RawHTTPServer(address: "127.1.40.201") { request in
            guard let parsed = try? WinRSServer.parseRequest(request.body) else {
                return .text(400, "Bad Request", contentType: "text/plain", "not a WinRS request")
            }
            switch parsed.action {
            case .create:
                let xml = WinRSServer.createResponse(relatesTo: parsed.messageID, shellID: "11111111-2222-3333-4444-555555555555",
                                                     address: parsed.to ?? "", owner: "operator", clientIP: "127.0.0.1")
                return .text(200, "OK", contentType: "application/soap+xml;charset=UTF-8", xml)
            case .command:
                // The host got the Command (and may have started it); the answer is garbled on the way back.
                return .text(200, "OK", contentType: "text/plain", "garbled")
            case .delete:
                return .text(200, "OK", contentType: "application/soap+xml;charset=UTF-8",
                             WinRSServer.deleteResponse(relatesTo: parsed.messageID))
            default:
                return .text(200, "OK", contentType: "application/soap+xml;charset=UTF-8",
                             WinRSServer.signalResponse(relatesTo: parsed.messageID))
            }
        }
        defer { server.stop() }
        let inventoryJSON = """
            {"credentials": {"demo": {"username": "WINFLEET\\\\operator", "password_env": "WINFLEET_DEMO_PASSWORD"}},
             "defaults": {"credential": "demo", "transport": "http", "auth": "basic", "allow_unencrypted": true},
             "hosts": [{"name": "RAW01", "address": "127.1.40.201", "port": \(server.port)}]}
            """
        let inventory = try Inventory.parse(data: Data(inventoryJSON.utf8), fileName: "raw.json")
        var planner = HostPlanner(inventory: inventory, environment: demoPasswordEnvironment)
        let plan = planner.plan(inventory.hosts[0])
        XCTAssertNil(plan.refusal)
        let engine = FleetEngine(plans: [plan], policy: SessionPolicy(maxAttempts: 3, backoffBase: 0.01))
        let results = await engine.run(RunRequest(spec: .commandLine(["hostname"]), target: "RAW01", hosts: ["RAW01"]))
        await engine.closeAll()
        let result = try XCTUnwrap(results.first)
        XCTAssertEqual(result.status, .error, describe(results))
        let commands = server.requests.filter { String(decoding: $0.body, as: UTF8.self).contains("windows/shell/Command") }
        XCTAssertEqual(commands.count, 1,
                       "the Command reached the host \(commands.count) times: an answer arrived, so it may have started and must not be sent again")
        XCTAssertTrue(result.error?.message.contains("may have started") ?? false, "\(String(describing: result.error))")
    }
}
