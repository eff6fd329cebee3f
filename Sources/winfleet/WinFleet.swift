import ArgumentParser
import Foundation

/// winfleet: run commands on fleets of Windows hosts over WinRM, through the proxies that reach them.
@main
struct WinFleet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "winfleet",
        abstract: "A console and a headless runner for fleets of Windows hosts over WinRM.",
        discussion: """
        With no subcommand, opens the console; with no inventory configured it starts a simulated
        fleet and opens the console on it.
        Exit status of run: 0 all hosts ok, 1 a command exited non-zero somewhere, 2 some host could
        not run it, 64 usage, inventory or policy error before anything ran.
        """,
        subcommands: [ConsoleCommand.self, RunCommand.self, HostsCommand.self, CheckCommand.self, HistoryCommand.self, SimCommand.self,
                      BenchConsoleCommand.self],
        defaultSubcommand: ConsoleCommand.self)
}
