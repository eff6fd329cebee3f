import ArgumentParser
import Fleet
import Foundation
import Inventory

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the inventory, the proxy rules and every route: proxy, proxy auth, CONNECT, host auth, affinity.",
        discussion: """
        First without network: the inventory is read and every host is checked against the rules of
        "Proxy Servers and WinRM" (refusals and warnings, e.g. forward mode with connection-based auth).
        Then each route is probed: TCP connect to its proxy, proxy authentication, CONNECT to the host
        port (or the forwarded request), host authentication, and connection affinity across several
        commands on one session (one authentication, no connection change). Refused hosts are not probed.
        Exit status: 0 everything passed, 1 something failed or a host is refused, 64 usage or inventory error.
        """)

    @OptionGroup var inventoryOptions: InventoryOptions

    @Option(name: .long, help: "text or json")
    var format: Format = .text

    @Flag(name: .long, help: "Check the inventory and the rules only; send nothing.")
    var offline = false

    @Option(name: .long, help: "Commands run on one session for the affinity check.")
    var commands: Int = 5

    @Option(name: .long, help: "Hosts probed at once.")
    var throttle: Int = 16

    @Option(name: .long, help: "Seconds one host's probe may take.")
    var timeout: Double = 60

    enum Format: String, ExpressibleByArgument {
        case text, json
    }

    func validate() throws {
        if commands < 1 { throw ValidationError("--commands must be at least 1") }
        if throttle < 1 { throw ValidationError("--throttle must be at least 1") }
        if timeout <= 0 { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        CoreDumps.disable()
        let (inventory, hosts) = try inventoryOptions.load()
        let checker = RouteChecker(inventory: inventory, hosts: hosts,
                                   options: RouteCheckOptions(commandCount: commands, concurrency: throttle,
                                                              probe: !offline, hostTimeout: timeout))
        let report = await checker.run()
        switch format {
        case .text: print(report.text(), terminator: "")
        case .json: print(report.json())
        }
        throw ExitCode(report.passed ? 0 : 1)
    }
}
