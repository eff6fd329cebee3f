import Fleet
import Foundation
import Inventory
import WinRMSim
import XCTest

/// One simulated host behind a recording relay: the simulator listens on a free port of `address`,
/// the relay on the WinRM port of the same address (so the certificate's IP matches and squid's
/// CONNECT rules for 5985/5986 apply), and records what the proxy sends to the host.
struct RelayedHost {
    var name: String
    var address: String
    /// The port clients (and proxies) connect to: the relay's.
    var port: Int
    var transport: String
    var fleet: SimulatedFleet
    var relay: RecordingRelay
    /// PEM file of the host's self-signed certificate (https only).
    var caFile: String?
}

/// Starts real proxies, simulators and recording relays for one test and tears them all down;
/// at the end every relay's bytes are audited: nothing readable may have crossed any hop.
class ProxyTestCase: XCTestCase {
    static let hostUser = "WINFLEET\\operator"
    static let hostPassword = "Host-Pass-Zq93x"
    static let proxyUser = "pxuser"
    static let proxyPassword = "Proxy-Pass-Kw71v"

    var scratch: ScratchDirectory!
    private var squids: [SquidProxy] = []
    private var tinyproxies: [TinyProxy] = []
    private(set) var relays: [RecordingRelay] = []
    private var fleets: [SimulatedFleet] = []
    /// Markers the test put into commands; they must not appear on any hop either.
    var markers: [String] = []

    override func setUpWithError() throws {
        try super.setUpWithError()
        scratch = try ScratchDirectory(name)
    }

    override func tearDown() {
        auditRelays()
        for relay in relays { relay.stop() }
        for squid in squids { squid.stop() }
        for tiny in tinyproxies { tiny.stop() }
        for fleet in fleets { fleet.shutdown() }
        relays = []; squids = []; tinyproxies = []; fleets = []
        scratch?.cleanUp()
        super.tearDown()
    }

    var audit: PlaintextAudit {
        var audit = PlaintextAudit()
        let bareUser = String(Self.hostUser.split(separator: "\\").last!)
        audit.forbid(password: Self.hostPassword, label: "the host password", users: [Self.hostUser, bareUser])
        audit.forbid(password: Self.proxyPassword, label: "the proxy password")
        for marker in markers { audit.forbid(marker: marker) }
        return audit
    }

    /// Relays whose hop is allowed to carry plain text (the audit's own negative control).
    var unaudited: Set<ObjectIdentifier> = []

    /// Fails the test for every forbidden pattern seen on any hop.
    func auditRelays(file: StaticString = #filePath, line: UInt = #line) {
        let audit = self.audit
        for relay in relays where !unaudited.contains(ObjectIdentifier(relay)) {
            let found = audit.findings(in: relay.allBytes)
            XCTAssertTrue(found.isEmpty, "hop \(relay.name) carried \(found.joined(separator: ", ")) in readable form", file: file, line: line)
        }
    }

    // MARK: starting things

    func startSquid(_ options: SquidProxy.Options = SquidProxy.Options()) throws -> SquidProxy {
        let directory = try ScratchDirectory("squid-\(name)")
        let squid = try SquidProxy(directory: directory, options: options)
        squids.append(squid)
        addTeardownBlock { directory.cleanUp() }
        return squid
    }

    func startSquidWithBasicAuth(_ adjust: (inout SquidProxy.Options) -> Void = { _ in }) throws -> SquidProxy {
        var options = SquidProxy.Options()
        options.basicUsers = [Self.proxyUser: Self.proxyPassword]
        adjust(&options)
        return try startSquid(options)
    }

    func startTinyproxy(connectPorts: [Int] = [5985, 5986]) throws -> TinyProxy {
        let directory = try ScratchDirectory("tiny-\(name)")
        let tiny = try TinyProxy(directory: directory, connectPorts: connectPorts)
        tinyproxies.append(tiny)
        addTeardownBlock { directory.cleanUp() }
        return tiny
    }

    /// A recording relay on a free loopback port in front of `proxyURL` (`http://127.0.0.1:port`):
    /// the route points at the relay, which records the client → proxy hop.
    func relayInFront(of proxyPort: Int, name: String) throws -> RecordingRelay {
        let relay = try RecordingRelay(name: name, targetAddress: "127.0.0.1", targetPort: proxyPort)
        relays.append(relay)
        return relay
    }

    /// A relay with no proxy behind it (nothing listens): only counts connections.
    func deadEndRelay(name: String) throws -> RecordingRelay {
        let relay = try RecordingRelay(name: name, targetAddress: "127.0.0.1", targetPort: try Ports.free())
        relays.append(relay)
        return relay
    }

    /// A simulated host at `address` behind a recording relay on its WinRM port.
    func startHost(_ name: String, address: String, https: Bool = false, auth: SimAuth = .ntlm,
                   password: String = ProxyTestCase.hostPassword, allowUnencrypted: Bool = false,
                   adjust: (inout SimulatorConfig) -> Void = { _ in }) throws -> RelayedHost {
        let simPort = try Ports.free(on: address)
        var config = SimulatorConfig(hostCount: 1, firstAddress: address, port: simPort, https: https, auth: auth,
                                     users: [SimUser(user: Self.hostUser, password: password)],
                                     allowUnencrypted: allowUnencrypted)
        adjust(&config)
        let fleet = SimulatedFleet(config: config)
        try fleet.start()
        fleets.append(fleet)
        let port = https ? 5986 : 5985
        let relay = try RecordingRelay(name: "proxy→\(name)", listenAddress: address, listenPort: port,
                                       targetAddress: address, targetPort: simPort)
        relays.append(relay)
        var caFile: String?
        if https, let pem = fleet.certificatePEM {
            caFile = try scratch.write(pem, to: "\(name).ca.pem")
        }
        return RelayedHost(name: name, address: address, port: port, transport: https ? "https" : "http",
                           fleet: fleet, relay: relay, caFile: caFile)
    }

    // MARK: inventories

    /// The inventory entry of a relayed host.
    func hostEntry(_ host: RelayedHost, route: String, auth: String? = nil, extra: [String: Any] = [:]) -> [String: Any] {
        var entry: [String: Any] = ["name": host.name, "address": host.address, "port": host.port,
                                    "transport": host.transport, "route": route, "credential": "host",
                                    "auth": auth ?? (host.fleet.config.auth == .basic ? "basic" : "ntlm"),
                                    "connect_timeout": 5, "operation_timeout": 10]
        if let caFile = host.caFile { entry["tls"] = ["ca_file": caFile] }
        for (key, value) in extra { entry[key] = value }
        return entry
    }

    /// Writes an inventory with the `host` and `proxy` credentials (read from HOST_PASS / PROXY_PASS)
    /// and returns its path.
    func writeInventory(routes: [String: [String: Any]], hosts: [[String: Any]], file: String = "inventory.json",
                        extraCredentials: [String: [String: Any]] = [:]) throws -> String {
        var credentials: [String: Any] = [
            "host": ["username": Self.hostUser, "password_env": "HOST_PASS"],
            "proxy": ["username": Self.proxyUser, "password_env": "PROXY_PASS"],
        ]
        for (name, credential) in extraCredentials { credentials[name] = credential }
        let path = scratch.path(file)
        try writeInventoryFile(["credentials": credentials, "routes": routes, "hosts": hosts], to: path)
        return path
    }

    /// The secrets the inventories read.
    var secretsEnvironment: [String: String] {
        ["HOST_PASS": Self.hostPassword, "PROXY_PASS": Self.proxyPassword, "WRONG_PASS": "Wrong-Pass-0"]
    }

    // MARK: running

    struct EngineRun {
        var results: [HostResult]
        var health: RouteHealth
        var events: [SessionEvent]

        func result(_ host: String, file: StaticString = #filePath, line: UInt = #line) throws -> HostResult {
            try XCTUnwrap(results.first { $0.host == host }, "no result for \(host)", file: file, line: line)
        }
    }

    /// Runs `command` on every host of the inventory through the fleet engine, the way `run` does,
    /// with `RouteHealth` fed by the engine's updates.
    func runEngine(inventory path: String, command: String, environment: [String: String]? = nil,
                   repeatCount: Int = 1) async throws -> EngineRun {
        let inventory = try Inventory.load(path: path)
        var planner = HostPlanner(inventory: inventory, environment: environment ?? secretsEnvironment)
        let plans = inventory.hosts.map { planner.plan($0) }
        for plan in plans {
            XCTAssertNil(plan.refusal, "\(plan.host.name) was refused: \(plan.refusal?.message ?? "")")
        }
        let engine = FleetEngine(plans: plans, throttle: 8, policy: SessionPolicy(maxAttempts: 2, backoffBase: 0.05))
        let monitor = RouteHealthMonitor(engine: engine)
        let events = EventCollector()
        engine.observe { update in
            if case .sessionEvent(let event) = update { events.append(event) }
        }
        let results = await engine.run(RunRequest(spec: .commandLine([command]), target: "all",
                                                  hosts: plans.map(\.host.name), repeatCount: repeatCount))
        await engine.closeAll()
        return EngineRun(results: results, health: monitor.snapshot, events: events.events)
    }

    /// Runs the `winfleet` binary.
    func winfleet(_ arguments: [String], environment extra: [String: String] = [:], timeout: TimeInterval = 120) throws -> FinishedProcess {
        let environment = winfleetEnvironment(stateHome: scratch.path("state"), extra: secretsEnvironment.merging(extra) { $1 })
        return try runProcess(try winfleetBinary(), arguments, environment: environment, timeout: timeout)
    }
}

final class EventCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [SessionEvent] = []
    func append(_ event: SessionEvent) { lock.withLock { storage.append(event) } }
    var events: [SessionEvent] { lock.withLock { storage } }
}
