import XCTest
@testable import Console

/// Golden screens of every view at the minimum size and a large one, and the role maps of every theme.
final class GoldenScreenTests: XCTestCase {
    static let sizes = [ScreenSize(rows: 24, cols: 80), ScreenSize(rows: 50, cols: 200)]

    private func check(_ name: String, file: StaticString = #filePath, line: UInt = #line,
                       _ setUp: (ConsoleHarness) -> Void) {
        for size in Self.sizes {
            let harness = ConsoleHarness(size: size)
            setUp(harness)
            Golden.assert(harness.frame(size).goldenDump(), named: "\(name)-\(size.cols)x\(size.rows)", file: file, line: line)
        }
    }

    func testFleet() { check("fleet") { _ in } }

    func testFleetMarkedAndSelected() {
        check("fleet-marks") { h in h.press("<down><down><space><space><down>") }
    }

    func testFleetSortedBySession() {
        check("fleet-sort-session") { h in h.press("sssss") }
    }

    func testFleetFaultsOnly() { check("fleet-faults") { h in h.press("f") } }

    func testFilterMode() { check("filter-mode") { h in h.press("/dmz|東京") } }

    func testFilterInverted() { check("filter-inverted") { h in h.press("/!idle<enter>") } }

    func testCommandMode() {
        check("command-mode") { h in h.press(":throttle 16<enter>:run ipconfig /all") }
    }

    func testRun() { check("run") { h in h.startRun() } }

    func testRunFinished() { check("run-finished") { h in h.startRun(hosts: 50, finished: 50) } }

    func testOutputOfFailedHost() {
        check("output-failed") { h in
            h.startRun()
            h.press("/win0006<enter><enter>")
        }
    }

    func testOutputOfErrorHost() {
        check("output-error") { h in
            h.startRun()
            h.press("<enter>")
        }
    }

    func testGroups() {
        check("groups") { h in
            h.startRun()
            h.press("g")
        }
    }

    func testGroupsWithStderr() {
        check("groups-stderr") { h in
            h.startRun()
            h.press("g<down>e")
        }
    }

    func testHealth() { check("health") { h in h.press("4") } }

    func testHealthScrolled() { check("health-scrolled") { h in h.press("4<pgdn>") } }

    func testHistory() { check("history") { h in h.press(":history<enter>") } }

    func testPastRun() { check("history-run") { h in h.press("5<down><down><enter>") } }

    func testHelpOverlay() { check("help") { h in h.press("?") } }

    func testHelpOverlayScrolled() { check("help-scrolled") { h in h.press("?<pgdn>") } }

    func testConfirmQuit() {
        check("confirm-quit") { h in
            h.startRun()
            h.press("q")
        }
    }

    func testInterruptOnce() {
        check("interrupt-once") { h in
            h.startRun()
            h.press("<c-c>")
        }
    }

    func testTooSmall() {
        for size in [ScreenSize(rows: 20, cols: 60), ScreenSize(rows: 24, cols: 79), ScreenSize(rows: 5, cols: 20)] {
            let harness = ConsoleHarness(size: size)
            Golden.assert(harness.frame(size).goldenDump(), named: "too-small-\(size.cols)x\(size.rows)")
        }
    }

    func testThemeRoleMaps() {
        for name in ThemeCatalog.builtinNames {
            Golden.assert(ThemeCatalog.builtin(name)!.roleMapDump(), named: "theme-\(name)")
        }
    }

    /// Wide characters (CJK = 2 columns, emoji) in host names, groups, errors and output keep columns aligned.
    func testWideCharacters() {
        let hosts = [
            HostRow(name: "東京-web01", address: "10.9.0.1", port: 5986, groups: ["東京", "ウェブ"], transport: "https",
                    auth: "negotiate", mechanism: "kerberos", route: "direct", session: .idle, lastRTTms: 12),
            HostRow(name: "café-02", address: "10.9.0.2", port: 5986, groups: ["e\u{301}quipe"], transport: "https",
                    auth: "ntlm", route: "direct", session: .broken, lastRTTms: nil,
                    lastError: ErrorInfo(kind: "auth", message: "アクセスが拒否されました 🚫")),
            HostRow(name: "plain03", address: "10.9.0.3", port: 5985, groups: ["all"], transport: "http",
                    auth: "basic", route: "direct", session: .idle, lastRTTms: 3),
        ]
        let run = RunProgress(id: 9, command: "Get-Content 日本語.txt", isPowerShell: true, startedAt: FakeEngine.defaultNow,
                              hosts: hosts.map { RunHostRow(name: $0.name, route: $0.route, state: .done, exitCode: 0,
                                                            duration: 1, stdout: "こんにちは、世界 ✅\n\tタブ\n") },
                              throttle: 8, isActive: false)
        let snapshot = FleetSnapshot(routes: [RouteSummary(name: "direct", proxy: "direct", mode: "direct", ok: 2, authErrors: 1)],
                                     hosts: hosts, run: run, version: 1)
        var state = ConsoleState()
        state.now = FakeEngine.defaultNow
        state.timeZone = TimeZone(identifier: "UTC")!
        for size in Self.sizes {
            state.view = .fleet
            Golden.assert(render(state: state, snapshot: snapshot, size: size).goldenDump(), named: "wide-fleet-\(size.cols)x\(size.rows)")
            state.view = .run
            Golden.assert(render(state: state, snapshot: snapshot, size: size).goldenDump(), named: "wide-run-\(size.cols)x\(size.rows)")
        }
        // Every row is exactly as wide as the screen, counted in display columns.
        for size in Self.sizes {
            for view in [ConsoleView.fleet, .run, .groups] {
                state.view = view
                let frame = render(state: state, snapshot: snapshot, size: size)
                for line in frame.textLines() { XCTAssertEqual(DisplayWidth.of(line), size.cols, "\(view): \(line)") }
            }
        }
    }
}
