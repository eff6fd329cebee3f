import Foundation
import Fleet
import Inventory
import WinRMSim
import XCTest

/// Shared by the test targets that run the engine over the simulator (FleetTests, KerberosEndToEndTests).

/// The password the simulator's inventories read from the environment; given to the planner directly
/// so no test depends on (or changes) the process environment.
public let demoPasswordEnvironment = ["WINFLEET_DEMO_PASSWORD": SimulatorConfig.demoUser.password]

/// A running simulated fleet with the host plans an operator would get from its inventory.
public final class SimulatedFleetFixture {
    public let fleet: SimulatedFleet
    public let plans: [HostPlan]
    public let directory: URL

    public var names: [String] { plans.map(\.host.name) }
    public var counters: SimCounters { fleet.counters }

    /// Starts `config`, writes its inventory (as `winfleet sim --inventory-out` does), loads it and plans
    /// every host with `environment` (where the credential's password variable is read), optionally
    /// editing the inventory JSON first. Every host must be planned, none refused.
    public init(_ config: SimulatorConfig, environment: [String: String] = demoPasswordEnvironment,
                editInventory: ((inout [String: Any]) -> Void)? = nil,
                file: StaticString = #filePath, line: UInt = #line) throws {
        fleet = SimulatedFleet(config: config)
        try fleet.start()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("winfleet-fleettests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("inventory.json").path
        try fleet.writeInventory(to: path)
        if let editInventory {
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            editInventory(&object)
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        }
        let inventory = try Inventory.load(path: path)
        var planner = HostPlanner(inventory: inventory, environment: environment)
        plans = inventory.hosts.map { planner.plan($0) }
        for plan in plans {
            XCTAssertNil(plan.refusal, "\(plan.host.name) refused: \(plan.refusal.map(String.init(describing:)) ?? "")",
                         file: file, line: line)
        }
    }

    public func shutdown() {
        fleet.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Collects what an engine tells its views.
public final class UpdateLog: @unchecked Sendable {
    private let lock = NSLock()
    private var updates: [(Date, RunUpdate)] = []

    public init() {}

    public func append(_ update: RunUpdate) { lock.withLock { updates.append((Date(), update)) } }

    public var all: [RunUpdate] { lock.withLock { updates.map(\.1) } }

    public var events: [SessionEvent] {
        all.compactMap { if case .sessionEvent(let event) = $0 { return event } else { return nil } }
    }

    public var outputs: [(host: String, stdout: Data)] {
        all.compactMap { if case .output(let host, let stdout, _) = $0 { return (host, stdout) } else { return nil } }
    }

    /// The highest number of hosts in `running`/`connecting` at the same time.
    public var peakConcurrency: Int {
        var active = Set<String>()
        var peak = 0
        for update in all {
            guard case .hostState(let host, let state) = update else { continue }
            switch state {
            case .running, .connecting: active.insert(host)
            default: active.remove(host)
            }
            peak = max(peak, active.count)
        }
        return peak
    }

    /// When each host went to running/connecting (last time).
    public var startTimes: [String: Date] {
        var times: [String: Date] = [:]
        for (at, update) in lock.withLock({ updates }) {
            if case .hostState(let host, let state) = update, state == .running || state == .connecting {
                times[host] = at
            }
        }
        return times
    }
}

