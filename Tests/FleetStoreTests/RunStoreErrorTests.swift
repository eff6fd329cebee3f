import Foundation
import XCTest
@testable import FleetStore

/// Each failure of the file becomes a `StoreError` of the right kind whose message names the path and the fix.
final class RunStoreErrorTests: XCTestCase {
    /// Tests run as root here, and root writes through chmod 0444. So the read-only cases use a real
    /// SQLITE_OPEN_READONLY connection (the `readOnly` option, which `winfleet history` can use too); the
    /// permission case runs only as a non-root user.
    func testReadOnlyOpenRefusesWritesWithClearError() throws {
        let temp = try TemporaryDirectory()
        let path = temp.file("history.sqlite")
        let writer = try RunStore(path: path)
        let id = try writer.beginRun(sampleRun())
        writer.close()

        let reader = try RunStore(path: path, options: .init(readOnly: true))
        defer { reader.close() }
        XCTAssertEqual(try reader.run(id: id)?.run.command, sampleRun().command, "reading works")
        let fix = ["is read-only", "fix permissions", "--db PATH"]
        assertStoreError(.readOnly, path: path, containing: fix) { try reader.beginRun(sampleRun()) }
        assertStoreError(.readOnly, path: path, containing: fix) { try reader.record(result: sampleResult(runID: id)) }
        assertStoreError(.readOnly, path: path, containing: fix) {
            try reader.finishRun(id: id, status: .completed, finishedAt: Date())
        }
    }

    func testSQLiteReadOnlyErrorIsMapped() throws {
        let temp = try TemporaryDirectory()
        let path = temp.file("history.sqlite")
        try RunStore(path: path).close()
        // Bypass the store's own guard: SQLite itself refuses the write with SQLITE_READONLY.
        let raw = try SQLiteConnection(path: path, readOnly: true)
        defer { raw.close() }
        assertStoreError(.readOnly, path: path, containing: ["is read-only", "--db PATH"]) {
            try raw.execute("INSERT INTO session_events (host, at, kind, detail) VALUES ('h', 0, 'k', '')",
                            operation: "test")
        }
    }

    func testReadOnlyOpenOfDatabaseThatNeedsSchemaIsRefused() throws {
        let temp = try TemporaryDirectory()
        let path = temp.file("history.sqlite")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data()))
        assertStoreError(.readOnly, path: path, containing: ["upgrading the schema"]) {
            try RunStore(path: path, options: .init(readOnly: true))
        }
    }

    func testFileWithoutWritePermissionIsReadOnly() throws {
        try XCTSkipIf(geteuid() == 0, "root writes through file permissions")
        let temp = try TemporaryDirectory()
        let path = temp.file("history.sqlite")
        try RunStore(path: path).close()
        XCTAssertEqual(chmod(path, 0o444), 0)
        assertStoreError(.readOnly, path: path, containing: ["fix permissions", "--db PATH"]) {
            try RunStore(path: path)
        }
    }

    func testDirectoryThatCannotBeCreatedIsCannotOpen() throws {
        let temp = try TemporaryDirectory()
        let blocker = temp.file("state")
        XCTAssertTrue(FileManager.default.createFile(atPath: blocker, contents: Data("a file".utf8)))
        let path = temp.file("state/winfleet/history.sqlite")
        assertStoreError(.cannotOpen, path: path,
                         containing: ["cannot create directory \(blocker)", "Not a directory", "--db PATH"]) {
            try RunStore(path: path)
        }
    }

    func testMissingFileOpenedReadOnlyIsCannotOpen() throws {
        let temp = try TemporaryDirectory()
        let path = temp.file("missing.sqlite")
        assertStoreError(.cannotOpen, path: path, containing: ["cannot open", "--db PATH"]) {
            try RunStore(path: path, options: .init(readOnly: true))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    func testWriteLockHeldByAnotherProcessIsLockedAfterBusyTimeout() throws {
        let temp = try TemporaryDirectory()
        let path = temp.file("history.sqlite")
        try RunStore(path: path).close()

        let other = try SQLiteConnection(path: path, readOnly: false)  // "another winfleet"
        defer { other.close() }
        try other.execute("BEGIN EXCLUSIVE", operation: "test")

        // Opening an up-to-date database needs no write lock: a second winfleet can start and read.
        let store = try RunStore(path: path, options: .init(busyTimeout: 0.2))
        defer { store.close() }
        XCTAssertEqual(try store.runs(last: 1), [])

        let started = Date()
        assertStoreError(.locked, path: path, containing: ["another winfleet holds it", "wait", "--db PATH"]) {
            try store.beginRun(sampleRun())
        }
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.15, "waited for the busy timeout")

        try other.execute("COMMIT", operation: "test")
        XCTAssertNoThrow(try store.beginRun(sampleRun()), "works once the other writer is done")
    }

    func testMigrationWhileAnotherProcessHoldsTheFileIsLocked() throws {
        let temp = try TemporaryDirectory()
        let path = temp.file("history.sqlite")
        let other = try SQLiteConnection(path: path, readOnly: false, create: true)
        defer { other.close() }
        try other.execute("BEGIN EXCLUSIVE", operation: "test")  // rollback journal mode: blocks readers too

        assertStoreError(.locked, path: path, containing: ["another winfleet"]) {
            try RunStore(path: path, options: .init(busyTimeout: 0.1))
        }
    }

    func testFullDiskIsReportedAndTheStoreKeepsWorking() throws {
        let temp = try TemporaryDirectory()
        let path = temp.file("history.sqlite")
        let store = try RunStore(path: path)
        defer { store.close() }
        let id = try store.beginRun(sampleRun())
        // SQLITE_FULL without filling the real disk: cap the database at 40 pages more than it has.
        try store.withConnectionForTesting { connection in
            let pages = try connection.scalarInt("PRAGMA page_count", operation: "test")
            _ = try connection.scalarInt("PRAGMA max_page_count = \(pages + 40)", operation: "test")
        }
        assertStoreError(.full, path: path,
                         containing: ["the disk holding", "is full", "free space", "results of this run are still printed"]) {
            try store.record(result: sampleResult(runID: id, stdout: Data(repeating: 0x41, count: 1_048_576)))
        }
        assertStoreError(.full, path: path) {
            try store.record(results: (0..<10).map {
                sampleResult(runID: id, host: "h\($0)", stdout: Data(repeating: 0x42, count: 100_000))
            })
        }
        XCTAssertEqual(try store.results(runID: id), [], "the failed transactions left nothing behind")
        try store.record(result: sampleResult(runID: id))
        XCTAssertEqual(try store.results(runID: id).count, 1)
    }

    func testErrorMessagesQuotePathsForTheShell() {
        let error = StoreError.notWinfleet(path: "/home/ann/my state/h'y.sqlite", reason: "test")
        XCTAssertTrue(error.message.contains(#"mv '/home/ann/my state/h'\''y.sqlite' '/home/ann/my state/h'\''y.sqlite.bad'"#),
                      error.message)
        XCTAssertEqual(shellQuoted("/plain/path-1.sqlite"), "/plain/path-1.sqlite")
    }
}
