import FleetTestSupport
import Foundation
import WinRMSim
import WinRMTransport
import XCTest
@testable import Fleet

/// `FleetEngine` over the simulator on real sockets: plans from the inventory the simulator writes,
/// counters from the simulator as the proof of what reached the hosts.
///
/// Address slices (127.1.40.x, one per test): 1-20, 31-50, 61, 65, 71, 81, 85, 91, 95, 101-103, 111-112,
/// 121, 131, 135, 141-146, 161-168, 181-183, 191.
final class EngineOverSimulatorTests: XCTestCase {
    private func config(_ first: String, hosts: Int = 1, https: Bool = false, auth: SimAuth = .ntlm,
                        _ edit: (inout SimulatorConfig) -> Void = { _ in }) -> SimulatorConfig {
        var config = SimulatorConfig(hostCount: hosts, firstAddress: first, https: https, auth: auth)
        edit(&config)
        return config
    }

    private func hostname() -> CommandSpec { .commandLine(["hostname"]) }

    // MARK: cold runs

    func testColdRunOnTwentyHostsBasicOverHTTPS() async throws {
        let fixture = try SimulatedFleetFixture(config("127.1.40.1", hosts: 20, https: true, auth: .basic))
        defer { fixture.shutdown() }
        let engine = FleetEngine(plans: fixture.plans)
        let results = await engine.run(RunRequest(spec: hostname(), target: "all", hosts: fixture.names))
        await engine.closeAll()
        XCTAssertEqual(results.count, 20)
        for result in results {
            XCTAssertEqual(result.status, .ok, describe([result]))
            XCTAssertEqual(result.stdout, "\(result.host)\r\n")
            XCTAssertEqual(result.exitCode, 0)
        }
        XCTAssertEqual(Set(results.map(\.host)), Set(fixture.names))
        let counters = fixture.counters
        XCTAssertEqual(counters.commandsStarted, 20)
        XCTAssertEqual(counters.shellsCreated, 20)
        for name in fixture.names {
            XCTAssertEqual(counters.authenticationsPerHost[name], 1, name)
            XCTAssertEqual(counters.commandsStartedPerHost[name], 1, name)
        }
        XCTAssertEqual(counters.authenticationFailures, 0)
    }

    func testColdRunOnTwentyHostsNTLMOverHTTPSealed() async throws {
        let fixture = try SimulatedFleetFixture(config("127.1.40.31", hosts: 20, https: false, auth: .ntlm))
        defer { fixture.shutdown() }
        let recorder = MemoryRecorder()
        let engine = FleetEngine(plans: fixture.plans, recorder: recorder)
        let log = UpdateLog()
        engine.observe { update in
            if case .result(let result) = update {
                // Store first, then views.
                XCTAssertTrue(recorder.recordedResults.contains(result), "\(result.host) shown before it was recorded")
            }
            log.append(update)
        }
        let results = await engine.run(RunRequest(spec: .powerShell("Write-Output \"ps $env:COMPUTERNAME\""),
                                                  target: "all", hosts: fixture.names))
        await engine.closeAll()
        XCTAssertEqual(results.count, 20)
        for result in results {
            XCTAssertEqual(result.status, .ok, describe([result]))
            XCTAssertEqual(result.stdout, "ps \(result.host)\r\n")
        }
        let counters = fixture.counters
        // The simulator refuses plain bodies over http (AllowUnencrypted=false): every body was sealed.
        XCTAssertEqual(counters.plainBodyRefusals, 0)
        XCTAssertEqual(counters.integrityFailures, 0)
        XCTAssertEqual(counters.authenticationsCompleted, 20)
        XCTAssertEqual(counters.commandsStarted, 20)
        XCTAssertEqual(recorder.recordedResults.count, 20)
        XCTAssertEqual(log.events.filter { $0.kind == .authOK }.count, 20)
        XCTAssertEqual(log.events.filter { $0.kind == .shellOpened }.count, 20)
    }

    // MARK: persistent sessions

    func testHundredCommandsOverOneSessionCostOneAuthenticationAndOneShell() async throws {
        for (first, https, auth) in [("127.1.40.61", false, SimAuth.ntlm), ("127.1.40.65", true, SimAuth.basic)] {
            let fixture = try SimulatedFleetFixture(config(first, https: https, auth: auth))
            defer { fixture.shutdown() }
            let engine = FleetEngine(plans: fixture.plans)
            let host = fixture.names[0]
            for index in 1...100 {
                let results = await engine.run(RunRequest(spec: .commandLine(["echo", "run-\(index)"]), target: host, hosts: [host]))
                XCTAssertEqual(results.first?.status, .ok, describe(results))
                XCTAssertEqual(results.first?.stdout, "run-\(index)\r\n")
            }
            XCTAssertEqual(engine.session(host)?.state, .idle)
            await engine.closeAll()
            let counters = fixture.counters
            XCTAssertEqual(counters.authenticationsPerHost[host], 1, "\(auth): one authentication for 100 commands")
            XCTAssertEqual(counters.connectionsAcceptedPerHost[host], 1, "\(auth): one TCP connection for 100 commands")
            XCTAssertEqual(Array(counters.authenticationsPerConnection.values), [1])
            XCTAssertEqual(counters.shellsCreated, 1, "\(auth): one shell for 100 commands")
            XCTAssertEqual(counters.commandsStartedPerHost[host], 100)
            XCTAssertEqual(counters.requestsByAction["Command"], 100)
            XCTAssertEqual(counters.requestsByAction["Signal"], 100, "terminate after every command")
            XCTAssertEqual(counters.requestsByAction["Delete"], 1, "closeAll deletes the shell")
        }
    }

    func testExpiredShellIsReopenedWithASessionEvent() async throws {
        let fixture = try SimulatedFleetFixture(config("127.1.40.71") { $0.faults.expireShellsAfterCommands = 2 })
        defer { fixture.shutdown() }
        let engine = FleetEngine(plans: fixture.plans)
        let log = UpdateLog()
        engine.observe(log.append)
        let host = fixture.names[0]
        for index in 1...5 {
            let results = await engine.run(RunRequest(spec: .commandLine(["echo", "e\(index)"]), target: host, hosts: [host]))
            XCTAssertEqual(results.first?.status, .ok, describe(results))
            XCTAssertEqual(results.first?.stdout, "e\(index)\r\n")
        }
        await engine.closeAll()
        let counters = fixture.counters
        XCTAssertEqual(counters.commandsStartedPerHost[host], 5, "no command ran twice")
        XCTAssertEqual(counters.shellsCreated, 3, "a new shell after commands 2 and 4")
        XCTAssertGreaterThanOrEqual(counters.unknownShellFaults, 2)
        XCTAssertTrue(log.events.contains { $0.kind == .shellReopened && $0.host == host },
                      "events: \(log.events.map { "\($0.kind.rawValue) \($0.detail)" })")
        XCTAssertEqual(counters.authenticationsPerHost[host], 1, "a new shell needs no new authentication")
    }

    // MARK: dropped connections

    func testReconnectAfterDroppedConnectionsNeverRunsACommandTwice() async throws {
        for (first, https, auth) in [("127.1.40.81", false, SimAuth.ntlm), ("127.1.40.85", true, SimAuth.basic)] {
            let fixture = try SimulatedFleetFixture(config(first, https: https, auth: auth) { $0.faults.dropConnectionEvery = 3 })
            defer { fixture.shutdown() }
            let engine = FleetEngine(plans: fixture.plans)
            let host = fixture.names[0]
            for index in 1...10 {
                let results = await engine.run(RunRequest(spec: .commandLine(["echo", "d\(index)"]), target: host, hosts: [host]))
                XCTAssertEqual(results.first?.status, .ok, "\(auth): " + describe(results))
                XCTAssertEqual(results.first?.stdout, "d\(index)\r\n")
            }
            await engine.closeAll()
            let counters = fixture.counters
            XCTAssertGreaterThan(counters.connectionsDropped, 3, "\(auth): the fault was exercised")
            XCTAssertGreaterThan(counters.connectionsAcceptedPerHost[host] ?? 0, 3, "\(auth): it reconnected")
            XCTAssertEqual(counters.commandsStartedPerHost[host], 10, "\(auth): every command started exactly once")
            for index in 1...10 {
                XCTAssertEqual(counters.commandLog.filter { $0.commandLine == "echo d\(index)" }.count, 1, "\(auth): echo d\(index)")
            }
        }
    }

    /// The host runs the request but the connection dies before the answer: a Command must not be sent
    /// again, and the result must say it may have started.
    func testConnectionLostBeforeTheAnswerToACommandIsReportedNotResent() async throws {
        for (first, https, auth) in [("127.1.40.91", false, SimAuth.ntlm), ("127.1.40.95", true, SimAuth.basic)] {
            let fixture = try SimulatedFleetFixture(config(first, https: https, auth: auth) {
                $0.faults.dropConnectionEvery = 2
                $0.faults.dropBeforeResponse = true
            })
            defer { fixture.shutdown() }
            let engine = FleetEngine(plans: fixture.plans, policy: SessionPolicy(maxAttempts: 3, backoffBase: 0.05))
            let host = fixture.names[0]
            var uncertain = 0
            var outcomes: [String] = []
            for index in 1...6 {
                let started = Date()
                let results = await engine.run(RunRequest(spec: .commandLine(["echo", "u\(index)"]), target: host, hosts: [host]))
                let result = try XCTUnwrap(results.first)
                XCTAssertLessThan(Date().timeIntervalSince(started), 10, "\(auth) u\(index) took too long")
                outcomes.append("u\(index): \(result.status.rawValue) \(result.error.map(String.init(describing:)) ?? "")")
                let runs = fixture.counters.commandLog.filter { $0.commandLine == "echo u\(index)" }.count
                switch result.status {
                case .ok:
                    XCTAssertEqual(runs, 1, "\(auth) u\(index) ok but started \(runs) times")
                case .error where result.error?.requestMayHaveArrived == true:
                    uncertain += 1
                    XCTAssertTrue(result.error?.message.contains("may have started") ?? false, "\(auth): \(outcomes.last!)")
                    XCTAssertEqual(runs, 1, "\(auth) u\(index): the host started it once and it was not sent again")
                default:
                    XCTAssertLessThanOrEqual(runs, 1, "\(auth) u\(index) started \(runs) times: \(outcomes.last!)")
                }
            }
            await engine.closeAll()
            XCTAssertGreaterThanOrEqual(uncertain, 1, "\(auth): the first Command is dropped unanswered: \(outcomes)")
            let counters = fixture.counters
            let issued = Set(counters.commandLog.map(\.commandLine))
            XCTAssertEqual(counters.commandLog.count, issued.count, "\(auth): some command started twice: \(counters.commandLog.map(\.commandLine))")
        }
    }

    // MARK: cancel and timeout

    func testCancelRunStopsRunningCommandsQuicklyAndKeepsPartialOutput() async throws {
        let fixture = try SimulatedFleetFixture(config("127.1.40.101", hosts: 3))
        defer { fixture.shutdown() }
        let engine = FleetEngine(plans: fixture.plans)
        let log = UpdateLog()
        engine.observe(log.append)
        let run = Task { await engine.run(RunRequest(spec: .commandLine(["echo", "started", "&", "sleep", "30"]),
                                                     target: "all", hosts: fixture.names)) }
        await waitUntil(10, "partial output from every host") { Set(log.outputs.map(\.host)).count == 3 }
        let cancelledAt = Date()
        engine.cancelRun()
        let results = await run.value
        let elapsed = Date().timeIntervalSince(cancelledAt)
        XCTAssertLessThan(elapsed, 3, "cancel took \(elapsed) s")
        XCTAssertEqual(results.count, 3)
        for result in results {
            XCTAssertEqual(result.status, .cancelled, describe([result]))
            XCTAssertEqual(result.stdout, "started \r\n", "partial output kept (cmd.exe keeps the blank before &)")
        }
        if case .runFinished(_, _, let cancelled) = log.all.last {
            XCTAssertTrue(cancelled)
        } else {
            XCTFail("no runFinished: \(String(describing: log.all.last))")
        }
        // ctrl_c and terminate for each host.
        XCTAssertEqual(fixture.counters.requestsByAction["Signal"], 6)
        // The sessions stay usable.
        let again = await engine.run(RunRequest(spec: hostname(), target: "all", hosts: fixture.names))
        XCTAssertEqual(again.map(\.status), [.ok, .ok, .ok], describe(again))
        await engine.closeAll()
    }

    func testCancelOneHostLeavesTheOthersRunning() async throws {
        let fixture = try SimulatedFleetFixture(config("127.1.40.111", hosts: 2))
        defer { fixture.shutdown() }
        let engine = FleetEngine(plans: fixture.plans)
        let log = UpdateLog()
        engine.observe(log.append)
        let (first, second) = (fixture.names[0], fixture.names[1])
        let run = Task { await engine.run(RunRequest(spec: .commandLine(["echo", "started", "&", "sleep", "30"]),
                                                     target: "all", hosts: fixture.names)) }
        await waitUntil(10, "partial output from both hosts") { Set(log.outputs.map(\.host)).count == 2 }
        let cancelledAt = Date()
        engine.cancel(host: first)
        await waitUntil(3, "the cancelled host's result") {
            log.all.contains { if case .result(let r) = $0 { return r.host == first } else { return false } }
        }
        XCTAssertLessThan(Date().timeIntervalSince(cancelledAt), 3)
        XCTAssertFalse(log.all.contains { if case .result(let r) = $0 { return r.host == second } else { return false } },
                       "the other host still runs")
        engine.cancelRun()
        let results = await run.value
        let byHost = Dictionary(uniqueKeysWithValues: results.map { ($0.host, $0) })
        XCTAssertEqual(byHost[first]?.status, .cancelled)
        XCTAssertEqual(byHost[first]?.stdout, "started \r\n")
        XCTAssertEqual(byHost[second]?.status, .cancelled)
        await engine.closeAll()
    }

    func testPerHostTimeoutStopsTheCommand() async throws {
        let fixture = try SimulatedFleetFixture(config("127.1.40.121"))
        defer { fixture.shutdown() }
        let engine = FleetEngine(plans: fixture.plans)
        let started = Date()
        let results = await engine.run(RunRequest(spec: .commandLine(["echo", "begun", "&", "sleep", "30"]), target: "all",
                                                  hosts: fixture.names, timeout: 2))
        let elapsed = Date().timeIntervalSince(started)
        let result = try XCTUnwrap(results.first)
        XCTAssertEqual(result.status, .timeout, describe(results))
        XCTAssertEqual(result.error?.kind, .timeout)
        XCTAssertEqual(result.stdout, "begun \r\n", "output so far kept")
        XCTAssertGreaterThanOrEqual(elapsed, 1.9)
        XCTAssertLessThan(elapsed, 3.5, "a 2 s timeout took \(elapsed) s")
        XCTAssertEqual(fixture.counters.requestsByAction["Signal"], 2, "ctrl_c and terminate")
        await engine.closeAll()
    }

    // MARK: quota

    func testQuotaFaultIsRecoveredByReopeningTheShell() async throws {
        let fixture = try SimulatedFleetFixture(config("127.1.40.131") { $0.faults.quotaFaultEvery = 3 })
        defer { fixture.shutdown() }
        let engine = FleetEngine(plans: fixture.plans)
        let log = UpdateLog()
        engine.observe(log.append)
        let host = fixture.names[0]
        for index in 1...5 {
            let results = await engine.run(RunRequest(spec: .commandLine(["echo", "q\(index)"]), target: host, hosts: [host]))
            XCTAssertEqual(results.first?.status, .ok, describe(results))
            XCTAssertEqual(results.first?.stdout, "q\(index)\r\n")
        }
        await engine.closeAll()
        let counters = fixture.counters
        XCTAssertEqual(counters.quotaFaults, 2, "Command requests 3 and 6 were refused")
        XCTAssertEqual(counters.commandsStartedPerHost[host], 5)
        XCTAssertEqual(log.events.filter { $0.kind == .quota }.count, 2)
        XCTAssertGreaterThanOrEqual(counters.requestsByAction["Delete"] ?? 0, 2, "the shell is closed after a quota fault")
    }

    func testSecondQuotaFaultEndsTheJobWithoutAStorm() async throws {
        let fixture = try SimulatedFleetFixture(config("127.1.40.135") { $0.faults.quotaFaultEvery = 1 })
        defer { fixture.shutdown() }
        let engine = FleetEngine(plans: fixture.plans)
        let results = await engine.run(RunRequest(spec: hostname(), target: "all", hosts: fixture.names))
        await engine.closeAll()
        let result = try XCTUnwrap(results.first)
        XCTAssertEqual(result.status, .error)
        XCTAssertEqual(result.error?.kind, .wsmanFault)
        XCTAssertEqual(result.error?.code, "2150859174")
        XCTAssertEqual(fixture.counters.quotaFaults, 2, "one recovery attempt, then give up")
        XCTAssertEqual(fixture.counters.commandsStarted, 0)
    }

    // MARK: throttle

    /// Largest number of `[startedAt, startedAt + duration]` intervals that overlap.
    private func peakOverlap(_ results: [HostResult]) -> Int {
        var edges: [(Date, Int)] = []
        for result in results {
            edges.append((result.startedAt, 1))
            edges.append((result.startedAt.addingTimeInterval(result.duration), -1))
        }
        edges.sort { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
        var current = 0, peak = 0
        for edge in edges { current += edge.1; peak = max(peak, current) }
        return peak
    }

    func testThrottleLimitsHostsRunningAtOnce() async throws {
        let fixture = try SimulatedFleetFixture(config("127.1.40.141", hosts: 6))
        defer { fixture.shutdown() }
        let engine = FleetEngine(plans: fixture.plans, throttle: 2)
        let started = Date()
        let results = await engine.run(RunRequest(spec: .commandLine(["sleep", "1"]), target: "all", hosts: fixture.names))
        let elapsed = Date().timeIntervalSince(started)
        await engine.closeAll()
        XCTAssertEqual(results.filter { $0.status == .ok }.count, 6, describe(results))
        XCTAssertLessThanOrEqual(peakOverlap(results), 2)
        XCTAssertGreaterThanOrEqual(elapsed, 2.9, "6 hosts × 1 s at 2 at a time take 3 s at least")
        XCTAssertLessThan(elapsed, 6)
    }

    func testRaisingTheThrottleMidRunStartsWaitingHostsAtOnce() async throws {
        let fixture = try SimulatedFleetFixture(config("127.1.40.161", hosts: 8))
        defer { fixture.shutdown() }
        let engine = FleetEngine(plans: fixture.plans, throttle: 1)
        let log = UpdateLog()
        engine.observe(log.append)
        let started = Date()
        let run = Task { await engine.run(RunRequest(spec: .commandLine(["sleep", "1"]), target: "all", hosts: fixture.names)) }
        await waitUntil(5, "the first host running") { !log.startTimes.isEmpty }
        XCTAssertEqual(engine.throttleLimit, 1)
        engine.setThrottle(8)
        XCTAssertEqual(engine.throttleLimit, 8)
        let results = await run.value
        let elapsed = Date().timeIntervalSince(started)
        await engine.closeAll()
        XCTAssertEqual(results.filter { $0.status == .ok }.count, 8, describe(results))
        XCTAssertGreaterThanOrEqual(peakOverlap(results), 7, "the raise let the waiting hosts start together")
        XCTAssertLessThan(elapsed, 4, "with throttle 1 this takes 8 s; raised at once it takes about 1 s")
    }

    // MARK: repeat

    func testRepeatRunsIterationsOverTheSameSessions() async throws {
        let fixture = try SimulatedFleetFixture(config("127.1.40.181", hosts: 3))
        defer { fixture.shutdown() }
        let engine = FleetEngine(plans: fixture.plans)
        let log = UpdateLog()
        engine.observe(log.append)
        let started = Date()
        let results = await engine.run(RunRequest(spec: hostname(), target: "all", hosts: fixture.names,
                                                  repeatCount: 3, every: 0.5))
        let elapsed = Date().timeIntervalSince(started)
        await engine.closeAll()
        XCTAssertEqual(results.count, 9)
        XCTAssertTrue(results.allSatisfy { $0.status == .ok && $0.stdout == "\($0.host)\r\n" }, describe(results))
        for host in fixture.names {
            XCTAssertEqual(results.filter { $0.host == host }.compactMap(\.iteration).sorted(), [1, 2, 3], host)
        }
        XCTAssertGreaterThanOrEqual(elapsed, 1.0, "--every 0.5 spaces three iterations over at least 1 s")
        let starts = log.all.compactMap { if case .runStarted(_, _, let iteration) = $0 { return iteration } else { return nil } }
        XCTAssertEqual(starts, [1, 2, 3])
        let counters = fixture.counters
        XCTAssertEqual(counters.shellsCreated, 3, "one shell per host for all iterations")
        XCTAssertEqual(counters.authenticationsCompleted, 3, "one authentication per host for all iterations")
        XCTAssertEqual(counters.commandsStarted, 9)
    }

    /// A result is shown as soon as its host says the command is done. The terminate Signals that
    /// acknowledge the commands go out once every host's result is in, and the run ends only when
    /// they were answered.
    func testResultsAreAllShownBeforeTheTerminatesAndEveryTerminateGoesOut() async throws {
        let fixture = try SimulatedFleetFixture(config("127.1.40.191", hosts: 4))
        defer { fixture.shutdown() }
        let engine = FleetEngine(plans: fixture.plans)
        let signalsWhenShown = UpdateLog()
        engine.observe { update in
            if case .result = update {
                let signals = fixture.counters.requestsByAction["Signal"] ?? 0
                signalsWhenShown.append(.hostState(host: "\(signals)", state: .done))
            }
        }
        let results = await engine.run(RunRequest(spec: hostname(), target: "all", hosts: fixture.names))
        XCTAssertEqual(results.map(\.status), [.ok, .ok, .ok, .ok])
        let seen = signalsWhenShown.all.compactMap { if case .hostState(let count, _) = $0 { return count } else { return nil } }
        XCTAssertEqual(seen, ["0", "0", "0", "0"], "every result shown before a terminate went out")
        XCTAssertEqual(fixture.counters.requestsByAction["Signal"], 4, "the run returned after every terminate")
        XCTAssertFalse(fixture.names.contains { engine.session($0)?.awaitsAcknowledgement ?? true })
        await engine.closeAll()
    }

    /// A session whose last command was not acknowledged yet sends that terminate before anything
    /// else it does: the next command, or closing.
    func testASessionSendsItsPendingTerminateBeforeItsNextJob() async throws {
        let fixture = try SimulatedFleetFixture(config("127.1.40.195", hosts: 1))
        defer { fixture.shutdown() }
        let session = HostSession(plan: fixture.plans[0])
        let first = await session.run(hostname(), timeout: 30)
        XCTAssertEqual(first.status, .ok)
        XCTAssertTrue(session.awaitsAcknowledgement)
        XCTAssertNil(fixture.counters.requestsByAction["Signal"])
        let second = await session.run(hostname(), timeout: 30)
        XCTAssertEqual(second.status, .ok)
        XCTAssertEqual(fixture.counters.requestsByAction["Signal"], 1, "the first command's terminate, before the second")
        await session.close()
        XCTAssertFalse(session.awaitsAcknowledgement)
        XCTAssertEqual(fixture.counters.requestsByAction["Signal"], 2)
        XCTAssertEqual(fixture.counters.requestsByAction["Delete"], 1)
    }
}
