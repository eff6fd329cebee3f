import Foundation
import Inventory
import WSMan
import WinRMSim
import WinRMTransport
import FleetTestSupport
import TestSupport
import XCTest
@testable import Fleet

extension SimulatedFleetFixture {
    /// A simulated fleet that accepts Kerberos with the realm's keytab, with the plans an operator
    /// gets from its inventory (optionally edited).
    /// - Parameters:
    ///   - password: what the inventory credential's password variable holds (default: the realm's).
    ///   - editInventory: changes to the written inventory JSON before it is loaded.
    static func kerberos(realm: TestKDC, first: String, hosts: Int, auth: SimAuth, password: String? = nil,
                         configure: (inout SimulatorConfig) -> Void = { _ in },
                         editInventory: ((inout [String: Any]) -> Void)? = nil,
                         file: StaticString = #filePath, line: UInt = #line) throws -> SimulatedFleetFixture {
        var config = SimulatorConfig(hostCount: hosts, firstAddress: first, auth: auth)
        // The host's local account as NTLM knows it; the same account's Kerberos principal is
        // operator@REALM (the sim maps DOMAIN\user to user@DOMAIN.*).
        let domain = realm.realm.split(separator: ".").first.map(String.init) ?? realm.realm
        config.users = [SimUser(user: "\(domain)\\operator", password: realm.password)]
        config.keytab = realm.keytab
        config.realm = realm.realm
        configure(&config)
        return try SimulatedFleetFixture(config, environment: ["WINFLEET_DEMO_PASSWORD": password ?? realm.password],
                                         editInventory: editInventory, file: file, line: line)
    }
}

/// Edits for the simulator's inventory JSON.
enum InventoryEdit {
    static func defaults(_ object: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var defaults = object["defaults"] as? [String: Any] ?? [:]
        edit(&defaults)
        object["defaults"] = defaults
    }

    static func hosts(_ object: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var hosts = object["hosts"] as? [[String: Any]] ?? []
        for index in hosts.indices { edit(&hosts[index]) }
        object["hosts"] = hosts
    }

    /// No credential anywhere: Kerberos must come from the ticket cache.
    static func removeCredential(_ object: inout [String: Any]) {
        defaults(&object) { $0["credential"] = nil }
        object["credentials"] = [String: Any]()
    }
}

extension UpdateLog {
    /// The mechanism of each authentication ("kerberos on local port 41234" → "kerberos"), by host.
    var mechanisms: [String: [String]] {
        var result: [String: [String]] = [:]
        for event in events where event.kind == .authOK {
            result[event.host, default: []].append(String(event.detail.prefix { $0 != " " }))
        }
        return result
    }
}

/// Runs `command` once on every host of `plans` through a fresh engine, then closes it.
func runOnFleet(_ plans: [HostPlan], _ command: [String] = ["hostname"]) async -> (results: [HostResult], log: UpdateLog) {
    let engine = FleetEngine(plans: plans)
    let log = UpdateLog()
    engine.observe { log.append($0) }
    let results = await engine.run(RunRequest(spec: .commandLine(command), target: "all", hosts: plans.map(\.host.name)))
    await engine.closeAll()
    return (results, log)
}

/// One Create-shell exchange on a bare connection (for what only the connection exposes).
func createShell(on connection: WinRMConnection) async throws -> SOAPReply {
    let request = WinRS.createShell(WSManEndpointContext(to: connection.config.endpoint.absoluteString))
    return try await connection.exchange(request.body)
}

func describe(_ results: [HostResult]) -> String {
    results.map { "\($0.host) \($0.status.rawValue) \($0.error.map(String.init(describing:)) ?? "")" }.joined(separator: "\n")
}
