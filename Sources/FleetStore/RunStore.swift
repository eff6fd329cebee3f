import Foundation

/// The run history: runs, per-host results and session events in one SQLite file (WAL mode).
///
/// Thread-safe: every call takes one lock and uses the one connection; calls from several threads are
/// serialized. Each call is short (one small transaction), so callers block only while another call commits
/// or, at worst, for the busy timeout when another winfleet holds the write lock.
///
/// Durability: `record(result:)` returns after its transaction committed. With WAL and `synchronous=NORMAL`
/// (the default) a commit is a `write()` into the WAL file, which survives a crash or `kill -9` of this
/// process; the WAL is fsynced at checkpoints, so a power loss or kernel crash can lose the last commits
/// (never corrupts the file). `Options.synchronous = .full` fsyncs every commit to survive power loss too.
/// `bench/StoreBench` measures it (figures in the README): NORMAL records 1,000 results of ~100 bytes, one
/// commit each, in ~0.02 s (the slowest commit, ~4 ms, is the automatic WAL checkpoint); FULL costs an
/// fsync per commit, the disk's speed (0.2 ms here, ~4 ms on slower disks: seconds per 1,000 hosts),
/// hence NORMAL by default.
public final class RunStore: @unchecked Sendable {
    public struct Options: Sendable, Equatable {
        public enum Synchronous: String, Sendable, Equatable {
            /// fsync at checkpoints only: durable against process crashes, not against power loss.
            case normal = "NORMAL"
            /// fsync every commit: durable against power loss.
            case full = "FULL"
        }

        /// Open with SQLITE_OPEN_READONLY (history browsing): no migration, no recovery, writes throw `.readOnly`.
        public var readOnly: Bool
        /// How long a write waits for another process's write lock before throwing `.locked`.
        public var busyTimeout: TimeInterval
        public var synchronous: Synchronous

        public init(readOnly: Bool = false, busyTimeout: TimeInterval = 5, synchronous: Synchronous = .normal) {
            self.readOnly = readOnly
            self.busyTimeout = busyTimeout
            self.synchronous = synchronous
        }
    }

    public let path: String
    public let options: Options
    /// Runs that were left `running` by a process that no longer exists and that this open marked
    /// `interrupted` (ascending ids).
    public let recoveredInterruptedRuns: [Int64]

    private let lock = NSLock()
    private var connection: SQLiteConnection?
    /// The journal mode SQLite reported after asking for WAL ("wal" unless the file system cannot do it).
    let journalMode: String

    /// `$XDG_STATE_HOME/winfleet/history.sqlite`, falling back to `$HOME/.local/state/winfleet/history.sqlite`.
    /// A relative XDG_STATE_HOME is ignored, as the XDG base directory specification requires.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let stateHome: String
        if let xdg = environment["XDG_STATE_HOME"], xdg.hasPrefix("/") {
            stateHome = xdg
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            stateHome = URL(fileURLWithPath: home).appendingPathComponent(".local/state").path
        }
        return URL(fileURLWithPath: stateHome).appendingPathComponent("winfleet/history.sqlite").path
    }

    /// The host name recorded in runs and compared during recovery.
    public static func localHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(cString: buffer)
    }

    public convenience init(path: String) throws {
        try self.init(path: path, options: Options())
    }

    /// Creates missing parent directories (0700) and the file (0600), opens it in WAL mode, migrates the
    /// schema, and marks runs of dead winfleet processes on this host `interrupted`.
    public init(path: String, options: Options) throws {
        self.path = path
        self.options = options
        if !options.readOnly {
            try Self.createParentDirectories(of: path)
            try Self.createFileIfMissing(path)
        }
        let connection = try SQLiteConnection(path: path, readOnly: options.readOnly)
        do {
            connection.setBusyTimeout(milliseconds: Int32(clamping: Int((options.busyTimeout * 1000).rounded())))
            if !options.readOnly && connection.isReadOnly {
                throw StoreError.openedReadOnly(path: path, operation: "opening for writing")
            }
            // The first statement reads the header: a garbage file fails here with SQLITE_NOTADB.
            try connection.execute("PRAGMA foreign_keys = ON", operation: "configuring")
            _ = try connection.scalarInt("SELECT count(*) FROM sqlite_schema", operation: "reading the database")
            journalMode = options.readOnly
                ? (try connection.scalarText("PRAGMA journal_mode", operation: "configuring") ?? "")
                : (try connection.scalarText("PRAGMA journal_mode = WAL", operation: "switching to WAL mode") ?? "")
            try connection.execute("PRAGMA synchronous = \(options.synchronous.rawValue)", operation: "configuring")
            // Keep the WAL file from staying large after a run with big outputs.
            try connection.execute("PRAGMA journal_size_limit = 67108864", operation: "configuring")
            try StoreSchema.migrate(connection, readOnly: options.readOnly)
            recoveredInterruptedRuns = options.readOnly ? [] : try Self.markInterruptedRuns(connection)
        } catch {
            connection.close()
            throw error
        }
        self.connection = connection
    }

    deinit { close() }

    /// Closes the database. Later calls throw; closing twice is harmless.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        connection?.close()
        connection = nil
    }

    // MARK: Writing

    /// Records the start of a run (status `running`) and returns its id.
    public func beginRun(_ run: NewRun) throws -> Int64 {
        let startToken = run.pid == getpid() ? Self.ownStartToken : ProcessLiveness.startToken(of: run.pid)
        return try withConnection(writing: "recording the start of a run") { connection in
            try connection.withStatement("""
                INSERT INTO runs (command, kind, target, who, controller_host, pid, pid_start_token,
                                  started_at, finished_at, status, host_count)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 'running', ?)
                """, operation: "recording the start of a run") { statement in
                try statement.bind(1, run.command)
                try statement.bind(2, run.kind.rawValue)
                try statement.bind(3, run.target)
                try statement.bind(4, run.who)
                try statement.bind(5, run.controllerHost)
                try statement.bind(6, Int64(run.pid))
                try statement.bind(7, startToken)
                try statement.bind(8, run.startedAt)
                try statement.bind(9, run.hostCount)
                try statement.step()
            }
            return connection.lastInsertRowID
        }
    }

    /// Records one host result in its own transaction; it is committed when this returns.
    public func record(result: HostResultRecord) throws {
        try record(results: [result], events: [])
    }

    /// Records several host results in one transaction: all or none.
    public func record(results: [HostResultRecord]) throws {
        try record(results: results, events: [])
    }

    public func record(event: SessionEventRecord) throws {
        try record(results: [], events: [event])
    }

    /// Records host results and session events in one transaction: all or none. The engine hands
    /// over whatever finished while the previous commit ran, so a busy fleet commits in batches.
    public func record(results: [HostResultRecord], events: [SessionEventRecord]) throws {
        guard !results.isEmpty || !events.isEmpty else { return }
        let operation = results.count + events.count == 1
            ? (results.first.map { "recording the result of \($0.host)" } ?? "recording a session event of \(events[0].host)")
            : "recording \(results.count) results and \(events.count) session events"
        try withConnection(writing: operation) { connection in
            try connection.transaction(operation: operation) {
                for result in results { try Self.insert(result, into: connection) }
                for event in events { try Self.insert(event, into: connection) }
            }
        }
    }

    /// Sets the final status of a run. `status` must not be `running`.
    public func finishRun(id: Int64, status: RunStatus, finishedAt: Date) throws {
        let operation = "recording the end of run \(id)"
        guard status != .running else {
            throw StoreError(kind: .other, path: path, message:
                "history database \(path): \(operation) needs a final status, not running (programming error)")
        }
        try withConnection(writing: operation) { connection in
            try connection.withStatement("UPDATE runs SET status = ?, finished_at = ? WHERE id = ?",
                                         operation: operation) { statement in
                try statement.bind(1, status.rawValue)
                try statement.bind(2, finishedAt)
                try statement.bind(3, id)
                try statement.step()
            }
            if connection.changes == 0 {
                throw StoreError(kind: .other, path: path, message:
                    "history database \(path): \(operation) failed: there is no run \(id)")
            }
        }
    }

    // MARK: Reading

    /// The newest `last` runs, newest first.
    public func runs(last: Int) throws -> [RunSummary] {
        try withConnection(writing: nil) { connection in
            let runs = try connection.withStatement(Self.selectRun + " ORDER BY id DESC LIMIT ?",
                                                    operation: "listing runs") { statement in
                try statement.bind(1, max(0, last))
                var runs: [RunRecord] = []
                while try statement.step() { runs.append(try decodeRun(statement)) }
                return runs
            }
            return try runs.map { RunSummary(run: $0, counts: try counts(of: $0.id, connection)) }
        }
    }

    public func run(id: Int64) throws -> RunSummary? {
        try withConnection(writing: nil) { connection in
            let run = try connection.withStatement(Self.selectRun + " WHERE id = ?",
                                                   operation: "reading run \(id)") { statement in
                try statement.bind(1, id)
                return try statement.step() ? try decodeRun(statement) : nil
            }
            return try run.map { RunSummary(run: $0, counts: try counts(of: $0.id, connection)) }
        }
    }

    /// The results of a run in the order they were recorded.
    public func results(runID: Int64) throws -> [HostResultRecord] {
        try withConnection(writing: nil) { connection in
            try connection.withStatement("""
                SELECT run_id, host, route, iteration, status, exit_code, stdout, stderr,
                       error_kind, error_message, error_code, started_at, finished_at, duration_ms
                FROM results WHERE run_id = ? ORDER BY id
                """, operation: "reading the results of run \(runID)") { statement in
                try statement.bind(1, runID)
                var results: [HostResultRecord] = []
                while try statement.step() {
                    results.append(HostResultRecord(
                        runID: statement.int64(0), host: statement.text(1), route: statement.text(2),
                        iteration: Int(statement.int64(3)),
                        status: try decode(HostResultStatus.self, statement.text(4), column: "results.status"),
                        exitCode: statement.optionalInt64(5), stdout: statement.data(6), stderr: statement.data(7),
                        errorKind: statement.optionalText(8), errorMessage: statement.optionalText(9),
                        errorCode: statement.optionalText(10), startedAt: statement.date(11),
                        finishedAt: statement.date(12), durationMs: statement.int64(13)))
                }
                return results
            }
        }
    }

    /// The session events of a run in the order they were recorded.
    public func events(runID: Int64) throws -> [SessionEventRecord] {
        try withConnection(writing: nil) { connection in
            try connection.withStatement(
                "SELECT run_id, host, at, kind, detail FROM session_events WHERE run_id = ? ORDER BY id",
                operation: "reading the session events of run \(runID)") { statement in
                try statement.bind(1, runID)
                var events: [SessionEventRecord] = []
                while try statement.step() {
                    events.append(SessionEventRecord(
                        runID: statement.optionalInt64(0), host: statement.text(1), at: statement.date(2),
                        kind: SessionEventKind(statement.text(3)), detail: statement.text(4)))
                }
                return events
            }
        }
    }

    // MARK: Internals

    /// For tests: runs `body` on the store's connection under its lock (e.g. to set `PRAGMA max_page_count`).
    func withConnectionForTesting<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try withConnection(writing: nil, body)
    }

    private static let ownStartToken = ProcessLiveness.startToken(of: getpid())

    private static let selectRun = """
        SELECT id, command, kind, target, who, controller_host, pid, started_at, finished_at, status, host_count
        FROM runs
        """

    /// `writing` names the operation when the call writes, so a read-only store fails with a clear error
    /// before SQLite does.
    private func withConnection<T>(writing operation: String?, _ body: (SQLiteConnection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        guard let connection else { throw StoreError.closed(path: path) }
        if let operation, options.readOnly {
            throw StoreError.openedReadOnly(path: path, operation: operation)
        }
        return try body(connection)
    }

    private static func insert(_ event: SessionEventRecord, into connection: SQLiteConnection) throws {
        try connection.withStatement(
            "INSERT INTO session_events (run_id, host, at, kind, detail) VALUES (?, ?, ?, ?, ?)",
            operation: "recording a session event") { statement in
            try statement.bind(1, event.runID)
            try statement.bind(2, event.host)
            try statement.bind(3, event.at)
            try statement.bind(4, event.kind.rawValue)
            try statement.bind(5, event.detail)
            try statement.step()
        }
    }

    private static func insert(_ result: HostResultRecord, into connection: SQLiteConnection) throws {
        try connection.withStatement("""
            INSERT INTO results (run_id, host, route, iteration, status, exit_code, stdout, stderr,
                                 error_kind, error_message, error_code, started_at, finished_at, duration_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, operation: "recording a result") { statement in
            try statement.bind(1, result.runID)
            try statement.bind(2, result.host)
            try statement.bind(3, result.route)
            try statement.bind(4, result.iteration)
            try statement.bind(5, result.status.rawValue)
            try statement.bind(6, result.exitCode)
            try statement.bind(7, result.stdout)
            try statement.bind(8, result.stderr)
            try statement.bind(9, result.errorKind)
            try statement.bind(10, result.errorMessage)
            try statement.bind(11, result.errorCode)
            try statement.bind(12, result.startedAt)
            try statement.bind(13, result.finishedAt)
            try statement.bind(14, result.durationMs)
            try statement.step()
        }
    }

    private func decodeRun(_ statement: Statement) throws -> RunRecord {
        RunRecord(
            id: statement.int64(0), command: statement.text(1),
            kind: try decode(RunKind.self, statement.text(2), column: "runs.kind"),
            target: statement.text(3), who: statement.text(4), controllerHost: statement.text(5),
            pid: Int32(truncatingIfNeeded: statement.int64(6)), startedAt: statement.date(7),
            finishedAt: statement.optionalDate(8),
            status: try decode(RunStatus.self, statement.text(9), column: "runs.status"),
            hostCount: Int(statement.int64(10)))
    }

    private func counts(of runID: Int64, _ connection: SQLiteConnection) throws -> ResultCounts {
        try connection.withStatement("SELECT status, count(*) FROM results WHERE run_id = ? GROUP BY status",
                                     operation: "counting the results of run \(runID)") { statement in
            try statement.bind(1, runID)
            var counts = ResultCounts()
            while try statement.step() {
                let status = try decode(HostResultStatus.self, statement.text(0), column: "results.status")
                counts[status] = Int(statement.int64(1))
            }
            return counts
        }
    }

    private func decode<Value: RawRepresentable>(_ type: Value.Type, _ text: String, column: String) throws -> Value
    where Value.RawValue == String {
        guard let value = Value(rawValue: text) else {
            throw StoreError.unexpectedValue(path: path, column: column, value: text)
        }
        return value
    }
}
