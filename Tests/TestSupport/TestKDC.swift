import Foundation
import XCTest

/// A real MIT KDC for one test class (shared by the Kerberos test targets), started and
/// stopped through scripts/test-kdc in a temporary directory. Missing KDC tools make `start`
/// throw, which fails the test: the Kerberos suites never skip silently.
public final class TestKDC {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public let directory: URL
    public let realm: String
    public let domain: String
    public let port: Int
    public let user: String
    public let password: String
    /// Every host's HTTP/ key (DIR/http.keytab).
    public let keytab: String
    public let krb5Config: String
    private var running = true

    public static let defaultPassword = "Operator-Pass-1"
    public static var password: String { defaultPassword }

    /// The repository root, found from this file even when the test directory is reached
    /// through the dev package's symlink.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    public static var script: URL { repositoryRoot.appendingPathComponent("scripts/test-kdc") }

    /// `hosts`: host names (WIN0001 → HTTP/win0001.<realm lower-cased>@REALM).
    /// A start that fails is tried again (twice) on a new random port: on a busy machine the port
    /// test-kdc picked can be taken between its check and the KDC's bind. Missing tools fail every time.
    public static func start(realm: String = "WINFLEET.TEST", hosts: [String], rc4Hosts: [String] = [],
                             timeOffset: Int? = nil) throws -> TestKDC {
        var lastError: Error?
        for _ in 0 ..< 3 {
            do {
                return try startOnce(realm: realm, hosts: hosts, rc4Hosts: rc4Hosts, timeOffset: timeOffset)
            } catch {
                lastError = error
            }
        }
        throw lastError!
    }

    private static func startOnce(realm: String, hosts: [String], rc4Hosts: [String], timeOffset: Int?) throws -> TestKDC {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("winfleet-kdc-\(UUID().uuidString.prefix(8))")
        var arguments = ["start", directory.path, "--realm", realm,
                         "--hosts", hosts.map { $0.lowercased() }.joined(separator: " ")]
        if !rc4Hosts.isEmpty { arguments += ["--rc4-hosts", rc4Hosts.joined(separator: " ")] }
        if let timeOffset { arguments += ["--time-offset", String(timeOffset)] }
        let output = try run(script.path, arguments, environment: ["TEST_KDC_PASSWORD": defaultPassword])
        guard output.status == 0 else {
            _ = try? run(script.path, ["stop", directory.path], environment: [:])
            throw Failure(description: "scripts/test-kdc start failed (\(output.status)): \(output.stderr) — install the MIT KDC with scripts/setup")
        }
        var exports: [String: String] = [:]
        for line in output.stdout.split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst("export ".count)
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            let key = String(assignment[..<equals])
            let value = assignment[assignment.index(after: equals)...].trimmingCharacters(in: CharacterSet(charactersIn: "'"))
            exports[key] = value
        }
        guard let config = exports["KRB5_CONFIG"], let realm = exports["TEST_KDC_REALM"],
              let domain = exports["TEST_KDC_DOMAIN"], let port = exports["TEST_KDC_PORT"].flatMap(Int.init),
              let user = exports["TEST_KDC_USER"], let keytab = exports["TEST_KDC_KEYTAB"] else {
            throw Failure(description: "scripts/test-kdc start printed no usable exports: \(output.stdout)")
        }
        return TestKDC(directory: directory, realm: realm, domain: domain, port: port, user: user,
                       password: defaultPassword, keytab: keytab, krb5Config: config)
    }

    private init(directory: URL, realm: String, domain: String, port: Int, user: String, password: String,
                 keytab: String, krb5Config: String) {
        self.directory = directory
        self.realm = realm
        self.domain = domain
        self.port = port
        self.user = user
        self.password = password
        self.keytab = keytab
        self.krb5Config = krb5Config
    }

    /// Points this process's GSS calls at the realm. MIT reads KRB5_CONFIG whenever a GSS
    /// call creates its krb5 context, so this must happen before creating contexts.
    public func activate() {
        setenv("KRB5_CONFIG", krb5Config, 1)
        unsetenv("KRB5CCNAME")
    }

    public func stop() throws {
        guard running else { return }
        running = false
        let output = try Self.run(Self.script.path, ["stop", directory.path], environment: [:])
        guard output.status == 0 else {
            throw Failure(description: "scripts/test-kdc stop failed: \(output.stderr)")
        }
    }

    /// Kills the KDC but keeps the realm's files (krb5.conf still points at the dead port).
    public func stopKDCOnly() throws {
        let pidText = try String(contentsOf: directory.appendingPathComponent("kdc.pid"), encoding: .utf8)
        guard let pid = Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw Failure(description: "no KDC pid in \(directory.path)")
        }
        kill(pid, SIGTERM)
        for _ in 0 ..< 50 where kill(pid, 0) == 0 { Thread.sleep(forTimeInterval: 0.05) }
        guard kill(pid, 0) != 0 else { throw Failure(description: "KDC \(pid) did not stop") }
    }

    public func fqdn(_ host: String) -> String { "\(host).\(domain)" }
    public func hostBasedName(_ host: String) -> String { "HTTP@\(fqdn(host))" }
    public func servicePrincipal(_ host: String) -> String { "HTTP/\(fqdn(host))@\(realm)" }
    public func hostKeytab(_ host: String) -> String { directory.appendingPathComponent("keytabs/\(host).keytab").path }

    /// Runs the real kinit with the password on stdin, into `cache`.
    public func kinit(cache: String, lifetime: String? = nil, password: String? = nil) throws {
        var arguments: [String] = []
        if let lifetime { arguments += ["-l", lifetime] }
        arguments.append(user)
        let output = try Self.run(try Self.tool("kinit"), arguments,
                                  environment: ["KRB5_CONFIG": krb5Config, "KRB5CCNAME": cache],
                                  stdin: (password ?? self.password) + "\n")
        guard output.status == 0 else { throw Failure(description: "kinit failed: \(output.stderr)") }
    }

    public static func tool(_ name: String) throws -> String {
        for directory in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/bin", "/sbin"] {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw Failure(description: "\(name) not found: install krb5-user (scripts/setup)")
    }

    public struct Output { public var status: Int32; public var stdout: String; public var stderr: String }

    public static func run(_ executable: String, _ arguments: [String], environment: [String: String],
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
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errBox.data, as: UTF8.self))
    }
}

/// "WIN0001" … "WIN00nn", the simulator's host names.
public func simHostNames(_ count: Int) -> [String] {
    (1 ... count).map { String(format: "WIN%04d", $0) }
}
