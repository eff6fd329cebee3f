import Foundation
import XCTest
@testable import Inventory

/// Parses inventory JSON written in a test.
func parseInventory(_ json: String, file: String = "inventory.json") throws -> Inventory {
    try Inventory.parse(data: Data(json.utf8), fileName: file)
}

/// The issues of an inventory that must be rejected (fails the test if it loads).
func rejectionIssues(_ json: String, file: StaticString = #filePath, line: UInt = #line) -> [InventoryIssue] {
    do {
        _ = try parseInventory(json)
        XCTFail("inventory was accepted but should be rejected", file: file, line: line)
        return []
    } catch let error as InventoryError {
        return error.issues
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
        return []
    }
}

/// Asserts that the inventory is rejected with an issue at `path` whose message and fix contain the given text.
func assertRejected(_ json: String, path: String, message: String, fix: String,
                    file: StaticString = #filePath, line: UInt = #line) {
    let issues = rejectionIssues(json, file: file, line: line)
    guard let issue = issues.first(where: { $0.path == path }) else {
        XCTFail("no issue at \(path); got:\n\(issues.map(\.description).joined(separator: "\n"))", file: file, line: line)
        return
    }
    XCTAssertTrue(issue.message.contains(message), "message \"\(issue.message)\" lacks \"\(message)\"", file: file, line: line)
    XCTAssertTrue(issue.fix.contains(fix), "fix \"\(issue.fix)\" lacks \"\(fix)\"", file: file, line: line)
    XCTAssertEqual(issue.file, "inventory.json", file: file, line: line)
    if !path.isEmpty {
        XCTAssertTrue(issue.description.hasPrefix("inventory.json: \(path): "), issue.description, file: file, line: line)
    }
}

/// A one-host inventory with the given host fields (JSON object members, without braces).
func singleHost(_ fields: String, routes: String = "{}", credentials: String = #"{"admin": {"username": "CORP\\admin", "password_env": "PW"}}"#) -> String {
    """
    { "credentials": \(credentials),
      "routes": \(routes),
      "hosts": [ { "name": "web01", \(fields) } ] }
    """
}

/// Repository root (Tests/InventoryTests/ → ../..).
let repositoryRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
