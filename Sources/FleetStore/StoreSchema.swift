import Foundation

/// One step of the schema: the SQL that takes the database from `version - 1` to `version`.
struct SchemaMigration {
    let version: Int
    let sql: String
}

/// The versioned schema. The version lives in `PRAGMA user_version`; `PRAGMA application_id` marks the
/// file as winfleet's so a foreign SQLite database at the path is refused instead of being written into.
/// To change the schema: append a migration (never edit a released one).
enum StoreSchema {
    /// "WFLT".
    static let applicationID: Int64 = 0x5746_4C54

    static let migrations: [SchemaMigration] = [
        SchemaMigration(version: 1, sql: """
            CREATE TABLE runs (
                id               INTEGER PRIMARY KEY,
                command          TEXT    NOT NULL,
                kind             TEXT    NOT NULL,   -- cmd | powershell
                target           TEXT    NOT NULL,   -- target expression as typed
                who              TEXT    NOT NULL,   -- local user name of the operator
                controller_host  TEXT    NOT NULL,   -- host name of the machine running winfleet
                pid              INTEGER NOT NULL,
                pid_start_token  TEXT,               -- boot id + process start time (Linux), to see pid reuse
                started_at       INTEGER NOT NULL,   -- milliseconds since the Unix epoch (all *_at columns)
                finished_at      INTEGER,
                status           TEXT    NOT NULL,   -- running | completed | cancelled | interrupted | failed
                host_count       INTEGER NOT NULL
            );
            CREATE INDEX runs_running ON runs(status) WHERE status = 'running';

            CREATE TABLE results (
                id             INTEGER PRIMARY KEY,
                run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                host           TEXT    NOT NULL,
                route          TEXT    NOT NULL,
                iteration      INTEGER NOT NULL,
                status         TEXT    NOT NULL,     -- ok | failed | error | timeout | cancelled
                exit_code      INTEGER,
                stdout         BLOB    NOT NULL,     -- bytes as received
                stderr         BLOB    NOT NULL,
                error_kind     TEXT,
                error_message  TEXT,
                error_code     TEXT,
                started_at     INTEGER NOT NULL,
                finished_at    INTEGER NOT NULL,
                duration_ms    INTEGER NOT NULL
            );
            CREATE INDEX results_by_run_status ON results(run_id, status);

            CREATE TABLE session_events (
                id      INTEGER PRIMARY KEY,
                run_id  INTEGER REFERENCES runs(id) ON DELETE SET NULL,
                host    TEXT    NOT NULL,
                at      INTEGER NOT NULL,
                kind    TEXT    NOT NULL,             -- auth_ok | affinity_lost | reconnect | shell_reopened | quota | ...
                detail  TEXT    NOT NULL
            );
            CREATE INDEX session_events_by_run ON session_events(run_id);
            """),
    ]

    static var latestVersion: Int { migrations.last?.version ?? 0 }

    private struct Header {
        var applicationID: Int64
        var version: Int
        var objectCount: Int64
    }

    /// Brings the database to the newest version of `migrations`. Refuses foreign and newer databases.
    /// Writes only when a migration is due, so opening an up-to-date database never waits for the write lock.
    static func migrate(_ connection: SQLiteConnection, migrations: [SchemaMigration] = migrations,
                        readOnly: Bool) throws {
        let known = migrations.last?.version ?? 0
        precondition(migrations.enumerated().allSatisfy { $0.element.version == $0.offset + 1 },
                     "schema migrations must be numbered 1, 2, 3...")
        let header = try readHeader(connection)
        try validate(header, known: known, path: connection.path)
        if header.version == known { return }
        if readOnly {
            throw StoreError.openedReadOnly(path: connection.path,
                                            operation: "upgrading the schema to version \(known)")
        }
        try connection.transaction(operation: "upgrading the schema to version \(known)") {
            // Read again under the write lock: another winfleet may have migrated meanwhile.
            let header = try readHeader(connection)
            try validate(header, known: known, path: connection.path)
            if header.version == 0 {
                try connection.execute("PRAGMA application_id = \(applicationID)", operation: "marking the database")
            }
            for migration in migrations where migration.version > header.version {
                try connection.execute(migration.sql, operation: "migrating the schema to version \(migration.version)")
            }
            try connection.execute("PRAGMA user_version = \(known)", operation: "setting the schema version")
        }
    }

    private static func readHeader(_ connection: SQLiteConnection) throws -> Header {
        let operation = "reading the schema version"
        return Header(
            applicationID: try connection.scalarInt("PRAGMA application_id", operation: operation),
            version: Int(try connection.scalarInt("PRAGMA user_version", operation: operation)),
            objectCount: try connection.scalarInt("SELECT count(*) FROM sqlite_schema", operation: operation))
    }

    private static func validate(_ header: Header, known: Int, path: String) throws {
        if header.applicationID == applicationID {
            if header.version > known {
                throw StoreError.tooNew(path: path, found: header.version, known: known)
            }
            return
        }
        if header.applicationID == 0 && header.version == 0 && header.objectCount == 0 {
            return  // empty: a new database
        }
        let reason = header.applicationID == 0
            ? "an SQLite database of another program"
            : "an SQLite database with application id \(header.applicationID)"
        throw StoreError.notWinfleet(path: path, reason: reason)
    }
}
