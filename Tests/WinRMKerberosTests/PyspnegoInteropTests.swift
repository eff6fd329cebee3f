import Foundation
import TestSupport
import XCTest
@testable import WinRMKerberos

/// Our contexts against pyspnego, the library pypsrp and pywinrm use for Kerberos and the
/// reference for `wrap_winrm`/`unwrap_winrm`: its client against our server and our client
/// against its server, over a line protocol (base64 per line) on the Python process's
/// stdin/stdout. Needs `pip install "pyspnego[kerberos]"` (python-gssapi + krb5); its
/// absence fails the test.
final class PyspnegoInteropTests: KDCTestCase {
    private var scratch: URL!

    override class func startRealm() throws -> TestKDC {
        try TestKDC.start(realm: "PY.WINFLEET.TEST", hosts: ["win0001"])
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("krb-py-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let check = try TestKDC.run(try python(), ["-c", "import spnego, gssapi, krb5; from gssapi.raw import IOV"],
                                    environment: [:])
        guard check.status == 0 else {
            throw TestKDC.Failure(description: "pyspnego with Kerberos support is missing: "
                + "pip install \"pyspnego[kerberos]\" (scripts/setup) — \(check.stderr)")
        }
    }

    override func tearDownWithError() throws {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    private var kdc: TestKDC { realm }

    private static let messages: [Int] = [1, 100 * 1024, 37, 5000]

    func testPyspnegoClientAgainstOurServer() throws {
        for proto in ["negotiate", "kerberos"] {
            let peer = try PythonPeer(script: Self.clientScript, arguments: [proto, kdc.fqdn("win0001")],
                                      environment: pythonEnvironment(), directory: scratch)
            defer { peer.close() }
            let server = try KerberosServerContext(keytab: kdc.keytab, replayCache: "none:")
            var token = try peer.readData()
            while true {
                let (reply, complete) = try server.step(token)
                try peer.write(reply ?? Data())
                if complete { break }
                token = try peer.readData()
            }
            XCTAssertEqual(try peer.readLine(), "COMPLETE kerberos", proto)
            XCTAssertEqual(server.clientPrincipal, kdc.user)
            for size in Self.messages {
                let header = try peer.readData(), payload = try peer.readData()
                XCTAssertEqual(header.count, 60, "\(proto): pyspnego's AES256 header")
                XCTAssertEqual(try server.unwrap(header: header, payload: payload), pattern(size), "\(proto) \(size)")
                let reply = try server.wrap(pattern(size + 1))
                try peer.write(reply.header)
                try peer.write(reply.payload)
                XCTAssertEqual(try peer.readLine(), "OK \(size + 1)", "\(proto): pyspnego unwrapped our message")
            }
        }
    }

    func testOurClientAgainstPyspnegoServer() throws {
        for mechanism in KerberosMechanism.allCases {
            var environment = pythonEnvironment()
            environment["KRB5_KTNAME"] = "FILE:" + kdc.keytab
            let peer = try PythonPeer(script: Self.serverScript, arguments: [kdc.fqdn("win0001")],
                                      environment: environment, directory: scratch)
            defer { peer.close() }
            let client = try KerberosClientContext(targetName: kdc.hostBasedName("win0001"), mechanism: mechanism,
                                                   credential: .password(principal: kdc.user, password: kdc.password))
            var input: Data?
            while true {
                let (token, complete) = try client.step(input)
                if let token {
                    try peer.write(token)
                    let reply = try peer.readData()
                    input = reply.isEmpty ? nil : reply
                }
                if complete { break }
            }
            if let input { _ = try client.step(input) }
            XCTAssertEqual(try peer.readLine(), "COMPLETE \(kdc.user)", "\(mechanism)")
            for size in Self.messages {
                let wrapped = try client.wrap(pattern(size))
                try peer.write(wrapped.header)
                try peer.write(wrapped.payload)
                let header = try peer.readData(), payload = try peer.readData()
                XCTAssertEqual(try client.unwrap(header: header, payload: payload), pattern(size + 2), "\(mechanism) \(size)")
            }
        }
    }

    // MARK: Python side

    /// The same bytes as the script's payload(size): `bytes` seeded with the size.
    private func pattern(_ size: Int) -> Data { bytes(size, seed: UInt8(truncatingIfNeeded: size)) }

    private func python() throws -> String {
        // The python3 on PATH first: that is where scripts/setup's pip installs.
        for candidate in Self.pathCandidates("python3") + ["/usr/local/bin/python3", "/usr/bin/python3"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw TestKDC.Failure(description: "python3 not found")
    }

    private static func pathCandidates(_ name: String) -> [String] {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/\(name)" }
    }

    private func pythonEnvironment() -> [String: String] {
        ["KRB5_CONFIG": kdc.krb5Config, "PEER_USER": kdc.user, "PEER_PASSWORD": kdc.password,
         "PYTHON": (try? python()) ?? "python3"]
    }

    private static let common = """
    import base64, os, sys
    import spnego
    def out(data):
        sys.stdout.write(base64.b64encode(data or b"").decode() + "\\n"); sys.stdout.flush()
    def say(text):
        sys.stdout.write(text + "\\n"); sys.stdout.flush()
    def inp():
        return base64.b64decode(sys.stdin.readline().strip())
    def payload(size, seed=None):
        seed = size & 0xFF if seed is None else seed
        value, out_bytes = seed, bytearray()
        for _ in range(size):
            value = (value * 31 + 17) & 0xFF
            out_bytes.append(2 if value == 1 else value)
        return bytes(out_bytes)
    SIZES = [1, 100 * 1024, 37, 5000]

    """

    /// pyspnego client: handshake, then for each size wrap → our server, our reply → unwrap.
    private static let clientScript = common + """
    proto, host = sys.argv[1], sys.argv[2]
    ctx = spnego.client(os.environ["PEER_USER"], os.environ["PEER_PASSWORD"], hostname=host, service="HTTP",
                        protocol=proto, options=spnego.NegotiateOptions.wrapping_winrm)
    out(ctx.step())
    while not ctx.complete:
        token = ctx.step(inp())
        if token:
            out(token)
    say("COMPLETE " + ctx.negotiated_protocol)
    for size in SIZES:
        wrapped = ctx.wrap_winrm(payload(size))
        out(wrapped.header); out(wrapped.data)
        header, data = inp(), inp()
        plain = ctx.unwrap_winrm(header, data)
        say("OK %d" % len(plain) if plain == payload(size + 1, (size + 1) & 0xFF) else "MISMATCH")
    """

    /// pyspnego server with the keytab from KRB5_KTNAME: handshake, then unwrap ours, wrap a reply.
    private static let serverScript = common + """
    host = sys.argv[1]
    ctx = spnego.server(hostname=host, service="HTTP", protocol="negotiate",
                        options=spnego.NegotiateOptions.wrapping_winrm)
    while not ctx.complete:
        out(ctx.step(inp()))
    say("COMPLETE " + str(ctx.client_principal))
    for size in SIZES:
        header, data = inp(), inp()
        plain = ctx.unwrap_winrm(header, data)
        reply = payload(size + 2, (size + 2) & 0xFF) if plain == payload(size) else b"MISMATCH"
        wrapped = ctx.wrap_winrm(reply)
        out(wrapped.header); out(wrapped.data)
    """
}

/// A Python process spoken to line by line.
final class PythonPeer {
    private let process = Process()
    private let input = Pipe(), output = Pipe(), errors = Pipe()
    private var buffer = Data()

    init(script: String, arguments: [String], environment: [String: String], directory: URL) throws {
        let path = directory.appendingPathComponent("peer-\(UUID().uuidString.prefix(6)).py")
        try script.write(to: path, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: environment["PYTHON"] ?? "/usr/bin/python3")
        process.arguments = [path.path] + arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "KRB5CCNAME")
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
    }

    func write(_ data: Data) throws {
        try input.fileHandleForWriting.write(contentsOf: Data((data.base64EncodedString() + "\n").utf8))
    }

    func readLine() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex ..< newline]
                buffer.removeSubrange(buffer.startIndex ... newline)
                return String(decoding: line, as: UTF8.self)
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw TestKDC.Failure(description: "python peer ended: \(stderr)")
            }
            buffer.append(chunk)
        }
    }

    func readData() throws -> Data {
        let line = try readLine()
        guard let data = Data(base64Encoded: line) else {
            throw TestKDC.Failure(description: "python peer sent no base64: \(line)")
        }
        return data
    }

    func close() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
