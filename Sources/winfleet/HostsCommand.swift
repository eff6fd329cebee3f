import ArgumentParser
import Fleet
import Foundation
import Inventory

struct HostsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hosts",
        abstract: "List the targeted hosts with their route, effective proxy, transport and auth.")

    @OptionGroup var inventoryOptions: InventoryOptions

    @Option(name: .long, help: "text or json")
    var format: String = "text"

    func run() throws {
        let (inventory, hosts) = try inventoryOptions.load()
        let environment = ProcessInfo.processInfo.environment
        if format == "json" {
            for host in hosts {
                let route = inventory.effectiveRoute(for: host, environment: environment)
                let findings = Policy.evaluate(host: host, route: route)
                let object: [String: Any] = [
                    "name": host.name, "address": host.address, "port": host.port,
                    "transport": host.transport.rawValue, "auth": host.auth.rawValue,
                    "route": host.routeName, "proxy": route.proxy?.description ?? NSNull(),
                    "mode": route.isDirect ? "direct" : route.mode.rawValue,
                    "effective_route": route.explanation, "groups": host.groups,
                    "policy": findings.map { ["severity": $0.severity.rawValue, "rule": $0.rule, "message": $0.message, "fix": $0.fix] as [String: Any] },
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
            }
            return
        }
        let rows = hosts.map { (host: InventoryHost) -> [String] in
            let route = inventory.effectiveRoute(for: host, environment: environment)
            let findings = Policy.evaluate(host: host, route: route)
            let policy = findings.first { $0.severity == .refuse }.map { "REFUSED (rule \($0.rule))" }
                ?? (findings.isEmpty ? "" : "warn (rule \(findings[0].rule))")
            return [host.name, "\(host.address):\(host.port)", "\(host.transport)/\(host.auth)", host.routeName,
                    route.explanation, host.groups.joined(separator: ","), policy]
        }
        print(TextTable.render(header: ["HOST", "ADDRESS", "TRANSPORT/AUTH", "ROUTE", "EFFECTIVE ROUTE", "GROUPS", "POLICY"], rows: rows))
        print("\(hosts.count) host(s) of \(inventory.hosts.count)")
    }
}

/// Left-aligned columns, two spaces apart.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
