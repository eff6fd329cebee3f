import CSQLite
import Foundation

/// The one type that makes SQLite C calls. It turns result codes into `StoreError`s and caches prepared
/// statements by their SQL text. Not thread-safe by itself: `RunStore` serializes all use with a lock.
final class SQLiteConnection {
    let path: String
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    /// Opens `path` (which must exist unless `create`). Multi-thread mode (no SQLite mutex): the caller serializes.
    init(path: String, readOnly: Bool, create: Bool = false) throws {
        self.path = path
        var flags = SQLITE_OPEN_NOMUTEX
        flags |= readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        if create && !readOnly { flags |= SQLITE_OPEN_CREATE }
        var db: OpaquePointer?
        let code = sqlite3_open_v2(path, &db, flags, nil)
        if code != SQLITE_OK {
            let detail = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(db)
            throw StoreError.fromSQLite(code: code, detail: detail, path: path, operation: "opening")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { close() }

    var isOpen: Bool { handle != nil }

    /// True when SQLite opened the file read-only although read-write was asked (file or directory not writable).
    var isReadOnly: Bool {
        guard let handle else { return true }
        return sqlite3_db_readonly(handle, "main") == 1
    }

    func setBusyTimeout(milliseconds: Int32) {
        guard let handle else { return }
        sqlite3_busy_timeout(handle, milliseconds)
    }

    var changes: Int { handle.map { Int(sqlite3_changes($0)) } ?? 0 }
    var lastInsertRowID: Int64 { handle.map { sqlite3_last_insert_rowid($0) } ?? 0 }

    /// Runs SQL without results (may hold several statements). `operation` names the step in errors.
    func execute(_ sql: String, operation: String) throws {
        guard let handle else { throw StoreError.closed(path: path) }
        var errorText: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &errorText)
        if code != SQLITE_OK {
            let detail = errorText.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(errorText)
            throw StoreError.fromSQLite(code: sqlite3_extended_errcode(handle), detail: detail, path: path, operation: operation)
        }
    }

    /// Runs a query returning one row with one column, as text (e.g. `PRAGMA journal_mode=WAL`).
    func scalarText(_ sql: String, operation: String) throws -> String? {
        try withStatement(sql, operation: operation) { statement in
            try statement.step() ? statement.text(0) : nil
        }
    }

    func scalarInt(_ sql: String, operation: String) throws -> Int64 {
        try withStatement(sql, operation: operation) { statement in
            try statement.step() ? statement.int64(0) : 0
        }
    }

    /// Runs `body` with the cached prepared statement for `sql`; resets it afterwards (also on error) so
    /// it holds no lock and no bound data.
    func withStatement<T>(_ sql: String, operation: String, _ body: (Statement) throws -> T) throws -> T {
        guard let handle else { throw StoreError.closed(path: path) }
        let prepared: OpaquePointer
        if let cached = statements[sql] {
            prepared = cached
        } else {
            var made: OpaquePointer?
            let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &made, nil)
            guard code == SQLITE_OK, let made else {
                throw StoreError.fromSQLite(code: sqlite3_extended_errcode(handle),
                                            detail: String(cString: sqlite3_errmsg(handle)), path: path, operation: operation)
            }
            statements[sql] = made
            prepared = made
        }
        defer {
            sqlite3_reset(prepared)
            sqlite3_clear_bindings(prepared)
        }
        return try body(Statement(handle: prepared, connection: self, operation: operation))
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction (takes the write lock up front, so a read never has
    /// to be upgraded to a write, which SQLite cannot wait for). Rolls back on error.
    func transaction<T>(operation: String, _ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE", operation: operation)
        do {
            let value = try body()
            try execute("COMMIT", operation: operation)
            return value
        } catch {
            // Some errors (SQLITE_FULL, SQLITE_IOERR) already rolled back; a second rollback error is noise.
            if let handle, sqlite3_get_autocommit(handle) == 0 {
                _ = sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
            }
            throw error
        }
    }

    func close() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements.removeAll()
        if let handle {
            sqlite3_close_v2(handle)
            self.handle = nil
        }
    }

    fileprivate func error(code: Int32, operation: String) -> StoreError {
        let detail = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
        let extended = handle.map { sqlite3_extended_errcode($0) } ?? code
        return StoreError.fromSQLite(code: extended, detail: detail, path: path, operation: operation)
    }
}

/// SQLite copies bound values when given this destructor.
private let transientDestructor = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A prepared statement during one use (see `SQLiteConnection.withStatement`). Parameter and column
/// indices: parameters count from 1, columns from 0, as in SQLite.
struct Statement {
    let handle: OpaquePointer
    unowned let connection: SQLiteConnection
    let operation: String

    func bind(_ index: Int32, _ value: Int64?) throws {
        let code = value.map { sqlite3_bind_int64(handle, index, $0) } ?? sqlite3_bind_null(handle, index)
        try check(code)
    }

    func bind(_ index: Int32, _ value: Int) throws { try bind(index, Int64(value)) }

    func bind(_ index: Int32, _ value: String?) throws {
        guard let value else { return try check(sqlite3_bind_null(handle, index)) }
        // Explicit length, so text with NUL characters is stored whole.
        var utf8 = value.utf8CString
        utf8.removeLast()  // the terminating NUL
        let code: Int32 = utf8.isEmpty
            ? sqlite3_bind_text(handle, index, "", 0, transientDestructor)
            : utf8.withUnsafeBufferPointer { buffer in
                sqlite3_bind_text(handle, index, buffer.baseAddress, Int32(buffer.count), transientDestructor)
            }
        try check(code)
    }

    func bind(_ index: Int32, _ value: Data) throws {
        let code: Int32 = value.isEmpty
            ? sqlite3_bind_zeroblob(handle, index, 0)  // an empty BLOB, not NULL
            : value.withUnsafeBytes { bytes in
                sqlite3_bind_blob64(handle, index, bytes.baseAddress, sqlite3_uint64(bytes.count), transientDestructor)
            }
        try check(code)
    }

    func bind(_ index: Int32, _ value: Date?) throws { try bind(index, value?.storeMilliseconds) }

    /// Advances: true when a row is available, false when done.
    @discardableResult
    func step() throws -> Bool {
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        throw connection.error(code: code, operation: operation)
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }

    func text(_ column: Int32) -> String {
        guard let start = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    }

    func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }

    func data(_ column: Int32) -> Data {
        guard let start = sqlite3_column_blob(handle, column) else { return Data() }
        return Data(bytes: start, count: Int(sqlite3_column_bytes(handle, column)))
    }

    func date(_ column: Int32) -> Date { Date(storeMilliseconds: int64(column)) }

    func optionalDate(_ column: Int32) -> Date? { isNull(column) ? nil : date(column) }

    private func check(_ code: Int32) throws {
        if code != SQLITE_OK { throw connection.error(code: code, operation: operation) }
    }
}
