import Foundation
import WSMan
import WinRMTransport
import XCTest
@testable import Fleet

/// Every rule of `HostSessionMachine`'s doc comment, without I/O: events in, actions out.
final class HostSessionMachineTests: XCTestCase {
    typealias Machine = HostSessionMachine
    typealias Action = HostSessionMachine.Action

    private let networkError = WinRMError(.network, "127.1.40.1:5985 closed the connection", code: "curl:52")
    private let shellGone = WinRMError(.wsmanFault, "shell gone", code: String(WSManFault.invalidSelectorsCode))
    private let quotaOperations = WinRMError(.wsmanFault, "quota", code: String(WSManFault.quotaMaxOperationsCode))
    private let quotaShells = WinRMError(.wsmanFault, "quota", code: String(WSManFault.quotaMaxShellsCode))

    /// A machine with an open shell, idle, as after one finished command.
    private func idleMachine(policy: SessionPolicy = SessionPolicy()) -> Machine {
        var machine = Machine(policy: policy)
        XCTAssertEqual(machine.handle(.jobStarted), [.openShell])
        _ = machine.handle(.shellOpened(id: "S1"))
        XCTAssertEqual(machine.handle(.commandAccepted), [.receive])
        XCTAssertEqual(machine.handle(.commandFinished), [.finish(nil)])
        XCTAssertEqual(machine.state, .idle)
        return machine
    }

    private func waits(_ actions: [Action]) -> [TimeInterval] {
        actions.compactMap { if case .wait(let seconds) = $0 { return seconds } else { return nil } }
    }

    private func notes(_ actions: [Action]) -> [SessionEventKind] {
        actions.compactMap { if case .note(let kind, _) = $0 { return kind } else { return nil } }
    }

    private func finishedError(_ actions: [Action]) -> WinRMError?? {
        for action in actions { if case .finish(let error) = action { return .some(error) } }
        return .none
    }

    private func retries(_ actions: [Action]) -> Bool {
        actions.contains { [.openShell, .startCommand, .receive].contains($0) }
    }

    // MARK: happy path

    func testFirstJobOpensTheShellThenRunsTheCommand() {
        var machine = Machine()
        XCTAssertEqual(machine.handle(.jobStarted), [.openShell])
        XCTAssertEqual(machine.state, .connecting)
        XCTAssertEqual(machine.handle(.shellOpened(id: "S1")), [.note(.shellOpened, "shell S1"), .startCommand])
        XCTAssertEqual(machine.shellID, "S1")
        XCTAssertEqual(machine.state, .busy)
        XCTAssertEqual(machine.handle(.commandAccepted), [.receive])
        XCTAssertTrue(machine.commandAccepted)
        XCTAssertEqual(machine.handle(.commandFinished), [.finish(nil)])
        XCTAssertEqual(machine.state, .idle)
        XCTAssertNil(machine.lastError)
    }

    func testLaterJobsReuseTheShell() {
        var machine = idleMachine()
        for _ in 0..<5 {
            XCTAssertEqual(machine.handle(.jobStarted), [.startCommand], "the kept shell is reused, no new Create")
            XCTAssertEqual(machine.state, .busy)
            XCTAssertEqual(machine.handle(.commandAccepted), [.receive])
            XCTAssertEqual(machine.handle(.commandFinished), [.finish(nil)])
        }
        XCTAssertEqual(machine.shellID, "S1")
    }

    // MARK: retries bounded, with backoff

    func testConnectFailuresAreRetriedWithGrowingBackoffThenGiveUp() {
        var machine = Machine(policy: SessionPolicy(maxAttempts: 3, backoffBase: 0.2, backoffMax: 5))
        _ = machine.handle(.jobStarted)
        let first = machine.handle(.failed(networkError, stage: .openShell))
        XCTAssertEqual(first, [.note(.reconnect, "network: \(networkError.message)"), .dropConnection, .wait(0.2), .openShell])
        XCTAssertEqual(machine.state, .reconnecting)
        let second = machine.handle(.failed(networkError, stage: .openShell))
        XCTAssertEqual(waits(second), [0.4], "backoff doubles")
        XCTAssertEqual(second.last, .openShell)
        let third = machine.handle(.failed(networkError, stage: .openShell))
        XCTAssertFalse(retries(third), "maxAttempts 3 means three tries in all: \(third)")
        XCTAssertEqual(finishedError(third), .some(networkError))
        XCTAssertEqual(notes(third), [.broken])
        XCTAssertEqual(machine.state, .broken)
        XCTAssertEqual(machine.lastError, networkError)
    }

    func testProxyRefusalIsNotRetriedButAnUnreachableProxyIs() {
        let refused = WinRMError(.proxy, "proxy refuses CONNECT to port 5985", code: "403")
        var machine = Machine()
        _ = machine.handle(.jobStarted)
        let actions = machine.handle(.failed(refused, stage: .openShell))
        XCTAssertFalse(retries(actions), "a refusal is configuration, asking again cannot help: \(actions)")
        XCTAssertEqual(finishedError(actions), .some(refused))
        XCTAssertEqual(machine.state, .broken)

        let unreachable = WinRMError(.proxy, "proxy is unreachable", code: "curl:7")
        var other = Machine()
        _ = other.handle(.jobStarted)
        XCTAssertTrue(retries(other.handle(.failed(unreachable, stage: .openShell))))
        let gateway = WinRMError(.proxy, "proxy could not reach the host", code: "502")
        var third = Machine()
        _ = third.handle(.jobStarted)
        XCTAssertTrue(retries(third.handle(.failed(gateway, stage: .openShell))))
    }

    func testBackoffIsCappedAtTheMaximum() {
        var machine = Machine(policy: SessionPolicy(maxAttempts: 10, backoffBase: 1, backoffMax: 5))
        _ = machine.handle(.jobStarted)
        var seen: [TimeInterval] = []
        for _ in 0..<9 {
            seen += waits(machine.handle(.failed(networkError, stage: .openShell)))
        }
        XCTAssertEqual(seen, [1, 2, 4, 5, 5, 5, 5, 5, 5])
        let last = machine.handle(.failed(networkError, stage: .openShell))
        XCTAssertEqual(machine.state, .broken)
        XCTAssertFalse(retries(last))
    }

    func testReceiveFailuresArePolledAgainOverANewConnection() {
        var machine = idleMachine()
        _ = machine.handle(.jobStarted)
        _ = machine.handle(.commandAccepted)
        let timeout = WinRMError(.timeout, "did not answer in time", code: "curl:28", requestMayHaveArrived: true)
        let actions = machine.handle(.failed(timeout, stage: .receive))
        XCTAssertEqual(actions.last, .receive, "a Receive is safe to repeat: \(actions)")
        XCTAssertTrue(actions.contains(.dropConnection))
        XCTAssertFalse(actions.contains(.startCommand), "the command is never sent again")
    }

    func testAcceptedCommandResetsTheAttemptCount() {
        var machine = Machine(policy: SessionPolicy(maxAttempts: 3))
        _ = machine.handle(.jobStarted)
        _ = machine.handle(.failed(networkError, stage: .openShell))
        _ = machine.handle(.failed(networkError, stage: .openShell))
        XCTAssertEqual(machine.attempts, 2)
        _ = machine.handle(.shellOpened(id: "S1"))
        _ = machine.handle(.commandAccepted)
        XCTAssertEqual(machine.attempts, 0)
        // Two receive failures are still within the budget of the receive stage.
        XCTAssertEqual(machine.handle(.failed(networkError, stage: .receive)).last, .receive)
        XCTAssertEqual(machine.handle(.failed(networkError, stage: .receive)).last, .receive)
    }

    // MARK: shell gone

    func testShellGoneBeforeACommandReopensTheShellAndRunsIt() {
        var machine = idleMachine()
        XCTAssertEqual(machine.handle(.jobStarted), [.startCommand])
        let actions = machine.handle(.failed(shellGone, stage: .startCommand))
        XCTAssertEqual(actions.last, .openShell, "\(actions)")
        XCTAssertEqual(notes(actions), [.shellReopened])
        XCTAssertFalse(actions.contains(.dropConnection), "the connection is fine, only the shell is gone")
        XCTAssertNil(machine.shellID)
        let reopened = machine.handle(.shellOpened(id: "S2"))
        XCTAssertEqual(reopened, [.note(.shellReopened, "shell S2"), .startCommand])
        XCTAssertEqual(machine.shellID, "S2")
        XCTAssertEqual(machine.handle(.commandAccepted), [.receive])
        XCTAssertEqual(machine.handle(.commandFinished), [.finish(nil)])
    }

    func testShellGoneDuringReceiveFinishesWithAnErrorAndDoesNotRunItAgain() {
        var machine = idleMachine()
        _ = machine.handle(.jobStarted)
        _ = machine.handle(.commandAccepted)
        let actions = machine.handle(.failed(shellGone, stage: .receive))
        XCTAssertFalse(retries(actions), "a command whose shell vanished is not run again: \(actions)")
        guard case .some(.some(let error)) = finishedError(actions) else {
            return XCTFail("expected finish with an error: \(actions)")
        }
        XCTAssertEqual(error.kind, .wsmanFault)
        XCTAssertTrue(error.message.contains("not run again"), error.message)
        XCTAssertNil(machine.shellID)
        XCTAssertNotEqual(machine.state, .broken)
        // The next job opens a new shell.
        XCTAssertEqual(machine.handle(.jobStarted), [.openShell])
    }

    // MARK: quota

    func testQuotaFaultClosesAndReopensTheShellOnce() {
        for quota in [quotaOperations, quotaShells] {
            var machine = idleMachine()
            _ = machine.handle(.jobStarted)
            let first = machine.handle(.failed(quota, stage: .startCommand))
            XCTAssertEqual(notes(first), [.quota])
            XCTAssertEqual(Array(first.dropFirst()), [.closeShell, .openShell])
            XCTAssertEqual(machine.handle(.shellOpened(id: "S2")).last, .startCommand)
            let second = machine.handle(.failed(quota, stage: .startCommand))
            XCTAssertEqual(notes(second), [.quota])
            XCTAssertFalse(retries(second), "a second quota fault is not retried: \(second)")
            XCTAssertFalse(second.contains(.closeShell))
            XCTAssertEqual(finishedError(second), .some(quota))
            XCTAssertNotEqual(machine.state, .broken, "a quota is the host's limit, not a broken session")
        }
    }

    func testQuotaRetryIsOncePerJob() {
        var machine = idleMachine()
        _ = machine.handle(.jobStarted)
        _ = machine.handle(.failed(quotaOperations, stage: .startCommand))
        _ = machine.handle(.shellOpened(id: "S2"))
        _ = machine.handle(.commandAccepted)
        _ = machine.handle(.commandFinished)
        // A new job may recover from a quota fault again.
        _ = machine.handle(.jobStarted)
        XCTAssertEqual(Array(machine.handle(.failed(quotaOperations, stage: .startCommand)).dropFirst()), [.closeShell, .openShell])
    }

    // MARK: no retry storm

    func testCredentialPolicyTLSProxyAndAffinityFailuresBreakTheSessionWithoutRetry() {
        let kinds: [WinRMErrorKind] = [.auth, .policy, .tls, .proxyAuth, .affinity]
        for kind in kinds {
            for stage in [SessionStage.openShell, .startCommand, .receive] {
                var machine = Machine()
                _ = machine.handle(.jobStarted)
                if stage != .openShell { _ = machine.handle(.shellOpened(id: "S1")) }
                if stage == .receive { _ = machine.handle(.commandAccepted) }
                let error = WinRMError(kind, "\(kind.rawValue) failure", code: "401")
                let actions = machine.handle(.failed(error, stage: stage))
                XCTAssertFalse(retries(actions), "\(kind) at \(stage) must not be retried: \(actions)")
                XCTAssertFalse(actions.contains { if case .wait = $0 { return true } else { return false } })
                XCTAssertEqual(finishedError(actions), .some(error), "\(kind) at \(stage)")
                XCTAssertEqual(notes(actions), [.broken])
                XCTAssertEqual(machine.state, .broken, "\(kind) at \(stage)")
            }
        }
    }

    // MARK: a Command is never sent twice

    func testStartCommandFailureThatMayHaveArrivedFinishesWithoutRetrying() {
        for kind in [WinRMErrorKind.network, .timeout, .proxy, .protocol] {
            var machine = idleMachine()
            _ = machine.handle(.jobStarted)
            let error = WinRMError(kind, "connection lost", code: "uncertain", requestMayHaveArrived: true)
            let actions = machine.handle(.failed(error, stage: .startCommand))
            XCTAssertFalse(retries(actions), "\(kind): \(actions)")
            XCTAssertTrue(actions.contains(.dropConnection), "the connection under an uncertain request is not reused")
            guard case .some(.some(let finished)) = finishedError(actions) else { return XCTFail("\(actions)") }
            XCTAssertEqual(finished.kind, kind)
            XCTAssertTrue(finished.requestMayHaveArrived)
            XCTAssertTrue(finished.message.contains("may have started"), finished.message)
            XCTAssertTrue(finished.message.contains("not sent again"), finished.message)
        }
    }

    /// The transport reports a connection that died under an authenticated (sealed) Command as
    /// kind `affinity` with `requestMayHaveArrived` (WinRMConnection.classify, `.connectionClosed`
    /// while `sealing != nil`). The operator must still learn that the command may have started.
    func testAffinityLossUnderACommandStillSaysItMayHaveStarted() {
        var machine = idleMachine()
        _ = machine.handle(.jobStarted)
        let error = WinRMError(.affinity, "127.1.40.1:5985 closed the authenticated connection", code: "curl:52",
                               requestMayHaveArrived: true)
        let actions = machine.handle(.failed(error, stage: .startCommand))
        XCTAssertFalse(retries(actions))
        guard case .some(.some(let finished)) = finishedError(actions) else { return XCTFail("\(actions)") }
        XCTAssertTrue(finished.requestMayHaveArrived)
        XCTAssertTrue(finished.message.contains("may have started"),
                      "BUG: an uncertain Command reported as affinity loses the 'may have started' warning: \(finished.message)")
    }

    func testStartCommandFailureBeforeTheRequestWentOutIsRetried() {
        var machine = idleMachine()
        _ = machine.handle(.jobStarted)
        let refused = WinRMError(.network, "cannot connect", code: "curl:7", requestMayHaveArrived: false)
        let actions = machine.handle(.failed(refused, stage: .startCommand))
        XCTAssertEqual(actions.last, .startCommand, "nothing reached the host, so sending it is safe: \(actions)")
    }

    // MARK: broken, then a new job

    func testGivingUpMarksBrokenWithTheLastErrorAndANewJobTriesAgain() {
        var machine = Machine(policy: SessionPolicy(maxAttempts: 2, backoffBase: 0.01))
        _ = machine.handle(.jobStarted)
        _ = machine.handle(.failed(WinRMError(.network, "first"), stage: .openShell))
        let last = WinRMError(.timeout, "second, the last", code: "curl:28")
        let actions = machine.handle(.failed(last, stage: .openShell))
        XCTAssertEqual(machine.state, .broken)
        XCTAssertEqual(machine.lastError, last)
        XCTAssertEqual(finishedError(actions), .some(last))
        guard case .note(.broken, let detail) = actions.first else { return XCTFail("\(actions)") }
        XCTAssertTrue(detail.contains("gave up after 2 attempts"), detail)
        XCTAssertTrue(detail.contains(last.message), detail)

        XCTAssertEqual(machine.handle(.jobStarted), [.openShell], "a new job starts over")
        XCTAssertEqual(machine.state, .connecting)
        XCTAssertEqual(machine.attempts, 0)
        XCTAssertEqual(machine.handle(.failed(WinRMError(.network, "again"), stage: .openShell)).last, .openShell,
                       "the new job has its own retry budget")
    }

    func testNewJobAfterAnAuthFailureTriesAgain() {
        var machine = Machine()
        _ = machine.handle(.jobStarted)
        _ = machine.handle(.failed(WinRMError(.auth, "refused", code: "401"), stage: .openShell))
        XCTAssertEqual(machine.state, .broken)
        XCTAssertEqual(machine.handle(.jobStarted), [.openShell])
        XCTAssertEqual(machine.handle(.shellOpened(id: "S9")).last, .startCommand)
    }

    // MARK: cancel, faults that end the job

    func testCancelFinishesAsCancelledAndKeepsTheShell() {
        var machine = idleMachine()
        _ = machine.handle(.jobStarted)
        _ = machine.handle(.commandAccepted)
        let actions = machine.handle(.cancelled)
        guard case .some(.some(let error)) = finishedError(actions) else { return XCTFail("\(actions)") }
        XCTAssertEqual(error.code, "cancelled")
        XCTAssertEqual(machine.state, .idle)
        XCTAssertEqual(machine.shellID, "S1")
        XCTAssertEqual(machine.handle(.jobStarted), [.startCommand])
    }

    func testOtherWSManFaultsFinishTheJobWithoutRetry() {
        var machine = idleMachine()
        _ = machine.handle(.jobStarted)
        let fault = WinRMError(.wsmanFault, "access denied", code: "5")
        let actions = machine.handle(.failed(fault, stage: .startCommand))
        XCTAssertEqual(actions, [.finish(fault)])
        XCTAssertEqual(machine.state, .idle)
    }

    func testClosedForgetsTheShell() {
        var machine = idleMachine()
        machine.closed()
        XCTAssertEqual(machine.state, .disconnected)
        XCTAssertNil(machine.shellID)
        XCTAssertEqual(machine.handle(.jobStarted), [.openShell])
    }
}
