import Foundation
import XCTest
import NIOCore
@testable import WinRMSim

/// The WinRS engine with a hand-driven clock: no sockets, no sleeping.
final class HostEngineTests: XCTestCase {
    let identity = SimIdentity(account: "WINFLEET\\operator")
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    private func at(_ seconds: Double) -> NIODeadline { t0 + .nanoseconds(Int64(seconds * 1e9)) }

    private func engine(_ configure: (inout SimulatorConfig) -> Void = { _ in }) -> (SimHostEngine, SimCounterStore) {
        var config = SimulatorConfig()
        configure(&config)
        let counters = SimCounterStore()
        return (SimHostEngine(name: "WIN0007", address: "127.1.0.7", port: 5985, config: config, counters: counters), counters)
    }

    private func request(_ operation: SimHostRequest.Operation, shell: String? = nil, envelope: Int? = nil) -> SimHostRequest {
        SimHostRequest(operation: operation, shellID: shell, operationTimeoutSeconds: 20, maxEnvelopeSize: envelope)
    }

    private func createShell(_ engine: SimHostEngine, idle: Double? = nil) -> String {
        guard case .created(let id, let owner, _, _, _) = engine.handle(
            request(.create(environment: [], workingDirectory: nil, idleTimeoutSeconds: idle, codepage: 65001)),
            identity: identity, clientIP: "127.0.0.1", now: t0) else {
            XCTFail("no shell"); return ""
        }
        XCTAssertEqual(owner, "WINFLEET\\operator")
        return id
    }

    private func start(_ engine: SimHostEngine, shell: String, _ line: String, now: NIODeadline) -> String {
        guard case .commandStarted(let id) = engine.handle(request(.command(command: line, arguments: []), shell: shell),
                                                          identity: identity, clientIP: "127.0.0.1", now: now) else {
            XCTFail("command not started"); return ""
        }
        return id
    }

    func testReceiveFollowsTheProcessTimeline() {
        let (engine, counters) = engine()
        let shell = createShell(engine)
        let command = start(engine, shell: shell, "echo a & sleep 5 & echo b", now: t0)
        let receive = request(.receive(commandID: command), shell: shell)

        guard case .received(_, let first, .running) = engine.handle(receive, identity: identity, clientIP: "", now: at(0.1)) else {
            return XCTFail("expected the first line while running")
        }
        XCTAssertEqual(first.map { String(decoding: $0.1, as: UTF8.self) }, ["a \r\n"])

        guard case .wait(let until) = engine.handle(receive, identity: identity, clientIP: "", now: at(1)) else {
            return XCTFail("expected a wait")
        }
        XCTAssertEqual(until, at(5))

        guard case .received(_, let rest, .done(exitCode: 0)) = engine.handle(receive, identity: identity, clientIP: "", now: at(5)) else {
            return XCTFail("expected Done")
        }
        XCTAssertEqual(rest.map { String(decoding: $0.1, as: UTF8.self) }, ["b\r\n"])
        XCTAssertEqual(counters.snapshot.commandsStartedPerHost, ["WIN0007": 1])
    }

    func testLargeOutputIsSplitByTheEnvelopeBudget() {
        let (engine, _) = engine()
        let shell = createShell(engine)
        let command = start(engine, shell: shell, "big 100000", now: t0)
        let receive = request(.receive(commandID: command), shell: shell, envelope: 20_480)
        var total = 0
        var responses = 0
        while true {
            let outcome = engine.handle(receive, identity: identity, clientIP: "", now: at(1))
            guard case .received(_, let streams, let state) = outcome else { return XCTFail("\(outcome)") }
            let bytes = streams.reduce(0) { $0 + $1.1.count }
            XCTAssertLessThanOrEqual(bytes, engine.receiveBudget(20_480))
            XCTAssertLessThanOrEqual((bytes + 2) / 3 * 4 + 4096, 20_480, "the response fits the client's MaxEnvelopeSize")
            total += bytes
            responses += 1
            if state != .running { break }
        }
        XCTAssertEqual(total, 100_000)
        XCTAssertEqual(responses, Int((100_000.0 / Double(engine.receiveBudget(20_480))).rounded(.up)))
    }

    func testStdinScriptWakesTheWaitingReceive() {
        let (engine, _) = engine()
        let shell = createShell(engine)
        let command = start(engine, shell: shell, "powershell -Command -", now: t0)
        let receive = request(.receive(commandID: command), shell: shell)
        var woken = 0
        guard case .wait(nil) = engine.handle(receive, identity: identity, clientIP: "", now: at(1), waiter: { woken += 1 }) else {
            return XCTFail("a stdin script waits without deadline")
        }
        _ = engine.handle(request(.send(commandID: command, data: Data("Write-Output x".utf8), end: false), shell: shell),
                          identity: identity, clientIP: "", now: at(2))
        XCTAssertEqual(woken, 0)
        _ = engine.handle(request(.send(commandID: command, data: Data("yz".utf8), end: true), shell: shell),
                          identity: identity, clientIP: "", now: at(3))
        XCTAssertEqual(woken, 1)
        guard case .received(_, let streams, .done(0)) = engine.handle(receive, identity: identity, clientIP: "", now: at(3)) else {
            return XCTFail("expected Done")
        }
        XCTAssertEqual(streams.map { String(decoding: $0.1, as: UTF8.self) }, ["xyz\r\n"])
    }

    func testIdleShellsDisappear() {
        let (engine, counters) = engine()
        let shell = createShell(engine, idle: 60)
        _ = start(engine, shell: shell, "hostname", now: at(59))
        XCTAssertEqual(engine.shellCount, 1)
        guard case .fault(.unknownShell) = engine.handle(request(.command(command: "hostname", arguments: []), shell: shell),
                                                         identity: identity, clientIP: "", now: at(120)) else {
            return XCTFail("expected the unknown-shell fault")
        }
        XCTAssertEqual(engine.shellCount, 0)
        XCTAssertEqual(counters.snapshot.shellsExpired, 1)
    }

    func testSignalAndDeleteReleaseCommands() {
        let (engine, _) = engine()
        let shell = createShell(engine)
        let command = start(engine, shell: shell, "sleep 100", now: t0)
        var woken = false
        _ = engine.handle(request(.receive(commandID: command), shell: shell), identity: identity, clientIP: "", now: at(1),
                          waiter: { woken = true })
        guard case .signalled = engine.handle(request(.signal(commandID: command, code: "ctrl_c"), shell: shell),
                                              identity: identity, clientIP: "", now: at(2)) else { return XCTFail() }
        XCTAssertTrue(woken, "a pending Receive learns its command is gone")
        guard case .fault(.unknownCommand) = engine.handle(request(.receive(commandID: command), shell: shell),
                                                           identity: identity, clientIP: "", now: at(2)) else { return XCTFail() }
        guard case .deleted = engine.handle(request(.delete, shell: shell), identity: identity, clientIP: "", now: at(3)) else {
            return XCTFail()
        }
        guard case .fault(.unknownShell) = engine.handle(request(.delete, shell: shell), identity: identity, clientIP: "", now: at(3)) else {
            return XCTFail("deleting twice is the unknown-shell fault")
        }
    }

    func testIdentityForms() {
        XCTAssertEqual(SimIdentity(account: "WINFLEET\\operator").domain, "WINFLEET")
        XCTAssertEqual(SimIdentity(account: "alice@corp.example").domain, "CORP")
        XCTAssertEqual(SimIdentity(account: "alice@corp.example").user, "alice")
        XCTAssertNil(SimIdentity(account: "alice").domain)
        XCTAssertTrue(SimConnectionAuth.sameAccount("WINFLEET\\operator", "winfleet\\OPERATOR"))
        XCTAssertTrue(SimConnectionAuth.sameAccount("WINFLEET\\operator", "operator"))
        XCTAssertFalse(SimConnectionAuth.sameAccount("WINFLEET\\operator", "OTHER\\operator"))
    }
}
