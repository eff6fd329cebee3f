import ArgumentParser
import Fleet
import FleetStore
import Foundation

/// The engine's `RunRecorder`, kept in the SQLite run store.
final class StoreRecorder: RunRecorder, @unchecked Sendable {
    let store: RunStore

    init(store: RunStore) {
        self.store = store
    }

    func beginRun(command: String, isPowerShell: Bool, target: String, hostCount: Int) throws -> Int64 {
        try store.beginRun(NewRun(command: command, kind: isPowerShell ? .powershell : .cmd, target: target,
                                  who: Self.userName, hostCount: hostCount))
    }

    func record(_ entries: [RecorderEntry]) throws {
        var results: [HostResultRecord] = []
        var events: [SessionEventRecord] = []
        for entry in entries {
            switch entry {
            case .result(let result, let runID): results.append(Self.record(of: result, runID: runID))
            case .event(let event, let runID): events.append(Self.record(of: event, runID: runID))
            }
        }
        try store.record(results: results, events: events)
    }

    static func record(of result: HostResult, runID: Int64) -> HostResultRecord {
        HostResultRecord(
            runID: runID, host: result.host, route: result.route, iteration: result.iteration ?? 1,
            status: HostResultStatus(rawValue: result.status.rawValue) ?? .error,
            exitCode: result.exitCode.map(Int64.init),
            stdout: Data(result.stdout.utf8), stderr: Data(result.stderr.utf8),
            errorKind: result.error?.kind.rawValue, errorMessage: result.error?.message, errorCode: result.error?.code,
            startedAt: result.startedAt, finishedAt: result.startedAt.addingTimeInterval(result.duration),
            durationMs: Int64((result.duration * 1000).rounded()))
    }

    static func record(of event: SessionEvent, runID: Int64?) -> SessionEventRecord {
        SessionEventRecord(runID: runID, host: event.host, at: event.at,
                           kind: FleetStore.SessionEventKind(rawValue: event.kind.rawValue), detail: event.detail)
    }

    func finishRun(_ runID: Int64, cancelled: Bool) throws {
        try store.finishRun(id: runID, status: cancelled ? .cancelled : .completed, finishedAt: Date())
    }

    static var userName: String {
        ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] ?? "\(getuid())"
    }
}

/// `--db PATH`, shared by the commands that use the run history.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The run history database (default $XDG_STATE_HOME/winfleet/history.sqlite).")
    var db: String?

    var path: String { db ?? RunStore.defaultPath() }
}


extension StoreOptions {
    /// Opens the store for a run; a store that cannot be opened is reported and the run goes on
    /// without history (its results are still printed).
    func openForRun() -> RunStore? {
        do {
            let store = try RunStore(path: path)
            for id in store.recoveredInterruptedRuns {
                diagnose("winfleet: run \(id) was interrupted (its process is gone); marked as such in \(path)")
            }
            return store
        } catch {
            diagnose("winfleet: run history unavailable: \(error) — this run's results are printed but not kept")
            return nil
        }
    }
}
