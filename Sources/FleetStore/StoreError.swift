import Foundation

/// An error of the run history store. `message` is a complete sentence for the operator: it names the
/// database path and says how to fix the problem (most fixes end in "or use --db PATH").
public struct StoreError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable, Equatable {
        /// Another process holds the write lock longer than the busy timeout (SQLITE_BUSY / SQLITE_LOCKED).
        case locked
        /// The file, its directory or the file system cannot be written (SQLITE_READONLY), or the store
        /// was opened read-only and asked to write.
        case readOnly
        /// Not an SQLite file, a foreign SQLite database, or a damaged one (SQLITE_CORRUPT / SQLITE_NOTADB).
        case corrupt
        /// The disk (or the database's page limit) is full (SQLITE_FULL).
        case full
        /// The file or its directory cannot be created or opened (SQLITE_CANTOPEN, mkdir/open failures).
        case cannotOpen
        /// The database was written by a newer winfleet with a schema this build does not know.
        case tooNew
        /// Anything else (constraint violations, misuse, closed store, unexpected values).
        case other
    }

    public let kind: Kind
    /// The database path the error is about.
    public let path: String
    /// The operator-facing sentence (also `description`).
    public let message: String
    /// The SQLite extended result code, when the error came from SQLite.
    public let sqliteCode: Int32?

    public init(kind: Kind, path: String, message: String, sqliteCode: Int32? = nil) {
        self.kind = kind
        self.path = path
        self.message = message
        self.sqliteCode = sqliteCode
    }

    public var description: String { message }
}

extension StoreError {
    /// Builds the error for a failed SQLite call. `detail` is SQLite's own message, `operation` says what
    /// the store was doing ("recording a result").
    static func fromSQLite(code: Int32, detail: String, path: String, operation: String) -> StoreError {
        let quoted = shellQuoted(path)
        let what = "\(operation) failed: \(detail)"
        switch code & 0xff {
        case 5 /* SQLITE_BUSY */, 6 /* SQLITE_LOCKED */:
            return StoreError(kind: .locked, path: path, message:
                "history database \(path) is locked (\(what)): another winfleet holds it; wait for it to finish or use --db PATH",
                sqliteCode: code)
        case 8 /* SQLITE_READONLY */:
            return StoreError(kind: .readOnly, path: path, message:
                "history database \(path) is read-only (\(what)): fix permissions of the file and its directory or use --db PATH",
                sqliteCode: code)
        case 11 /* SQLITE_CORRUPT */, 26 /* SQLITE_NOTADB */:
            return StoreError(kind: .corrupt, path: path, message:
                "\(path) is not a winfleet database or is damaged (\(what)): move it aside (mv \(quoted) \(shellQuoted(path + ".bad"))) and a new one will be created",
                sqliteCode: code)
        case 13 /* SQLITE_FULL */:
            return StoreError(kind: .full, path: path, message:
                "the disk holding \(path) is full (\(what)): free space; results of this run are still printed",
                sqliteCode: code)
        case 14 /* SQLITE_CANTOPEN */:
            return StoreError(kind: .cannotOpen, path: path, message:
                "cannot open history database \(path) (\(what)): check that its directory exists and is writable, or use --db PATH",
                sqliteCode: code)
        default:
            return StoreError(kind: .other, path: path, message:
                "history database \(path): \(what)", sqliteCode: code)
        }
    }

    static func notWinfleet(path: String, reason: String) -> StoreError {
        StoreError(kind: .corrupt, path: path, message:
            "\(path) is not a winfleet database or is damaged (\(reason)): move it aside (mv \(shellQuoted(path)) \(shellQuoted(path + ".bad"))) and a new one will be created")
    }

    static func tooNew(path: String, found: Int, known: Int) -> StoreError {
        StoreError(kind: .tooNew, path: path, message:
            "history database \(path) was written by a newer winfleet (schema version \(found), this build knows up to \(known)): upgrade winfleet or use --db PATH")
    }

    static func cannotCreateDirectory(_ directory: String, path: String, errno code: Int32) -> StoreError {
        StoreError(kind: code == ENOSPC ? .full : .cannotOpen, path: path, message:
            "cannot create directory \(directory) for history database \(path): \(String(cString: strerror(code))); create it yourself or use --db PATH")
    }

    static func cannotCreateFile(path: String, errno code: Int32) -> StoreError {
        let reason = String(cString: strerror(code))
        switch code {
        case EROFS:
            return StoreError(kind: .readOnly, path: path, message:
                "history database \(path) is read-only (\(reason)): use --db PATH on a writable file system")
        case ENOSPC:
            return StoreError(kind: .full, path: path, message:
                "the disk holding \(path) is full (\(reason)): free space; results of this run are still printed")
        default:
            return StoreError(kind: .cannotOpen, path: path, message:
                "cannot create history database \(path): \(reason); fix permissions of its directory or use --db PATH")
        }
    }

    static func openedReadOnly(path: String, operation: String) -> StoreError {
        StoreError(kind: .readOnly, path: path, message:
            "history database \(path) is read-only (\(operation) needs to write): fix permissions of the file and its directory or use --db PATH")
    }

    static func closed(path: String) -> StoreError {
        StoreError(kind: .other, path: path, message: "history database \(path) is closed (programming error: used after close())")
    }

    static func unexpectedValue(path: String, column: String, value: String) -> StoreError {
        StoreError(kind: .corrupt, path: path, message:
            "\(path) holds an unexpected value \"\(value)\" in \(column) (written by a newer winfleet, or damaged): upgrade winfleet, or move it aside (mv \(shellQuoted(path)) \(shellQuoted(path + ".bad"))) and a new one will be created")
    }
}

/// Quotes a path for a shell command shown to the operator, only when it needs quoting.
func shellQuoted(_ text: String) -> String {
    let plain = text.unicodeScalars.allSatisfy {
        CharacterSet.alphanumerics.contains($0) || "/._-+~:,@%=".unicodeScalars.contains($0)
    }
    if plain && !text.isEmpty { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
