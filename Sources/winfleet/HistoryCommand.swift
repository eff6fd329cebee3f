import ArgumentParser
import Fleet
import FleetStore
import Foundation
import WinRMTransport

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show past runs, or one run's per-host results.")

    @Option(name: .long, help: "How many recent runs to list.")
    var last: Int = 20

    @Option(name: .customLong("run"), help: "Show this run's per-host results.")
    var runID: Int64?

    @Option(name: .long, help: "text or jsonl")
    var format: RunCommand.OutputFormat = .text

    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        let store: RunStore
        do {
            store = try RunStore(path: storeOptions.path, options: RunStore.Options(readOnly: FileManager.default.fileExists(atPath: storeOptions.path)))
        } catch {
            diagnose("winfleet history: \(error)")
            throw ExitCode(RunExit.usage)
        }
        defer { store.close() }
        if let id = runID {
            guard let summary = try store.run(id: id) else {
                diagnose("winfleet history: no run \(id) in \(storeOptions.path) (winfleet history lists them)")
                throw ExitCode(RunExit.usage)
            }
            let results = try store.results(runID: id).map(Self.hostResult)
            switch format {
            case .jsonl:
                for result in results { print(result.jsonLine()) }
            case .text:
                print("run \(id): \(summary.run.command)  [\(summary.run.status.rawValue), target \(summary.run.target), \(Self.timestamp(summary.run.startedAt))]")
                print(RunReport.grouped(results), terminator: "")
                let elapsed = (summary.run.finishedAt ?? summary.run.startedAt).timeIntervalSince(summary.run.startedAt)
                print(RunReport.summary(results, elapsed: elapsed))
            }
            return
        }
        let runs = try store.runs(last: last)
        switch format {
        case .jsonl:
            for summary in runs {
                let object: [String: Any] = [
                    "id": summary.run.id, "command": summary.run.command, "kind": summary.run.kind.rawValue,
                    "target": summary.run.target, "who": summary.run.who, "status": summary.run.status.rawValue,
                    "started_at": Self.timestamp(summary.run.startedAt),
                    "finished_at": summary.run.finishedAt.map(Self.timestamp) ?? NSNull(),
                    "host_count": summary.run.hostCount,
                    "ok": summary.counts.ok, "failed": summary.counts.failed, "error": summary.counts.error,
                    "timeout": summary.counts.timeout, "cancelled": summary.counts.cancelled,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
            }
        case .text:
            let rows = runs.map { summary -> [String] in
                let counts = summary.counts
                return [String(summary.run.id), Self.timestamp(summary.run.startedAt), summary.run.status.rawValue,
                        "\(counts.ok)/\(summary.run.hostCount)", String(counts.failed),
                        String(counts.error + counts.timeout + counts.cancelled), summary.run.target, summary.run.command]
            }
            print(TextTable.render(header: ["RUN", "STARTED", "STATUS", "OK", "FAILED", "ERRORS", "TARGET", "COMMAND"], rows: rows))
        }
    }

    static func hostResult(_ record: HostResultRecord) -> HostResult {
        HostResult(host: record.host, route: record.route, status: HostStatus(rawValue: record.status.rawValue) ?? .error,
                   exitCode: record.exitCode.map { Int32(truncatingIfNeeded: $0) },
                   stdout: record.stdoutText, stderr: record.stderrText,
                   error: record.errorKind.map { WinRMError(WinRMErrorKind(rawValue: $0) ?? .protocol, record.errorMessage ?? "", code: record.errorCode) },
                   startedAt: record.startedAt, duration: Double(record.durationMs) / 1000,
                   iteration: record.iteration > 1 ? record.iteration : nil)
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
