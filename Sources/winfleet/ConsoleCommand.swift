import ArgumentParser
import Console
import Fleet
import FleetStore
import Foundation
import Inventory

struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "The fleet console (the default). Without an inventory it opens on a simulated demo fleet.")

    @Option(name: .long, help: "The inventory file (JSON). Default: $WINFLEET_INVENTORY; without either, a demo fleet.")
    var inventory: String?

    @Option(name: .long, help: "Theme name (default, light, high-contrast, mono) or a theme file.")
    var theme: String?

    @Option(name: .long, help: "How many hosts run at once.")
    var throttle: Int = 64

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        CoreDumps.disable()
        var environment = ProcessInfo.processInfo.environment
        var demo: DemoFleet?
        let path: String
        if let given = inventory ?? environment["WINFLEET_INVENTORY"] {
            path = given
        } else {
            do {
                demo = try DemoFleet()
            } catch {
                diagnose("winfleet: cannot start the demo fleet: \(error)")
                throw ExitCode(1)
            }
            path = demo!.inventoryPath
            environment[DemoFleet.passwordVariable] = DemoFleet.password
            diagnose("winfleet: no inventory configured (--inventory or WINFLEET_INVENTORY): opening a simulated demo fleet")
        }
        defer { demo?.shutdown() }
        let loaded: Inventory
        do {
            loaded = try Inventory.load(path: path)
        } catch {
            throw failUsage("winfleet: \(error)")
        }
        var planner = HostPlanner(inventory: loaded, environment: environment)
        if isatty(STDIN_FILENO) == 1 { planner.askPassword = PasswordPrompt.ask }
        let plans = loaded.hosts.map { planner.plan($0) }
        let store = storeOptions.openForRun()
        let engine = FleetEngine(plans: plans, recorder: store.map(StoreRecorder.init), throttle: throttle)
        let bridge = ConsoleBridge(engine: engine, inventory: loaded, store: store)
        let app = ConsoleApp(engine: bridge, theme: ThemeChoice(argument: theme), environment: environment)
        // One authenticated, persistent session per host from the start: health shows at once.
        Task.detached { await engine.connectAll() }
        let keepAlive = engine.keepSessionsAlive()
        do {
            try await Self.runOffTheCooperativePool { try app.run() }
        } catch {
            diagnose("winfleet: console: \(error)")
        }
        keepAlive.cancel()
        await engine.closeAll()
        store?.close()
    }

    /// The console's loop blocks on the terminal; it runs on a thread of its own so the engine's
    /// tasks keep the cooperative pool.
    static func runOffTheCooperativePool(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let thread = Thread {
                do {
                    try body()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}
