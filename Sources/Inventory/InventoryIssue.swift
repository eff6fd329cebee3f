import Foundation

/// One problem found in an inventory file: where (file, JSON path, line/column), what, and what to do.
///
/// Printed as `inventory.json: hosts[3].auth: "kerbros" is not one of basic, ntlm, kerberos, negotiate — fix the value`
/// (or `inventory.json:4:17: …` for a JSON syntax error, which has no path).
public struct InventoryIssue: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The file name as given to the loader.
    public var file: String
    /// JSON path such as `hosts[3].auth` or `routes.squid.proxy`; empty for file-level problems.
    public var path: String
    /// 1-based line and column of the offending value, when known.
    public var line: Int?
    public var column: Int?
    /// What is wrong.
    public var message: String
    /// What to do about it.
    public var fix: String

    public init(file: String, path: String, line: Int? = nil, column: Int? = nil, message: String, fix: String) {
        self.file = file
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        self.fix = fix
    }

    public var description: String {
        var location = file
        if path.isEmpty, let line {
            location += ":\(line)"
            if let column { location += ":\(column)" }
        }
        if !path.isEmpty { location += ": \(path)" }
        return "\(location): \(message) — \(fix)"
    }
}

/// An inventory that cannot be used, with every problem found (not just the first).
public struct InventoryError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    public var file: String
    public var issues: [InventoryIssue]

    public init(file: String, issues: [InventoryIssue]) {
        self.file = file
        self.issues = issues
    }

    /// One issue per line.
    public var description: String { issues.map(\.description).joined(separator: "\n") }
    public var errorDescription: String? { description }

    /// The issue at a JSON path, if any (convenient in tests and in `check`).
    public func issue(at path: String) -> InventoryIssue? { issues.first { $0.path == path } }
}
