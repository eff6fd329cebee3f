import FleetTestSupport
import Foundation
import WinRMSim
import WinRMTransport
import XCTest
@testable import Fleet

/// Idle sessions kept alive (a Get of the shell) do not lose their shell to the host's idle
/// timeout; without keep-alive the shell expires and the next command opens a new one.
/// Address slice: 127.1.60.1–127.1.60.9.
final class KeepAliveTests: XCTestCase {
    private func fixture(_ first: String) throws -> SimulatedFleetFixture {
        var config = SimulatorConfig(hostCount: 1, firstAddress: first, auth: .ntlm)
        config.shellIdleTimeoutSeconds = 2
        return try SimulatedFleetFixture(config)
    }

    func testKeepAliveKeepsTheShellPastTheHostsIdleTimeout() async throws {
        let fleet = try fixture("127.1.60.1")
        defer { fleet.shutdown() }
        let engine = FleetEngine(plans: fleet.plans)
        let request = RunRequest(spec: .commandLine(["hostname"]), target: "all", hosts: fleet.names)
        let first = await engine.run(request)
        XCTAssertEqual(first.first?.status, .ok)
        let session = try XCTUnwrap(engine.session(fleet.names[0]))
        for _ in 0..<4 {
            try await Task.sleep(nanoseconds: 900_000_000)
            await session.keepAlive()
        }
        let second = await engine.run(request)
        await engine.closeAll()
        XCTAssertEqual(second.first?.status, .ok)
        XCTAssertEqual(fleet.counters.shellsCreated, 1, "3.6 s idle with keep-alives: the 2 s idle timeout never fired")
        XCTAssertEqual(fleet.counters.authenticationsCompleted, 1, "the same authenticated connection throughout")
    }

    func testWithoutKeepAliveTheShellExpiresAndIsReopened() async throws {
        let fleet = try fixture("127.1.60.5")
        defer { fleet.shutdown() }
        let engine = FleetEngine(plans: fleet.plans)
        let log = UpdateLog()
        engine.observe { log.append($0) }
        let request = RunRequest(spec: .commandLine(["hostname"]), target: "all", hosts: fleet.names)
        _ = await engine.run(request)
        try await Task.sleep(nanoseconds: 2_600_000_000)
        let second = await engine.run(request)
        await engine.closeAll()
        XCTAssertEqual(second.first?.status, .ok, "the gone shell is reopened before the command")
        XCTAssertEqual(fleet.counters.shellsCreated, 2)
        XCTAssertTrue(log.events.contains { $0.kind == .shellReopened })
    }
}

/// A sealed NTLM response altered on the way is refused by the integrity check, reported as a
/// `protocol` error, and nothing is run again. Address slice: 127.1.60.11.
final class NTLMIntegrityTests: XCTestCase {
    func testFlippedByteInASealedResponseIsRefused() async throws {
        var config = SimulatorConfig(hostCount: 1, firstAddress: "127.1.60.11", auth: .ntlm)
        config.faults.corruptSealedResponses = true
        let fleet = try SimulatedFleetFixture(config)
        defer { fleet.shutdown() }
        let engine = FleetEngine(plans: fleet.plans)
        let results = await engine.run(RunRequest(spec: .commandLine(["hostname"]), target: "all", hosts: fleet.names))
        await engine.closeAll()
        let result = try XCTUnwrap(results.first)
        XCTAssertEqual(result.status, .error)
        XCTAssertEqual(result.error?.kind, .protocol)
        XCTAssertEqual(result.error?.code, "integrity", result.error?.message ?? "")
        XCTAssertTrue(result.error?.message.contains("integrity") ?? false, result.error?.message ?? "")
        XCTAssertEqual(fleet.counters.commandsStarted, 0, "the shell never opened: its answer was refused")
        XCTAssertGreaterThan(fleet.counters.sealedResponsesCorrupted, 0)
    }
}

/// Cancelling a host while its session is still connecting ends the job at once (nothing ran on
/// the host) instead of reconnecting. Address slice: 127.1.60.21.
final class CancelWhileConnectingTests: XCTestCase {
    func testCancelDuringTheHandshakeEndsTheJob() async throws {
        var config = SimulatorConfig(hostCount: 1, firstAddress: "127.1.60.21", auth: .ntlm)
        config.latencyMilliseconds = 1500
        let fleet = try SimulatedFleetFixture(config)
        defer { fleet.shutdown() }
        let engine = FleetEngine(plans: fleet.plans)
        let host = fleet.names[0]
        let started = Date()
        async let results = engine.run(RunRequest(spec: .commandLine(["hostname"]), target: "all", hosts: [host]))
        try await Task.sleep(nanoseconds: 500_000_000)
        engine.cancel(host: host)
        let finished = await results
        let result = try XCTUnwrap(finished.first)
        await engine.closeAll()
        XCTAssertEqual(result.status, .cancelled)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "cancel must not wait for retries")
        XCTAssertEqual(fleet.counters.commandsStarted, 0)
    }
}
