import XCTest
@testable import Console

final class ConsoleStateTests: XCTestCase {
    func testFilterIsARegexAndBangInverts() {
        let h = ConsoleHarness()
        h.press("/^win00(0[1-9]|10) <enter>")
        XCTAssertEqual(h.state.fleetRows(h.snapshot).visibleHosts, 10)
        h.press("<esc>/!idle<enter>")
        XCTAssertEqual(h.state.filter, "!idle")
        let shown = h.state.fleetRows(h.snapshot).hostOrder.map { h.snapshot.hosts[$0] }
        XCTAssertFalse(shown.isEmpty)
        XCTAssertTrue(shown.allSatisfy { $0.session != .idle })
        XCTAssertEqual(shown.count, h.snapshot.hosts.filter { $0.session != .idle }.count)
    }

    func testInvalidRegexMatchesLiterallyAndSaysSo() {
        let h = ConsoleHarness()
        h.press("/win[00<enter>")
        XCTAssertEqual(h.state.status?.isError, true)
        XCTAssertTrue(h.state.status!.text.contains("literally"))
        XCTAssertEqual(h.state.fleetRows(h.snapshot).visibleHosts, 0)
    }

    func testFilterStaysAcrossViewsAndEscRestoresWhileEditing() {
        let h = ConsoleHarness()
        h.press("/dmz<enter>")
        h.press("<tab><tab>1")
        XCTAssertEqual(h.state.filter, "dmz")
        h.press("/xyz<esc>")
        XCTAssertEqual(h.state.filter, "dmz", "Esc while editing goes back to the previous filter")
        h.press("<esc>")
        XCTAssertEqual(h.state.filter, "", "Esc in the view clears the filter")
    }

    func testFilterAppliesToRunView() {
        let h = ConsoleHarness()
        h.startRun()
        h.press("/timed out<enter>")
        XCTAssertEqual(h.state.runOrder(h.snapshot, history: false).count, 2)
    }

    func testMarksAndMarkAllAndClear() {
        let h = ConsoleHarness()
        h.press("<down><space><space>")
        XCTAssertEqual(h.state.marks, ["win0004", "win0008"])
        h.press("<home><space>")
        XCTAssertEqual(h.state.marks.count, 30, "space on a route row marks its hosts")
        h.press("<home><space>")
        XCTAssertEqual(h.state.marks.count, 0, "and again unmarks them")
        h.press("/lab<enter>a")
        XCTAssertEqual(h.state.marks.count, h.state.fleetRows(h.snapshot).visibleHosts)
        h.press("u")
        XCTAssertTrue(h.state.marks.isEmpty)
    }

    func testRunTargetsMarkedThenFilteredThenTarget() {
        let h = ConsoleHarness()
        // Nothing chosen: no run, a clear message.
        XCTAssertEqual(h.press(":run hostname<enter>"), [])
        XCTAssertTrue(h.state.status!.text.contains("no target"))
        // :target
        h.press(":target win[0001-0003],@東京<enter>")
        XCTAssertEqual(h.state.runTarget?.hosts.count, 3 + 17)
        XCTAssertEqual(h.press(":run hostname<enter>"),
                       [.startRun(command: "hostname", powershell: false, hosts: h.state.runTarget!.hosts)])
        h.engine.cancelRun()
        // Filtered beats :target.
        h.press("1/^win000[1-5] <enter>")
        let filtered = h.press(":ps Get-Service WinRM<enter>")
        XCTAssertEqual(filtered.count, 1)
        guard case .startRun(_, let powershell, let hosts) = filtered[0] else { return XCTFail() }
        XCTAssertTrue(powershell)
        XCTAssertEqual(Set(hosts), ["win0001", "win0002", "win0003", "win0004", "win0005"])
        h.engine.cancelRun()
        // Marked beats filtered.
        h.press("1<home><down><space>")
        guard case .startRun(_, _, let marked) = h.press(":run whoami<enter>").first else { return XCTFail() }
        XCTAssertEqual(marked, h.state.marks.sorted())
        XCTAssertEqual(marked.count, 1)
    }

    func testTargetErrorsGoToTheStatusLine() {
        let h = ConsoleHarness()
        h.press(":target nosuchhost<enter>")
        XCTAssertEqual(h.state.status?.isError, true)
        XCTAssertTrue(h.state.status!.text.contains("nosuchhost"))
        XCTAssertNil(h.state.runTarget)
    }

    func testCtrlCOnceShowsPendingTwiceCancelsNeverQuits() {
        let h = ConsoleHarness()
        XCTAssertEqual(h.press("<c-c>"), [], "no run: nothing to cancel and no quitting")
        XCTAssertTrue(h.state.status!.text.contains("no run"))
        h.startRun()
        XCTAssertEqual(h.press("<c-c>"), [.showPendingSummary])
        XCTAssertTrue(h.state.status!.text.contains("pending"))
        XCTAssertEqual(h.press("<c-c>"), [.cancelRun])
        XCTAssertFalse(h.snapshot.run!.isActive)
        XCTAssertFalse(h.effects.contains(.quit))
        // Another key between the two presses disarms.
        h.startRun()
        h.press("<c-c>j<c-c>")
        XCTAssertTrue(h.snapshot.run!.isActive)
        // ctrl-c works while typing too.
        h.press(":run x<c-c><c-c>")
        XCTAssertEqual(h.effects.last, .cancelRun)
    }

    func testQuitAsksWhileARunIsActive() {
        let h = ConsoleHarness()
        h.startRun()
        XCTAssertEqual(h.press("q"), [])
        XCTAssertEqual(h.state.mode, .confirmQuit)
        XCTAssertEqual(h.press("n"), [])
        XCTAssertEqual(h.state.mode, .normal)
        h.press("q")
        XCTAssertEqual(h.press("y"), [.cancelRun, .quit])
        let idle = ConsoleHarness()
        XCTAssertEqual(idle.press("q"), [.quit])
        XCTAssertEqual(idle.press(":quit<enter>"), [.quit])
    }

    func testRerunFailedHostsOfTheLastRun() {
        let h = ConsoleHarness()
        h.startRun(hosts: 30, finished: 10)
        h.press("r")
        XCTAssertTrue(h.state.status!.isError, "not while the run is active")
        h.engine.advance(results: 30)
        let failed = h.snapshot.run!.hosts.filter(\.needsRerun).map(\.name)
        let effects = h.press("r")
        XCTAssertFalse(failed.isEmpty)
        XCTAssertEqual(effects, [.startRun(command: "ipconfig /all", powershell: false, hosts: failed)])
    }

    func testCancelSelectedHost() {
        let h = ConsoleHarness()
        h.startRun(hosts: 100, finished: 10)
        h.press("/win0050<enter>")
        XCTAssertEqual(h.press("x"), [.cancelHost("win0050")])
        XCTAssertEqual(h.snapshot.run!.hosts.first { $0.name == "win0050" }?.state, .cancelled)
        h.press("/win0001<enter>")
        XCTAssertEqual(h.press("x"), [], "a finished host has nothing to cancel")
    }

    func testCommandsAndHistory() {
        let h = ConsoleHarness()
        XCTAssertEqual(h.press(":throttle 8<enter>"), [.setThrottle(8)])
        h.press(":throttle zero<enter>")
        XCTAssertTrue(h.state.status!.isError)
        h.press(":health<enter>")
        XCTAssertEqual(h.state.view, .health)
        h.press(":bogus<enter>")
        XCTAssertTrue(h.state.status!.text.contains("unknown command :bogus"))
        XCTAssertEqual(h.press(":theme light<enter>"), [.loadTheme("light")])
        XCTAssertEqual(h.state.themeName, "light")
        // History: ↑ brings back earlier lines, newest first.
        h.press(":<up>")
        XCTAssertEqual(h.state.mode, .command(PromptLine("theme light")))
        h.press("<up><up>")
        XCTAssertEqual(h.state.mode, .command(PromptLine("health")))
        h.press("<down>")
        XCTAssertEqual(h.state.mode, .command(PromptLine("bogus")))
        h.press("<esc>")
        XCTAssertEqual(h.state.commandHistory, ["throttle 8", "throttle zero", "health", "bogus", "theme light"])
    }

    func testNextThemeCycles() {
        let h = ConsoleHarness()
        XCTAssertEqual(h.press("t"), [.loadTheme("light")])
        XCTAssertEqual(h.press("t"), [.loadTheme("high-contrast")])
        XCTAssertEqual(h.press("t"), [.loadTheme("mono")])
        XCTAssertEqual(h.press("t"), [.loadTheme("default")])
    }

    func testOpenHistoryRunAndItsOutput() {
        let h = ConsoleHarness()
        h.press("5")
        XCTAssertEqual(h.press("<enter>"), [.openHistoryRun(3)], "newest first")
        XCTAssertEqual(h.state.view, .historyRun)
        h.press("<down><enter>")
        XCTAssertEqual(h.state.view, .output)
        XCTAssertTrue(h.state.outputFromHistory)
        XCTAssertEqual(h.state.outputHost, "win0002")
        XCTAssertTrue(h.text().contains("win0002"))
        h.press("<esc>")
        XCTAssertEqual(h.state.view, .historyRun)
        h.press("<esc>")
        XCTAssertEqual(h.state.view, .history)
    }

    func testSelectionFollowsItsRowWhenSortingMovesIt() {
        let h = ConsoleHarness()
        h.startRun(hosts: 20, finished: 0)
        h.press("/win0010<enter><esc>")
        h.press("2")
        for _ in 0..<9 { h.press("j") }
        XCTAssertEqual(h.state.selectedHost(h.snapshot), "win0010")
        h.press("ss") // sort by state: rows move
        XCTAssertEqual(h.state.selectedHost(h.snapshot), "win0010")
    }

    func testOutputFollowsUntilScrolledUp() {
        let h = ConsoleHarness()
        let many = (1...100).map { "line \($0)" }.joined(separator: "\n")
        let run = RunProgress(id: 1, command: "x", startedAt: FakeEngine.defaultNow,
                              hosts: [RunHostRow(name: "h1", route: "direct", state: .running, stdout: many)],
                              throttle: 1, isActive: true)
        var snapshot = FleetSnapshot(run: run, version: 1)
        var state = ConsoleState()
        _ = state.handle(.char("2"), snapshot: snapshot)
        _ = state.handle(.enter, snapshot: snapshot)
        let size = ScreenSize(rows: 24, cols: 80)
        XCTAssertTrue(render(state: state, snapshot: snapshot, size: size).textLines()[21].hasPrefix("line 100"))
        snapshot.run!.hosts[0].stdout += "\nline 101"
        snapshot.version = 2
        XCTAssertTrue(render(state: state, snapshot: snapshot, size: size).textLines()[21].hasPrefix("line 101"))
        _ = state.handle(.up, snapshot: snapshot)
        XCTAssertFalse(state.outputFollow)
        snapshot.run!.hosts[0].stdout += "\nline 102"
        snapshot.version = 3
        XCTAssertTrue(render(state: state, snapshot: snapshot, size: size).textLines()[21].hasPrefix("line 100"))
        _ = state.handle(.end, snapshot: snapshot)
        XCTAssertTrue(render(state: state, snapshot: snapshot, size: size).textLines()[21].hasPrefix("line 102"))
    }

    func testHandleDoesNoIOAndRenderIsDeterministic() {
        let h = ConsoleHarness()
        h.startRun()
        let a = render(state: h.state, snapshot: h.snapshot, size: ScreenSize(rows: 24, cols: 80))
        let b = render(state: h.state, snapshot: h.snapshot, size: ScreenSize(rows: 24, cols: 80))
        XCTAssertEqual(a, b)
        XCTAssertEqual(h.engine.calls, ["startRun ipconfig /all 100"], "the engine only hears effects")
    }
}
