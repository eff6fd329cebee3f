import Foundation
import XCTest
@testable import FleetStore

final class RunStoreSchemaTests: XCTestCase {
    func testDefaultPathFollowsXDGStateHomeThenHome() {
        XCTAssertEqual(RunStore.defaultPath(environment: ["XDG_STATE_HOME": "/srv/state", "HOME": "/home/ann"]),
                       "/srv/state/winfleet/history.sqlite")
        XCTAssertEqual(RunStore.defaultPath(environment: ["HOME": "/home/ann"]),
                       "/home/ann/.local/state/winfleet/history.sqlite")
        // The XDG specification says relative paths are invalid and must be ignored.
        XCTAssertEqual(RunStore.defaultPath(environment: ["XDG_STATE_HOME": "state", "HOME": "/home/ann"]),
                       "/home/ann/.local/state/winfleet/history.sqlite")
        XCTAssertEqual(RunStore.defaultPath(environment: ["XDG_STATE_HOME": "", "HOME": "/home/ann/"]),
                       "/home/ann/.local/state/winfleet/history.sqlite")
    }

    func testCreatesPrivateDirectoriesAndFileInWALModeAtLatestVersion() throws {
        let temp = try TemporaryDirectory()
        let path = temp.file("state/winfleet/history.sqlite")
        let store = try RunStore(path: path)
        defer { store.close() }

        XCTAssertEqual(store.journalMode, "wal")
        XCTAssertEqual(store.recoveredInterruptedRuns, [])
        for directory in [temp.file("state"), temp.file("state/winfleet")] {
            XCTAssertEqual(try permissions(of: directory), 0o700, directory)
        }
        XCTAssertEqual(try permissions(of: path), 0o600)
        _ = try store.beginRun(sampleRun())
        XCTAssertEqual(try permissions(of: path + "-wal"), 0o600, "the WAL holds outputs too")

        let raw = try SQLiteConnection(path: path, readOnly: true)
        defer { raw.close() }
        XCTAssertEqual(try raw.scalarInt("PRAGMA user_version", operation: "test"), Int64(StoreSchema.latestVersion))
        XCTAssertEqual(try raw.scalarInt("PRAGMA application_id", operation: "test"), StoreSchema.applicationID)
        XCTAssertEqual(try raw.scalarText("PRAGMA journal_mode", operation: "test"), "wal")
    }

    func testReopenKeepsRunsAndDoesNotMigrateAgain() throws {
        let temp = try TemporaryDirectory()
        let path = temp.file("history.sqlite")
        let store = try RunStore(path: path)
        let id = try store.beginRun(sampleRun())
        try store.record(result: sampleResult(runID: id))
        try store.finishRun(id: id, status: .completed, finishedAt: storeTime(1_700_000_002))
        store.close()

        let reopened = try RunStore(path: path)
        defer { reopened.close() }
        let summary = try XCTUnwrap(try reopened.run(id: id))
        XCTAssertEqual(summary.run.status, .completed)
        XCTAssertEqual(summary.counts, ResultCounts(ok: 1))
        XCTAssertEqual(try reopened.results(runID: id), [sampleResult(runID: id)])
    }

    func testMigrationAppliesOnlyNewStepsAndKeepsData() throws {
        let temp = try TemporaryDirectory()
        let path = temp.file("history.sqlite")
        let store = try RunStore(path: path)
        let id = try store.beginRun(sampleRun())
        store.close()

        let nextVersion = StoreSchema.migrations + [
            SchemaMigration(version: StoreSchema.latestVersion + 1,
                            sql: "ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT 'migrated';"),
        ]
        let connection = try SQLiteConnection(path: path, readOnly: false)
        try StoreSchema.migrate(connection, migrations: nextVersion, readOnly: false)
        // Migrating again is a no-op (the ALTER TABLE would fail if run twice).
        try StoreSchema.migrate(connection, migrations: nextVersion, readOnly: false)
        XCTAssertEqual(try connection.scalarInt("PRAGMA user_version", operation: "test"),
                       Int64(StoreSchema.latestVersion + 1))
        XCTAssertEqual(try connection.scalarText("SELECT note FROM runs WHERE id = \(id)", operation: "test"), "migrated")
        connection.close()

        // That database is now newer than this build's schema.
        assertStoreError(.tooNew, path: path, containing: ["upgrade winfleet", "--db PATH"]) {
            try RunStore(path: path)
        }
    }

    func testDatabaseFromNewerWinfleetIsRefused() throws {
        let temp = try TemporaryDirectory()
        let path = temp.file("history.sqlite")
        try RunStore(path: path).close()
        let raw = try SQLiteConnection(path: path, readOnly: false)
        try raw.execute("PRAGMA user_version = 99", operation: "test")
        raw.close()

        assertStoreError(.tooNew, path: path,
                         containing: ["schema version 99", "knows up to \(StoreSchema.latestVersion)", "upgrade winfleet"]) {
            try RunStore(path: path)
        }
    }

    func testGarbageFileIsReportedCorruptWithMoveAsideFix() throws {
        let temp = try TemporaryDirectory()
        let path = temp.file("history.sqlite")
        var garbage = Data("this is not an SQLite file, just text the user saved here\n".utf8)
        while garbage.count < 16384 { garbage.append(UInt8.random(in: 0...255)) }
        try garbage.write(to: URL(fileURLWithPath: path))

        assertStoreError(.corrupt, path: path,
                         containing: ["is not a winfleet database or is damaged", "mv \(path) \(path).bad",
                                      "a new one will be created"]) {
            try RunStore(path: path)
        }
        // Nothing was written into the user's file.
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), garbage)
    }

    func testDamagedPageIsReportedCorrupt() throws {
        let temp = try TemporaryDirectory()
        let path = temp.file("history.sqlite")
        let store = try RunStore(path: path)
        let id = try store.beginRun(sampleRun())
        for index in 0..<200 {
            try store.record(result: sampleResult(runID: id, host: "web\(index)", stdout: Data(repeating: 65, count: 2000)))
        }
        store.close()  // checkpoints the WAL into the main file

        // Overwrite pages 2... (the tables' b-tree pages) with garbage; keep the header page intact.
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
        handle.seek(toFileOffset: 4096)
        handle.write(Data(repeating: 0xA5, count: 4096 * 8))  // 0xA5 is no valid b-tree page type
        handle.closeFile()

        // Opening only reads the header and sqlite_schema (page 1); the damage shows when reading the run.
        do {
            let reopened = try RunStore(path: path)
            defer { reopened.close() }
            assertStoreError(.corrupt, path: path, containing: ["mv "]) {
                _ = try reopened.results(runID: id)
                _ = try reopened.runs(last: 10)
            }
        } catch let error as StoreError {
            print("damage found while opening: \(error.message)")
            XCTAssertEqual(error.kind, .corrupt, error.message)
        }
    }

    func testForeignSQLiteDatabaseIsNotWrittenInto() throws {
        let temp = try TemporaryDirectory()
        let path = temp.file("notes.sqlite")
        let raw = try SQLiteConnection(path: path, readOnly: false, create: true)
        try raw.execute("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('keep me');", operation: "test")
        raw.close()

        assertStoreError(.corrupt, path: path, containing: ["another program", "move it aside"]) {
            try RunStore(path: path)
        }
        let check = try SQLiteConnection(path: path, readOnly: true)
        defer { check.close() }
        XCTAssertEqual(try check.scalarInt("SELECT count(*) FROM sqlite_schema", operation: "test"), 1)
        XCTAssertEqual(try check.scalarInt("PRAGMA user_version", operation: "test"), 0)
    }

    func testEmptyExistingFileBecomesANewDatabase() throws {
        let temp = try TemporaryDirectory()
        let path = temp.file("history.sqlite")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data()))
        let store = try RunStore(path: path)
        defer { store.close() }
        XCTAssertEqual(try store.runs(last: 5), [])
    }

    private func permissions(of path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }
}
