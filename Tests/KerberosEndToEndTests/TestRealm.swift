import Foundation
import XCTest

/// A throwaway MIT realm with a real KDC on loopback, started through scripts/test-kdc for one
/// test class and stopped after it. Missing KDC tools make `start` throw, and every test of the
/// class then fails (never a silent skip).
final class TestRealm {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let directory: URL
    let realm: String
    let user: String
    let password: String
    /// Every host's HTTP/ key (DIR/http.keytab).
    let keytab: String
    let krb5Config: String
    private var running = true

    static let password = "Operator-Pass-1"

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `hosts`: simulator host names (WIN0001 → HTTP/win0001.<realm lower-cased>@REALM).
    /// A start that fails is tried again (twice) on a new random port: on a busy machine the port
    /// test-kdc picked can be taken between its check and the KDC's bind. Missing tools fail every time.
    static func start(realm: String, hosts: [String], timeOffset: Int? = nil) throws -> TestRealm {
        var lastError: Error?
        for _ in 0 ..< 3 {
            do {
                return try startOnce(realm: realm, hosts: hosts, timeOffset: timeOffset)
            } catch {
                lastError = error
            }
        }
        throw lastError!
    }

    private static func startOnce(realm: String, hosts: [String], timeOffset: Int?) throws -> TestRealm {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("winfleet-kdc-e2e-\(UUID().uuidString.prefix(8))")
        var arguments = ["start", directory.path, "--realm", realm,
                         "--hosts", hosts.map { $0.lowercased() }.joined(separator: " ")]
        if let timeOffset { arguments += ["--time-offset", String(timeOffset)] }
        let script = repositoryRoot.appendingPathComponent("scripts/test-kdc").path
        let output = try run(script, arguments, environment: ["TEST_KDC_PASSWORD": password])
        guard output.status == 0 else {
            _ = try? run(script, ["stop", directory.path], environment: [:])
            throw Failure(description: "scripts/test-kdc start failed (\(output.status)): \(output.stderr) — install the MIT KDC with scripts/setup")
        }
        var exports: [String: String] = [:]
        for line in output.stdout.split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst("export ".count)
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            exports[String(assignment[..<equals])] = assignment[assignment.index(after: equals)...]
                .trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        }
        guard let config = exports["KRB5_CONFIG"], let realmName = exports["TEST_KDC_REALM"],
              let user = exports["TEST_KDC_USER"], let keytab = exports["TEST_KDC_KEYTAB"] else {
            throw Failure(description: "scripts/test-kdc start printed no usable exports: \(output.stdout)")
        }
        return TestRealm(directory: directory, realm: realmName, user: user, keytab: keytab, krb5Config: config)
    }

    private init(directory: URL, realm: String, user: String, keytab: String, krb5Config: String) {
        self.directory = directory
        self.realm = realm
        self.user = user
        self.password = Self.password
        self.keytab = keytab
        self.krb5Config = krb5Config
    }

    /// Points this process's GSS calls (our client and the simulator's acceptors) at the realm.
    func activate() {
        setenv("KRB5_CONFIG", krb5Config, 1)
        unsetenv("KRB5CCNAME")
    }

    func stop() {
        guard running else { return }
        running = false
        let script = Self.repositoryRoot.appendingPathComponent("scripts/test-kdc").path
        _ = try? Self.run(script, ["stop", directory.path], environment: [:])
    }

    /// Kills the KDC but keeps krb5.conf (which still names the dead port).
    func stopKDCOnly() throws {
        let text = try String(contentsOf: directory.appendingPathComponent("kdc.pid"), encoding: .utf8)
        guard let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw Failure(description: "no KDC pid in \(directory.path)")
        }
        kill(pid, SIGTERM)
        for _ in 0 ..< 100 where kill(pid, 0) == 0 { Thread.sleep(forTimeInterval: 0.05) }
        guard kill(pid, 0) != 0 else { throw Failure(description: "KDC \(pid) did not stop") }
    }

    /// The real kinit, password on stdin, into `cache` ("FILE:/path").
    func kinit(cache: String, lifetime: String? = nil) throws {
        var arguments: [String] = []
        if let lifetime { arguments += ["-l", lifetime] }
        arguments.append(user)
        let output = try Self.run(try Self.tool("kinit"), arguments,
                                  environment: ["KRB5_CONFIG": krb5Config, "KRB5CCNAME": cache], stdin: password + "\n")
        guard output.status == 0 else { throw Failure(description: "kinit failed: \(output.stderr)") }
    }

    static func tool(_ name: String) throws -> String {
        for directory in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/bin", "/sbin"] {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw Failure(description: "\(name) not found: install krb5-user (scripts/setup)")
    }

    struct Output { var status: Int32; var stdout: String; var stderr: String }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String],
                    stdin: String? = nil) throws -> Output {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw Failure(description: "\(executable) is missing or not executable")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "KRB5CCNAME")
        env.merge(environment) { _, new in new }
        process.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Both pipes drained concurrently: a chatty child must not block on a full stderr pipe.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let errDone = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile()
            errDone.signal()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        errDone.wait()
        let errData = errBox.data
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// "WIN0001" … "WIN00nn", the simulator's host names.
func simHostNames(_ count: Int) -> [String] {
    (1 ... count).map { String(format: "WIN%04d", $0) }
}
