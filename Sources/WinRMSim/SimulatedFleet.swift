import Foundation
import NIOCore
import NIOPosix
import NIOHTTP1
import NIOSSL
import WinRMAuth

/// One simulated Windows host as a client sees it.
public struct SimulatedHost: Sendable, Equatable {
    public var name: String
    public var address: String
    public var port: Int
    /// False for `unreachableHosts`: in the inventory, but nothing listens (connections are refused).
    public var listening: Bool

    public init(name: String, address: String, port: Int, listening: Bool = true) {
        self.name = name
        self.address = address
        self.port = port
        self.listening = listening
    }
}

public enum SimulatorError: Error, CustomStringConvertible {
    case invalidConfig(String)
    case bindFailed(host: String, address: String, port: Int, reason: String)
    case alreadyStarted

    public var description: String {
        switch self {
        case .invalidConfig(let text): return "invalid simulator configuration: \(text)"
        case .bindFailed(let host, let address, let port, let reason):
            return "simulated host \(host) cannot listen on \(address):\(port): \(reason) (is another simulator running, or is the port taken?)"
        case .alreadyStarted: return "the simulated fleet is already started"
        }
    }
}

/// A fleet of simulated Windows hosts on loopback: one listener per host on its own 127.x address,
/// all served by one small event loop group.
public final class SimulatedFleet: @unchecked Sendable {
    public let config: SimulatorConfig
    private let counterStore = SimCounterStore()
    private let lock = NSLock()
    private var group: MultiThreadedEventLoopGroup?
    private var serverChannels: [Channel] = []
    private var childChannels: [ObjectIdentifier: Channel] = [:]
    private var engines: [String: SimHostEngine] = [:]
    private var planned: [SimulatedHost] = []
    private var certificate: SimCertificate?

    public init(config: SimulatorConfig) {
        self.config = config
    }

    /// All hosts of the fleet (including unreachable ones), in order.
    public var hosts: [SimulatedHost] {
        lock.lock(); defer { lock.unlock() }
        return planned
    }

    /// A consistent snapshot of the counters.
    public var counters: SimCounters { counterStore.snapshot }

    /// DER of the self-signed certificate (https only), available after `start()`.
    public var certificateDER: Data? {
        lock.lock(); defer { lock.unlock() }
        return certificate.map { Data($0.der) }
    }

    /// PEM of the self-signed certificate (https only): it is its own CA, use it as `ca_file`.
    public var certificatePEM: String? {
        lock.lock(); defer { lock.unlock() }
        return certificate?.pem
    }

    /// SHA-256 fingerprint of the certificate (lower-case hex), https only.
    public var certificateFingerprintSHA256: String? {
        lock.lock(); defer { lock.unlock() }
        return certificate?.sha256Fingerprint
    }

    /// Number of open shells on a host (for tests).
    public func shellCount(host name: String) -> Int {
        lock.lock(); let engine = engines[name]; lock.unlock()
        return engine?.shellCount ?? 0
    }

    /// Binds every reachable host and returns when all listen.
    @discardableResult
    public func start() throws -> [SimulatedHost] {
        lock.lock()
        guard group == nil else { lock.unlock(); throw SimulatorError.alreadyStarted }
        lock.unlock()
        guard config.hostCount > 0 else { throw SimulatorError.invalidConfig("hostCount must be at least 1") }
        guard !config.users.isEmpty else { throw SimulatorError.invalidConfig("at least one user is needed") }
        let port = config.effectivePort
        guard (1...65535).contains(port) else { throw SimulatorError.invalidConfig("port \(port) is out of range") }
        if config.auth == .kerberos && config.keytab == nil {
            throw SimulatorError.invalidConfig("auth kerberos needs a keytab with the hosts' HTTP/ keys (--keytab; scripts/test-kdc writes one)")
        }
        if let keytab = config.keytab, config.auth.acceptsKerberos {
            let path = keytab.hasPrefix("FILE:") ? String(keytab.dropFirst(5)) : keytab
            guard keytab.contains(":") && !keytab.hasPrefix("FILE:") || FileManager.default.isReadableFile(atPath: path) else {
                throw SimulatorError.invalidConfig("keytab \(path) does not exist or is not readable")
            }
        }

        let plan: [HostAddressPlan.Entry]
        do {
            plan = try HostAddressPlan.plan(count: config.hostCount, firstAddress: config.firstAddress,
                                            prefix: config.hostNamePrefix)
        } catch {
            throw SimulatorError.invalidConfig(String(describing: error))
        }
        let hosts = plan.map {
            SimulatedHost(name: $0.name, address: $0.address, port: port,
                          listening: !config.faults.unreachableHosts.contains($0.name))
        }

        var sslContext: NIOSSLContext?
        var bindings: Data?
        var cert: SimCertificate?
        if config.https {
            let generated = try SimCertificate(addresses: hosts.map(\.address))
            let nioCert = try NIOSSLCertificate(bytes: generated.der, format: .der)
            let nioKey = try NIOSSLPrivateKey(bytes: Array(generated.privateKey.pemRepresentation.utf8), format: .pem)
            let tls = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(nioCert)],
                                                               privateKey: .privateKey(nioKey))
            sslContext = try NIOSSLContext(configuration: tls)
            if config.requireChannelBinding && config.auth.acceptsNegotiate {
                bindings = ChannelBindings.tlsServerEndPoint(certificateDER: Data(generated.der))
            }
            cert = generated
        }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, System.coreCount))
        var listeners: [(SimulatedHost, SimHostListener)] = []
        var newEngines: [String: SimHostEngine] = [:]
        for host in hosts {
            let engine = SimHostEngine(name: host.name, address: host.address, port: port, config: config,
                                       counters: counterStore)
            newEngines[host.name] = engine
            if host.listening {
                listeners.append((host, SimHostListener(engine: engine, config: config, counters: counterStore,
                                                        expectedChannelBindings: bindings)))
            }
        }

        let futures: [(SimulatedHost, EventLoopFuture<Channel>)] = listeners.map { host, listener in
            // A host's listener and its connections share one event loop (the hosts are dealt out
            // over the loops): an accepted connection handed to another loop cost a cross-thread
            // hand-off and a wake-up for every connection.
            let bootstrap = ServerBootstrap(group: group.next())
                .serverChannelOption(ChannelOptions.backlog, value: 128)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                // tcpOption: IPPROTO_TCP (socketOption(.tcp_nodelay) sets SOL_SOCKET option 1, SO_DEBUG).
                .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { [weak self] channel in
                    channel.eventLoop.makeCompletedFuture {
                        self?.track(channel)
                        if let sslContext = sslContext {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                        }
                        // NIO's request decoder only: the handler writes whole responses itself and
                        // answers what does not parse with a 400. No pipelining assistance either:
                        // WinRM clients send one request at a time on a connection (a sealed stream
                        // is ordered), and NIO's assistant stopped and restarted reading around
                        // every response, two epoll_ctl calls per request.
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                        try channel.pipeline.syncOperations.addHandler(SimConnectionHandler(listener: listener))
                    }
                }
            return (host, bootstrap.bind(host: host.address, port: port))
        }
        var bound: [Channel] = []
        var failure: Error?
        for (host, future) in futures {
            do {
                bound.append(try future.wait())
            } catch {
                if failure == nil {
                    failure = SimulatorError.bindFailed(host: host.name, address: host.address, port: port,
                                                        reason: String(describing: error))
                }
            }
        }
        if let failure = failure {
            for channel in bound { try? channel.close().wait() }
            try? group.syncShutdownGracefully()
            throw failure
        }

        lock.lock()
        self.group = group
        self.serverChannels = bound
        self.engines = newEngines
        self.planned = hosts
        self.certificate = cert
        lock.unlock()
        return hosts
    }

    private func track(_ channel: Channel) {
        let id = ObjectIdentifier(channel)
        lock.lock()
        childChannels[id] = channel
        lock.unlock()
        channel.closeFuture.whenComplete { [weak self] _ in
            guard let self = self else { return }
            self.lock.lock()
            self.childChannels[id] = nil
            self.lock.unlock()
        }
    }

    /// Closes every listener and connection and stops the event loops.
    public func shutdown() {
        lock.lock()
        let group = self.group
        let channels = serverChannels + Array(childChannels.values)
        self.group = nil
        serverChannels = []
        lock.unlock()
        guard let group = group else { return }
        for channel in channels { try? channel.close().wait() }
        try? group.syncShutdownGracefully()
    }

    deinit {
        shutdown()
    }

    // MARK: - Inventory

    /// The inventory file `winfleet` reads for this fleet (`winfleet sim --inventory-out FILE`).
    ///
    /// Over https the certificate is trusted via `caFile` when given (the certificate is its own CA and
    /// carries an IP SAN for every host address, so full verification works); without `caFile` the
    /// inventory says `"tls": {"verify": false}`. `allow_unencrypted: true` appears only when the fleet
    /// allows unencrypted http. When the hosts accept Kerberos, each host gets `"spn": "HTTP/<dns name>"`:
    /// clients connect to its 127.x address but ask the KDC for the host's own ticket.
    public func inventoryJSON(credentialName: String = "demo", passwordEnv: String = "WINFLEET_DEMO_PASSWORD",
                              caFile: String? = nil) -> Data {
        let user = config.users.first?.user ?? SimulatorConfig.demoUser.user
        var defaults: [(String, String)] = [
            ("credential", json(credentialName)),
            ("transport", json(config.https ? "https" : "http")),
            ("auth", json(config.auth.rawValue)),
        ]
        if config.https {
            // Without a CA file to point at, an https inventory can only skip verification.
            defaults.append(("tls", caFile.map { "{\"ca_file\":\(json($0))}" } ?? "{\"verify\":false}"))
        }
        if !config.https && config.allowUnencrypted {
            defaults.append(("allow_unencrypted", "true"))
        }
        var out = "{\n"
        out += "  \"credentials\": {\(json(credentialName)): {\"username\": \(json(user)), \"password_env\": \(json(passwordEnv))}},\n"
        out += "  \"defaults\": {" + defaults.map { "\(json($0.0)): \($0.1)" }.joined(separator: ", ") + "},\n"
        out += "  \"routes\": {\"direct\": {}},\n"
        out += "  \"hosts\": [\n"
        let hostLines = hosts.map { host in
            let spn = config.acceptsKerberos ? ", \"spn\": \(json("HTTP/" + config.dnsName(host: host.name)))" : ""
            return "    {\"name\": \(json(host.name)), \"address\": \(json(host.address)), \"port\": \(host.port)\(spn), \"groups\": [\"sim\"]}"
        }
        out += hostLines.joined(separator: ",\n")
        out += "\n  ]\n}\n"
        return Data(out.utf8)
    }

    /// Writes the inventory to `path`, and over https the certificate next to it as `<path>.ca.pem`
    /// (referenced from the inventory as `ca_file`). Returns the paths written.
    @discardableResult
    public func writeInventory(to path: String, credentialName: String = "demo",
                               passwordEnv: String = "WINFLEET_DEMO_PASSWORD") throws -> [String] {
        var written: [String] = []
        var caFile: String?
        if config.https, let pem = certificatePEM {
            let caPath = path + ".ca.pem"
            try Data(pem.utf8).write(to: URL(fileURLWithPath: caPath))
            written.append(caPath)
            caFile = caPath
        }
        try inventoryJSON(credentialName: credentialName, passwordEnv: passwordEnv, caFile: caFile)
            .write(to: URL(fileURLWithPath: path))
        written.insert(path, at: 0)
        return written
    }

    private func json(_ string: String) -> String {
        let data = try? JSONSerialization.data(withJSONObject: [string], options: [.withoutEscapingSlashes])
        let text = data.flatMap { String(data: $0, encoding: .utf8) } ?? "[\"\"]"
        return String(text.dropFirst().dropLast())
    }
}
