import ArgumentParser
import Console
import Foundation

/// `winfleet bench-console`: the console's rendering benchmark (bench/run calls it): first frame,
/// filter keystroke to redrawn frame, redraws while 1,000 results stream in; JSON on stdout.
struct BenchConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-console",
        abstract: "Measure the console's frame times on a generated fleet (used by bench/run).",
        shouldDisplay: false)

    @Option(name: .long, help: "Hosts in the generated fleet.")
    var hosts: Int = 10_000

    func run() throws {
        let figures = ConsoleBenchmark.run(hosts: hosts)
        let data = try JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
