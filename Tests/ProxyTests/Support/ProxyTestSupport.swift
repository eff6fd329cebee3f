import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Address plan of this target (other targets use 127.1.0.x and 127.1.40-45.x): each test class or
/// test takes its own third octet in 127.1.20–127.1.29 so that targets running in parallel never meet.
enum ProxyTestAddresses {
    static func host(_ block: Int, _ index: Int) -> String {
        precondition((20...29).contains(block), "ProxyTests use 127.1.20.x–127.1.29.x only")
        return "127.1.\(block).\(index)"
    }
}

/// The repository root, from this file's path (Tests/ProxyTests/Support/ProxyTestSupport.swift).
let proxyTestsRepositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

struct ProxyTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The `winfleet` executable `swift build` made. Missing is a failure, not a skip.
func winfleetBinary() throws -> URL {
    for candidate in [".build/debug/winfleet", ".build/x86_64-unknown-linux-gnu/debug/winfleet",
                      ".build/aarch64-unknown-linux-gnu/debug/winfleet"] {
        let url = proxyTestsRepositoryRoot.appendingPathComponent(candidate)
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    throw ProxyTestError("the winfleet executable is not under \(proxyTestsRepositoryRoot.path)/.build: run `swift build` first")
}

/// A program the tests need (squid, tinyproxy, openssl). Missing is a failure, not a skip.
func requiredTool(_ name: String, directories: [String] = ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"]) throws -> String {
    var searched = directories
    if let path = ProcessInfo.processInfo.environment["PATH"] {
        searched += path.split(separator: ":").map(String.init)
    }
    for directory in searched {
        let candidate = (directory as NSString).appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw ProxyTestError("\(name) is not installed: the proxy tests run against a real \(name) (Debian: apt-get install squid tinyproxy openssl; see scripts/setup)")
}

/// A temporary directory, world-writable so that a proxy that drops root privileges can write its logs.
final class ScratchDirectory {
    let url: URL
    init(_ label: String) throws {
        let clean = label.filter { $0.isLetter || $0.isNumber }
        url = FileManager.default.temporaryDirectory.appendingPathComponent("winfleet-proxy-\(clean.suffix(40))-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        chmod(url.path, 0o777)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func write(_ text: String, to name: String, mode: mode_t = 0o644) throws -> String {
        let path = self.path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, mode)
        return path
    }
    func cleanUp() { try? FileManager.default.removeItem(at: url) }
}

enum Ports {
    /// A TCP port nobody listens on at `address` right now (the kernel picks it).
    static func free(on address: String = "127.0.0.1") throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProxyTestError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var addr = try socketAddress(address, port: 0)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw ProxyTestError("bind \(address):0: \(String(cString: strerror(errno)))") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func socketAddress(_ address: String, port: Int) throws -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, address, &addr.sin_addr) == 1 else { throw ProxyTestError("bad IPv4 address \(address)") }
        return addr
    }

    /// Whether something accepts TCP connections at `address:port`.
    static func isListening(_ address: String, _ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard var addr = try? socketAddress(address, port: port) else { return false }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// Waits until `address:port` accepts connections, or `process` died, or the time is up.
    static func waitUntilListening(_ address: String, _ port: Int, process: SpawnedProcess? = nil, timeout: TimeInterval = 20) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if isListening(address, port) { return true }
            if let process, !process.isRunning { return false }
            usleep(50_000)
        }
        return false
    }
}

/// A child process that ran to its end.
struct FinishedProcess {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `executable` with `arguments` to its end (killed after `timeout`).
func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                timeout: TimeInterval = 120) throws -> FinishedProcess {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("wf-proc-\(UUID().uuidString).out")
    let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("wf-proc-\(UUID().uuidString).err")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(20_000) }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? out.close(); try? err.close()
        throw ProxyTestError("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) did not finish within \(Int(timeout)) s")
    }
    process.waitUntilExit()
    try? out.close(); try? err.close()
    return FinishedProcess(status: process.terminationStatus,
                           stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                           stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
}

/// The environment of a `winfleet` child: no proxy variables unless given, passwords as given,
/// the run history in the scratch directory.
func winfleetEnvironment(stateHome: String, extra: [String: String]) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment
    for key in environment.keys where key.lowercased().hasSuffix("_proxy") { environment[key] = nil }
    environment["XDG_STATE_HOME"] = stateHome
    for (key, value) in extra { environment[key] = value }
    return environment
}

/// An inventory file written from plain dictionaries.
func writeInventoryFile(_ inventory: [String: Any], to path: String) throws {
    let data = try JSONSerialization.data(withJSONObject: inventory, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    try data.write(to: URL(fileURLWithPath: path))
}
