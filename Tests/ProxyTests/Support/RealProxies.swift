import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A real squid on a loopback port, with its own configuration, logs and pid file in a scratch
/// directory. Runs in the foreground (`-N`); as root it drops to an unprivileged user.
final class SquidProxy {
    struct Options {
        /// Basic proxy authentication with these users (password file made with `openssl passwd -apr1`).
        var basicUsers: [String: String] = [:]
        /// Digest proxy authentication with these users (`digest_file_auth`, plain-text password file).
        var digestUsers: [String: String] = [:]
        /// NTLM proxy authentication through squid's `ntlm_fake_auth` (any credentials pass: this
        /// exercises the connection-based handshake with the proxy, not a password check).
        var ntlmFakeAuth = false
        /// Serve TLS to clients (an `https://` proxy, `https_port`) with a certificate made by openssl;
        /// its PEM is `certificatePath`.
        var tls = false
        /// `http_port … connection-auth=`: pin client and server connections for NTLM/Negotiate.
        var connectionAuth = true
        var clientPersistentConnections = true
        var serverPersistentConnections = true
        /// Ports CONNECT may reach.
        var connectPorts = [5985, 5986]
    }

    let port: Int
    let address = "127.0.0.1"
    let directory: ScratchDirectory
    let options: Options
    private var process: SpawnedProcess!

    var url: String { "\(options.tls ? "https" : "http")://\(address):\(port)" }
    /// The proxy's own certificate (with `tls`): the client's `proxy_tls.ca_file`.
    var certificatePath: String { directory.path("proxy-cert.pem") }
    var accessLogPath: String { directory.path("access.log") }
    var cacheLogPath: String { directory.path("cache.log") }

    init(directory: ScratchDirectory, options: Options = Options()) throws {
        self.directory = directory
        self.options = options
        port = try Ports.free()
        let squid = try requiredTool("squid")
        var listener = "http_port \(address):\(port) connection-auth=\(options.connectionAuth ? "on" : "off")"
        if options.tls {
            try Self.makeCertificate(certificate: certificatePath, key: directory.path("proxy-key.pem"), address: address)
            listener = "https_port \(address):\(port) tls-cert=\(certificatePath) tls-key=\(directory.path("proxy-key.pem")) connection-auth=\(options.connectionAuth ? "on" : "off")"
        }
        var lines = [
            listener,
            "pid_filename \(directory.path("squid.pid"))",
            "access_log stdio:\(accessLogPath)",
            "cache_log \(cacheLogPath)",
            "cache_store_log none",
            "cache deny all",
            "cache_mem 8 MB",
            "coredump_dir \(directory.url.path)",
            "visible_hostname winfleet-proxy-test",
            "shutdown_lifetime 0 seconds",
            "pinger_enable off",
            "icp_port 0",
            "strip_query_terms off",
            "logfile_rotate 0",
            "client_persistent_connections \(options.clientPersistentConnections ? "on" : "off")",
            "server_persistent_connections \(options.serverPersistentConnections ? "on" : "off")",
            "acl winrm_ports port \(options.connectPorts.map(String.init).joined(separator: " "))",
            "acl CONNECT method CONNECT",
            "http_access deny CONNECT !winrm_ports",
        ]
        if getuid() == 0 {
            // squid refuses to keep running as root; the scratch directory is writable for this user.
            lines.append("cache_effective_user \(Self.unprivilegedUser())")
        }
        if options.ntlmFakeAuth {
            lines += [
                "auth_param ntlm program \(try Self.authHelper("ntlm_fake_auth"))",
                "auth_param ntlm children 2",
                "acl authenticated proxy_auth REQUIRED",
                "http_access deny !authenticated",
                "http_access allow authenticated",
            ]
        } else if options.basicUsers.isEmpty && options.digestUsers.isEmpty {
            lines.append("http_access allow all")
        } else if !options.digestUsers.isEmpty {
            let helper = try Self.authHelper("digest_file_auth")
            let passwords = try directory.write(options.digestUsers.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)\n" }.joined(),
                                                to: "digest-passwords")
            lines += [
                "auth_param digest program \(helper) \(passwords)",
                "auth_param digest children 2",
                "auth_param digest realm winfleet-proxy-test",
                "acl authenticated proxy_auth REQUIRED",
                "http_access deny !authenticated",
                "http_access allow authenticated",
            ]
        } else {
            let helper = try Self.authHelper("basic_ncsa_auth")
            var passwordFile = ""
            for (user, password) in options.basicUsers.sorted(by: { $0.key < $1.key }) {
                passwordFile += "\(user):\(try Self.apr1Hash(password))\n"
            }
            let passwords = try directory.write(passwordFile, to: "passwords")
            lines += [
                "auth_param basic program \(helper) \(passwords)",
                "auth_param basic children 2",
                "auth_param basic realm winfleet-proxy-test",
                "acl authenticated proxy_auth REQUIRED",
                "http_access deny !authenticated",
                "http_access allow authenticated",
            ]
        }
        let config = try directory.write(lines.joined(separator: "\n") + "\n", to: "squid.conf")
        process = try SpawnedProcess(squid, ["-N", "-n", "wf\(port)", "-f", config], outputPath: directory.path("squid.out"))
        guard Ports.waitUntilListening(address, port, process: process) else {
            stop()
            throw ProxyTestError("squid did not start on \(address):\(port): \(tail(cacheLogPath))\(tail(directory.path("squid.out")))")
        }
    }

    /// The access log so far (squid writes each line when a transaction ends).
    func accessLog() -> String {
        (try? String(contentsOfFile: accessLogPath, encoding: .utf8)) ?? ""
    }

    /// The access log without the lines of connections that sent no request at all (the readiness
    /// probe of `init` is one; a client that sent anything is logged with its method).
    func requestLog() -> String {
        accessLog().split(separator: "\n").filter { !$0.contains("error:transaction-end-before-headers") }
            .map { $0 + "\n" }.joined()
    }

    /// Waits until the access log has a line containing `text` (squid logs a tunnel when it closes).
    @discardableResult
    func waitForAccessLog(containing text: String, timeout: TimeInterval = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if accessLog().contains(text) { return true }
            usleep(50_000)
        }
        return false
    }

    /// SIGINT: squid's immediate shutdown (SIGTERM waits for open connections to finish).
    func stop() {
        process?.stop(signal: SIGINT)
    }

    static func unprivilegedUser() -> String {
        for name in ["proxy", "nobody"] where getpwnam(name) != nil { return name }
        return "nobody"
    }

    static func authHelper(_ name: String) throws -> String {
        for directory in ["/usr/lib/squid", "/usr/lib64/squid", "/usr/libexec/squid", "/usr/lib/squid3"] {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw ProxyTestError("squid's \(name) helper is not installed (Debian: apt-get install squid)")
    }

    /// A self-signed certificate for `address` (its own CA), made with openssl.
    static func makeCertificate(certificate: String, key: String, address: String) throws {
        let openssl = try requiredTool("openssl")
        let finished = try runProcess(URL(fileURLWithPath: openssl), [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "2",
            "-subj", "/CN=\(address)", "-addext", "subjectAltName=IP:\(address)",
        ], timeout: 60)
        guard finished.status == 0 else { throw ProxyTestError("openssl req failed: \(finished.stderr)") }
        chmod(certificate, 0o644)
        chmod(key, 0o644)   // read by squid after it dropped root; a throwaway test key
    }

    /// `openssl passwd -apr1 PASSWORD`: the hash basic_ncsa_auth checks against.
    static func apr1Hash(_ password: String) throws -> String {
        let openssl = try requiredTool("openssl")
        let finished = try runProcess(URL(fileURLWithPath: openssl), ["passwd", "-apr1", password], timeout: 20)
        let hash = finished.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard finished.status == 0, hash.hasPrefix("$apr1$") else {
            throw ProxyTestError("openssl passwd -apr1 failed: \(finished.stderr)")
        }
        return hash
    }
}

/// A real tinyproxy on a loopback port. It closes the client connection after each forwarded
/// request, so it never keeps connection affinity in forward mode; CONNECT tunnels are fine.
final class TinyProxy {
    let port: Int
    let address = "127.0.0.1"
    let directory: ScratchDirectory
    private var process: SpawnedProcess!

    var url: String { "http://\(address):\(port)" }
    var logPath: String { directory.path("tinyproxy.log") }

    init(directory: ScratchDirectory, connectPorts: [Int] = [5985, 5986]) throws {
        self.directory = directory
        port = try Ports.free()
        let tinyproxy = try requiredTool("tinyproxy")
        var lines = [
            "Port \(port)",
            "Listen \(address)",
            "Timeout 30",
            "MaxClients 50",
            "LogLevel Info",
            "LogFile \"\(logPath)\"",
            "PidFile \"\(directory.path("tinyproxy.pid"))\"",
        ]
        lines += connectPorts.map { "ConnectPort \($0)" }
        let config = try directory.write(lines.joined(separator: "\n") + "\n", to: "tinyproxy.conf")
        process = try SpawnedProcess(tinyproxy, ["-d", "-c", config], outputPath: directory.path("tinyproxy.out"))
        guard Ports.waitUntilListening(address, port, process: process) else {
            stop()
            throw ProxyTestError("tinyproxy did not start on \(address):\(port): \(tail(logPath))\(tail(directory.path("tinyproxy.out")))")
        }
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func stop() {
        process?.stop()
    }
}

/// The last lines of a file, for error messages.
func tail(_ path: String, lines: Int = 15) -> String {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty else { return "" }
    return "\n--- \(path):\n" + text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
}
