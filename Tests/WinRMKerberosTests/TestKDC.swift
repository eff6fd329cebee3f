import Foundation
import XCTest

/// A real MIT KDC for one test class, started and stopped through scripts/test-kdc in a
/// temporary directory. Missing KDC tools make `start` throw, which fails the test: the
/// Kerberos suite never skips silently.
final class TestKDC {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let directory: URL
    let realm: String
    let domain: String
    let port: Int
    let user: String
    let password: String
    let keytab: String
    let krb5Config: String
    private var running = true

    static let defaultPassword = "Operator-Pass-1"

    /// The repository root, found from this file even when the test directory is reached
    /// through the dev package's symlink.
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var script: URL { repositoryRoot.appendingPathComponent("scripts/test-kdc") }

    static func start(realm: String = "WINFLEET.TEST", hosts: [String], rc4Hosts: [String] = [],
                      timeOffset: Int? = nil) throws -> TestKDC {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("winfleet-kdc-\(UUID().uuidString.prefix(8))")
        var arguments = ["start", directory.path, "--realm", realm, "--hosts", hosts.joined(separator: " ")]
        if !rc4Hosts.isEmpty { arguments += ["--rc4-hosts", rc4Hosts.joined(separator: " ")] }
        if let timeOffset { arguments += ["--time-offset", String(timeOffset)] }
        let output = try run(script.path, arguments, environment: ["TEST_KDC_PASSWORD": defaultPassword])
        guard output.status == 0 else {
            throw Failure(description: "scripts/test-kdc start failed (\(output.status)): \(output.stderr)")
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
    func activate() {
        setenv("KRB5_CONFIG", krb5Config, 1)
        unsetenv("KRB5CCNAME")
    }

    func stop() throws {
        guard running else { return }
        running = false
        let output = try Self.run(Self.script.path, ["stop", directory.path], environment: [:])
        guard output.status == 0 else {
            throw Failure(description: "scripts/test-kdc stop failed: \(output.stderr)")
        }
    }

    /// Kills the KDC but keeps the realm's files (krb5.conf still points at the dead port).
    func stopKDCOnly() throws {
        let pidText = try String(contentsOf: directory.appendingPathComponent("kdc.pid"), encoding: .utf8)
        guard let pid = Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw Failure(description: "no KDC pid in \(directory.path)")
        }
        kill(pid, SIGTERM)
        for _ in 0 ..< 50 where kill(pid, 0) == 0 { Thread.sleep(forTimeInterval: 0.05) }
        guard kill(pid, 0) != 0 else { throw Failure(description: "KDC \(pid) did not stop") }
    }

    func fqdn(_ host: String) -> String { "\(host).\(domain)" }
    func hostBasedName(_ host: String) -> String { "HTTP@\(fqdn(host))" }
    func servicePrincipal(_ host: String) -> String { "HTTP/\(fqdn(host))@\(realm)" }
    func hostKeytab(_ host: String) -> String { directory.appendingPathComponent("keytabs/\(host).keytab").path }

    /// Runs the real kinit with the password on stdin, into `cache`.
    func kinit(cache: String, lifetime: String? = nil, password: String? = nil) throws {
        var arguments: [String] = []
        if let lifetime { arguments += ["-l", lifetime] }
        arguments.append(user)
        let output = try Self.run(try Self.tool("kinit"), arguments,
                                  environment: ["KRB5_CONFIG": krb5Config, "KRB5CCNAME": cache],
                                  stdin: (password ?? self.password) + "\n")
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
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus,
                      stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self))
    }
}
