import ArgumentParser
import Fleet
import Foundation
import Inventory
import WinRMTransport

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command on the targeted hosts.",
        discussion: "Example: winfleet run --inventory fleet.json --target 'group:iis&!web03' --format jsonl -- ipconfig /all")

    @OptionGroup var inventoryOptions: InventoryOptions

    @Option(name: .long, help: "text (grouped like clush -b) or jsonl (one object per host, as results arrive)")
    var format: OutputFormat = .text

    @Option(name: .long, help: "Seconds each host may take for the whole command; it is then stopped.")
    var timeout: Double?

    @Option(name: .long, help: "How many hosts run at once.")
    var throttle: Int = 64

    @Flag(name: .long, help: "The words after -- are a PowerShell script.")
    var powershell = false

    @Option(name: .long, help: "Run the command N times over the same sessions (each result carries its iteration).")
    var `repeat`: Int = 1

    @Option(name: .long, help: "With --repeat: seconds from the start of one iteration to the next.")
    var every: Double?

    @OptionGroup var storeOptions: StoreOptions

    @Argument(parsing: .postTerminator, help: "The command (after --).")
    var command: [String] = []

    enum OutputFormat: String, ExpressibleByArgument {
        case text, jsonl
    }

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command after --, e.g. winfleet run --inventory f.json -- hostname") }
        if throttle < 1 { throw ValidationError("--throttle must be at least 1") }
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be positive") }
        if `repeat` < 1 { throw ValidationError("--repeat must be at least 1") }
    }

    func run() async throws {
        CoreDumps.disable()
        let (inventory, hosts) = try inventoryOptions.load()
        var planner = HostPlanner(inventory: inventory)
        if isatty(STDIN_FILENO) == 1 { planner.askPassword = PasswordPrompt.ask }
        let plans = hosts.map { planner.plan($0) }
        // The seed's rules are checked for every host before a single byte is sent.
        let refused = plans.filter { $0.refusal?.kind == .policy }
        if !refused.isEmpty {
            for plan in refused { diagnose("winfleet: policy: \(plan.refusal!.message)") }
            throw ExitCode(RunExit.usage)
        }
        for plan in plans {
            for warning in plan.warnings { diagnose("winfleet: warning: \(warning.message) — \(warning.fix)") }
        }
        let spec = powershell ? CommandSpec.powerShell(command.joined(separator: " ")) : CommandSpec.commandLine(command)
        let store = storeOptions.openForRun()
        let engine = FleetEngine(plans: plans, recorder: store.map(StoreRecorder.init), throttle: throttle)
        let sink = ResultSink(format: format, total: plans.count * `repeat`)
        engine.observe { update in sink.handle(update) }
        let request = RunRequest(spec: spec, target: inventoryOptions.target ?? "all", hosts: plans.map(\.host.name),
                                 timeout: timeout, repeatCount: `repeat`, every: every)
        let interrupts = InterruptHandler(onFirst: { engine.cancelRun() })
        await engine.run(request)
        await engine.closeAll()
        interrupts.stop()
        store?.close()
        sink.finish()
        throw ExitCode(sink.exitStatus)
    }
}

/// Prints results as they arrive and computes the exit status.
final class ResultSink: @unchecked Sendable {
    let format: RunCommand.OutputFormat
    let total: Int
    private let lock = NSLock()
    private var results: [HostResult] = []
    private let started = Date()
    private let progressOnTTY = isatty(STDERR_FILENO) == 1

    init(format: RunCommand.OutputFormat, total: Int) {
        self.format = format
        self.total = total
    }

    func handle(_ update: RunUpdate) {
        switch update {
        case .result(let result): accept(result)
        case .storeProblem(let message): diagnose("winfleet: run history: \(message) — results are still printed")
        case .sessionEvent(let event) where event.kind == .affinityLost || event.kind == .quota:
            if format == .text { diagnose("winfleet: \(event.host): \(event.kind.rawValue): \(event.detail)") }
        default: break
        }
    }

    func accept(_ result: HostResult) {
        lock.lock()
        defer { lock.unlock() }
        results.append(result)
        switch format {
        case .jsonl:
            print(result.jsonLine())
            fflush(stdout)
        case .text:
            if progressOnTTY { drawProgress() }
        }
    }

    private func drawProgress() {
        let failures = results.filter { $0.status != .ok }.count
        let elapsed = max(Date().timeIntervalSince(started), 0.001)
        let line = String(format: "\r%d/%d done, %d not ok, %.0f hosts/s", results.count, total, failures, Double(results.count) / elapsed)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard format == .text else { return }
        if progressOnTTY { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        print(RunReport.grouped(results), terminator: "")
        print(RunReport.summary(results, elapsed: Date().timeIntervalSince(started)))
    }

    var exitStatus: Int32 {
        lock.lock()
        defer { lock.unlock() }
        if results.contains(where: { $0.status == .error || $0.status == .timeout || $0.status == .cancelled }) {
            return RunExit.hostError
        }
        if results.contains(where: { $0.status == .failed }) { return RunExit.commandFailed }
        return RunExit.allOK
    }
}

/// ctrl-c during a headless run: the first cancels the run (partial output kept, results
/// printed), the second exits at once.
final class InterruptHandler: @unchecked Sendable {
    private var source: DispatchSourceSignal?
    private var count = 0

    init(onFirst: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [weak self] in
            guard let self else { return }
            self.count += 1
            if self.count == 1 {
                diagnose("winfleet: cancelling the run (ctrl-c again to exit now)")
                onFirst()
            } else {
                exit(130)
            }
        }
        source.resume()
        self.source = source
    }

    func stop() {
        source?.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
