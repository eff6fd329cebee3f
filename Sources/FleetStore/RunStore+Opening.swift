import Foundation

extension RunStore {
    /// mkdir -p with mode 0700 for every directory it creates (the history holds command outputs).
    static func createParentDirectories(of path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        guard !directory.isEmpty else { return }
        var missing: [String] = []
        var current = directory
        while !current.isEmpty && current != "/" && access(current, F_OK) != 0 {
            missing.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        for directoryToMake in missing.reversed() {
            if mkdir(directoryToMake, 0o700) != 0 && errno != EEXIST {
                throw StoreError.cannotCreateDirectory(directoryToMake, path: path, errno: errno)
            }
        }
    }

    /// Creates the database file with mode 0600 (SQLite gives its -wal and -shm files the same mode);
    /// SQLite itself would create it 0644.
    static func createFileIfMissing(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            closeFileDescriptor(fd)
        } else if errno != EEXIST {
            throw StoreError.cannotCreateFile(path: path, errno: errno)
        }
    }

    /// Marks `running` runs of this host whose process is gone as `interrupted`, with `finished_at` set to
    /// their last recorded result (the last moment known alive), else their start. Runs of other hosts
    /// (a database on a shared home) are left alone: their process cannot be checked from here.
    static func markInterruptedRuns(_ connection: SQLiteConnection) throws -> [Int64] {
        let operation = "looking for interrupted runs"
        let localHost = localHostName()
        let candidates: [(id: Int64, pid: Int32, startToken: String?, host: String)] =
            try connection.withStatement(
                "SELECT id, pid, pid_start_token, controller_host FROM runs WHERE status = 'running' ORDER BY id",
                operation: operation) { statement in
                var rows: [(id: Int64, pid: Int32, startToken: String?, host: String)] = []
                while try statement.step() {
                    rows.append((statement.int64(0), Int32(truncatingIfNeeded: statement.int64(1)),
                                 statement.optionalText(2), statement.text(3)))
                }
                return rows
            }
        let dead = candidates.filter {
            $0.host == localHost && !ProcessLiveness.isAlive(pid: $0.pid, recordedStartToken: $0.startToken)
        }
        guard !dead.isEmpty else { return [] }
        return try connection.transaction(operation: "marking interrupted runs") {
            var marked: [Int64] = []
            for run in dead {
                try connection.withStatement("""
                    UPDATE runs SET status = 'interrupted',
                        finished_at = coalesce((SELECT max(finished_at) FROM results WHERE run_id = runs.id), started_at)
                    WHERE id = ? AND status = 'running'
                    """, operation: "marking run \(run.id) interrupted") { statement in
                    try statement.bind(1, run.id)
                    try statement.step()
                }
                // Another winfleet opening the same file at the same moment may have marked it first.
                if connection.changes > 0 { marked.append(run.id) }
            }
            return marked
        }
    }
}
