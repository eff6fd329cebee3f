import Foundation
import Inventory
import WSMan
import WinRMSim
import WinRMTransport
import TestSupport
import XCTest
@testable import Fleet

/// A simulated fleet that accepts Kerberos with the realm's keytab, the inventory it writes
/// (`winfleet sim --inventory-out`), optionally edited, and the plans an operator gets from it.
final class KerberosSimFleet {
    let fleet: SimulatedFleet
    let plans: [HostPlan]
    let directory: URL

    var names: [String] { plans.map(\.host.name) }
    var counters: SimCounters { fleet.counters }

    /// - Parameters:
    ///   - password: what the inventory credential's password variable holds (default: the realm's).
    ///   - editInventory: changes to the written inventory JSON before it is loaded.
    init(realm: TestKDC, first: String, hosts: Int, auth: SimAuth, password: String? = nil,
         configure: (inout SimulatorConfig) -> Void = { _ in },
         editInventory: ((inout [String: Any]) -> Void)? = nil) throws {
        var config = SimulatorConfig(hostCount: hosts, firstAddress: first, auth: auth)
        // The host's local account as NTLM knows it; the same account's Kerberos principal is
        // operator@REALM (the sim maps DOMAIN\user to user@DOMAIN.*).
        let domain = realm.realm.split(separator: ".").first.map(String.init) ?? realm.realm
        config.users = [SimUser(user: "\(domain)\\operator", password: realm.password)]
        config.keytab = realm.keytab
        config.realm = realm.realm
        configure(&config)
        fleet = SimulatedFleet(config: config)
        try fleet.start()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("winfleet-krb-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("inventory.json").path
        try fleet.writeInventory(to: path)
        if let editInventory {
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            editInventory(&object)
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        }
        let inventory = try Inventory.load(path: path)
        var planner = HostPlanner(inventory: inventory, environment: ["WINFLEET_DEMO_PASSWORD": password ?? realm.password])
        plans = inventory.hosts.map { planner.plan($0) }
    }

    func shutdown() {
        fleet.shutdown()
        try? FileManager.default.removeItem(at: directory)
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

/// What an engine told its views.
final class EngineLog: @unchecked Sendable {
    private let lock = NSLock()
    private var updates: [RunUpdate] = []

    func append(_ update: RunUpdate) { lock.withLock { updates.append(update) } }

    var events: [SessionEvent] {
        lock.withLock { updates }.compactMap { if case .sessionEvent(let event) = $0 { return event } else { return nil } }
    }

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
func runOnFleet(_ plans: [HostPlan], _ command: [String] = ["hostname"]) async -> (results: [HostResult], log: EngineLog) {
    let engine = FleetEngine(plans: plans)
    let log = EngineLog()
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
