import ArgumentParser
import Foundation
import Inventory

/// `--inventory FILE` and `--target EXPR`, shared by the commands that work on hosts.
struct InventoryOptions: ParsableArguments {
    @Option(name: .long, help: "The inventory file (JSON). Default: $WINFLEET_INVENTORY.")
    var inventory: String?

    @Option(name: .long, help: "Which hosts: names, globs (web*), ranges (web[01-20]), group:NAME, route:NAME, joined by , (union), & (intersection), ! (exclusion).")
    var target: String?

    func inventoryPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        inventory ?? environment["WINFLEET_INVENTORY"]
    }

    /// Loads the inventory and selects the targeted hosts, or throws an exit with a clear message.
    func load() throws -> (Inventory, [InventoryHost]) {
        guard let path = inventoryPath() else {
            throw failUsage("winfleet: no inventory: pass --inventory FILE or set WINFLEET_INVENTORY (see inventory.example.json)")
        }
        let inventory: Inventory
        do {
            inventory = try Inventory.load(path: path)
        } catch {
            throw failUsage("winfleet: \(error)")
        }
        let hosts: [InventoryHost]
        do {
            hosts = try TargetExpression.parse(target ?? "").select(from: inventory)
        } catch {
            throw failUsage("winfleet: --target \(target ?? ""): \(error)")
        }
        if hosts.isEmpty {
            throw failUsage("winfleet: --target \(target ?? "(all)") selects no host of \(path)")
        }
        return (inventory, hosts)
    }
}
