import Foundation
import Inventory
import WinRMSim
import WinRMTransport
import XCTest
@testable import Fleet

/// The password the simulator's inventories read from the environment; given to the planner directly
/// so no test depends on (or changes) the process environment.
let demoPasswordEnvironment = ["WINFLEET_DEMO_PASSWORD": SimulatorConfig.demoUser.password]

/// A running simulated fleet with the host plans an operator would get from its inventory.
final class SimulatedFleetFixture {
    let fleet: SimulatedFleet
    let plans: [HostPlan]
    let directory: URL

    var names: [String] { plans.map(\.host.name) }
    var counters: SimCounters { fleet.counters }

    /// Starts `config`, writes its inventory (as `winfleet sim --inventory-out` does), loads it and plans
    /// every host, optionally editing the inventory JSON first.
    init(_ config: SimulatorConfig, editInventory: ((inout [String: Any]) -> Void)? = nil,
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
        var planner = HostPlanner(inventory: inventory, environment: demoPasswordEnvironment)
        plans = inventory.hosts.map { planner.plan($0) }
        for plan in plans {
            XCTAssertNil(plan.refusal, "\(plan.host.name) refused: \(plan.refusal.map(String.init(describing:)) ?? "")",
                         file: file, line: line)
        }
    }

    func shutdown() {
        fleet.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Collects what an engine tells its views.
final class UpdateLog: @unchecked Sendable {
    private let lock = NSLock()
    private var updates: [(Date, RunUpdate)] = []

    func append(_ update: RunUpdate) { lock.withLock { updates.append((Date(), update)) } }

    var all: [RunUpdate] { lock.withLock { updates.map(\.1) } }

    var events: [SessionEvent] {
        all.compactMap { if case .sessionEvent(let event) = $0 { return event } else { return nil } }
    }

    var outputs: [(host: String, stdout: Data)] {
        all.compactMap { if case .output(let host, let stdout, _) = $0 { return (host, stdout) } else { return nil } }
    }

    /// The highest number of hosts in `running`/`connecting` at the same time.
    var peakConcurrency: Int {
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
    var startTimes: [String: Date] {
        var times: [String: Date] = [:]
        for (at, update) in lock.withLock({ updates }) {
            if case .hostState(let host, let state) = update, state == .running || state == .connecting {
                times[host] = at
            }
        }
        return times
    }
}

/// Records what the engine hands to its store, in order.
final class MemoryRecorder: RunRecorder, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var results: [HostResult] = []
    private(set) var events: [SessionEvent] = []
    private(set) var finished: [(Int64, Bool)] = []

    func beginRun(command: String, isPowerShell: Bool, target: String, hostCount: Int) throws -> Int64 { 1 }
    func record(_ entries: [RecorderEntry]) throws {
        lock.withLock {
            for entry in entries {
                switch entry {
                case .result(let result, _): results.append(result)
                case .event(let event, _): events.append(event)
                }
            }
        }
    }
    func finishRun(_ runID: Int64, cancelled: Bool) throws { lock.withLock { finished.append((runID, cancelled)) } }

    var recordedResults: [HostResult] { lock.withLock { results } }
}

extension XCTestCase {
    /// Polls `condition` every 20 ms until it holds or `timeout` passes.
    func waitUntil(_ timeout: TimeInterval, _ what: String, file: StaticString = #filePath, line: UInt = #line,
                   _ condition: () -> Bool) async {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline {
                XCTFail("timed out after \(timeout) s waiting for \(what)", file: file, line: line)
                return
            }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }
}

func describe(_ results: [HostResult]) -> String {
    results.map { "\($0.host) \($0.status.rawValue) exit \($0.exitCode.map(String.init) ?? "-") \($0.error.map(String.init(describing:)) ?? "")" }
        .joined(separator: "\n")
}
