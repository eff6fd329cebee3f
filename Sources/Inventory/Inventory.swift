import Foundation

/// The fleet as described by an inventory file: hosts (defaults applied), routes and credentials.
///
/// Load it with `Inventory.load(path:)`; every problem in the file is reported at once in an
/// `InventoryError`. Non-fatal findings (an inline password, `tls.verify: false`, …) are in `warnings`.
public struct Inventory: Sendable, Equatable {
    /// Hosts in file order.
    public var hosts: [InventoryHost]
    /// Routes by name. Always contains `direct` (implicit when the file defines no route of that name).
    public var routes: [String: Route]
    /// Credentials by name.
    public var credentials: [String: Credential]
    /// Non-fatal findings, in file order (for `winfleet check`).
    public var warnings: [InventoryIssue]
    /// The file name the inventory was loaded from (as given).
    public var fileName: String

    public init(hosts: [InventoryHost], routes: [String: Route] = [:], credentials: [String: Credential] = [:],
                warnings: [InventoryIssue] = [], fileName: String = "inventory.json") {
        self.hosts = hosts
        var routes = routes
        if routes[Route.implicitDirectName] == nil { routes[Route.implicitDirectName] = .direct }
        self.routes = routes
        self.credentials = credentials
        self.warnings = warnings
        self.fileName = fileName
    }

    /// Reads and validates an inventory file. Relative `password_file` and `ca_file` paths are taken
    /// relative to the file's directory.
    public static func load(path: String) throws -> Inventory {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw InventoryError(file: path, issues: [InventoryIssue(
                file: path, path: "", message: "the inventory file cannot be read (\(Inventory.readFailureReason(path)))",
                fix: "check the path, or pass --inventory PATH")])
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try parse(data: data, fileName: path, baseDirectory: directory.isEmpty ? "." : directory)
    }

    /// Validates inventory JSON. `fileName` is used in messages; relative paths inside the file are
    /// resolved against `baseDirectory` when given, else left relative to the working directory.
    public static func parse(data: Data, fileName: String, baseDirectory: String? = nil) throws -> Inventory {
        var loader = InventoryLoader(data: data, fileName: fileName, baseDirectory: baseDirectory)
        return try loader.load()
    }

    /// The host with this name (case-insensitive, as host names are in Windows and DNS).
    public func host(named name: String) -> InventoryHost? {
        let key = name.lowercased()
        return hosts.first { $0.name.lowercased() == key }
    }

    /// Every group name used by a host, sorted.
    public var groupNames: [String] {
        Array(Set(hosts.flatMap(\.groups))).sorted()
    }

    /// Hosts of a group, in inventory order.
    public func hosts(inGroup group: String) -> [InventoryHost] {
        hosts.filter { $0.groups.contains(group) }
    }

    /// Hosts using a route, in inventory order.
    public func hosts(onRoute route: String) -> [InventoryHost] {
        hosts.filter { $0.routeName == route }
    }

    private static func readFailureReason(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return "no such file" }
        if isDirectory.boolValue { return "it is a directory" }
        return "permission denied"
    }
}
