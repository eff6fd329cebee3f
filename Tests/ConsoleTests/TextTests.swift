import XCTest
@testable import Console

final class TextTests: XCTestCase {
    func testDisplayWidth() {
        XCTAssertEqual(DisplayWidth.of("win0001"), 7)
        XCTAssertEqual(DisplayWidth.of("東京"), 4)
        XCTAssertEqual(DisplayWidth.of("ｗｉｎ"), 6, "fullwidth forms")
        XCTAssertEqual(DisplayWidth.of("e\u{301}"), 1, "combining accent")
        XCTAssertEqual(DisplayWidth.of("한국어"), 6)
        XCTAssertEqual(DisplayWidth.of("🚫"), 2)
        XCTAssertEqual(DisplayWidth.of("▾ ●"), 3)
    }

    func testTruncateAndFitCountColumns() {
        XCTAssertEqual(DisplayWidth.truncate("東京都庁", to: 5), "東京…")
        XCTAssertEqual(DisplayWidth.fit("東京", to: 6), "東京  ")
        XCTAssertEqual(DisplayWidth.fit("7", to: 3, alignRight: true), "  7")
        XCTAssertEqual(DisplayWidth.truncate("abc", to: 3), "abc")
    }

    func testFramePutHandlesWideCharactersAtEdges() {
        var frame = ScreenFrame(size: ScreenSize(rows: 1, cols: 5))
        frame.put("ab東京", row: 0, col: 0, role: .normal)
        XCTAssertEqual(frame.textLines(), ["ab東 "], "a wide character that does not fit leaves a blank")
        frame.put("x", row: 0, col: 3, role: .normal)
        XCTAssertEqual(frame.textLines(), ["ab x "], "overwriting half a wide character blanks the other half")
    }

    func testSanitizeOutput() {
        XCTAssertEqual(TerminalText.lines("a\r\nb\r\n"), ["a", "b"])
        XCTAssertEqual(TerminalText.lines("x\ty"), ["x       y"])
        XCTAssertEqual(TerminalText.lines("\u{1B}[31mred"), ["?[31mred"])
        XCTAssertEqual(TerminalText.firstLine("\r\n\r\n  Windows IP\r\n"), "Windows IP")
    }

    func testWrap() {
        XCTAssertEqual(TerminalText.wrap("use mode tunnel for route dmz", width: 12), ["use mode", "tunnel for", "route dmz"])
        XCTAssertEqual(TerminalText.wrap("abcdefghij", width: 4), ["abcd", "efgh", "ij"])
    }

    func testHostSetFolding() {
        var names = (1...40).map { String(format: "win%04d", $0) }
        names.append("win0042")
        XCTAssertEqual(HostSetFolding.foldWithCount(names), "win[0001-0040,0042] (41)")
        XCTAssertEqual(HostSetFolding.fold(["web01", "db1", "web02", "web03", "gateway"]), "db1,gateway,web[01-03]")
        XCTAssertEqual(HostSetFolding.fold(["web9", "web10", "web11"]), "web[9-11]")
        XCTAssertEqual(HostSetFolding.fold(["web01.corp", "web02.corp", "web03.dc2.corp"]), "web[01-02].corp,web03.dc2.corp")
        XCTAssertEqual(HostSetFolding.fold(["n0999", "n1000"]), "n[0999-1000]")
        XCTAssertEqual(HostSetFolding.fold(["a1", "a1"]), "a1")
    }

    func testNaturalOrder() {
        let names = ["win10", "win2", "WIN1", "win02", "db"]
        XCTAssertEqual(names.sorted(by: NaturalOrder.less), ["db", "WIN1", "win2", "win02", "win10"])
    }

    func testErrorExplanations() {
        let squid = RouteSummary(name: "dmz-squid", proxy: "http://127.0.0.1:3128", mode: "forward")
        let affinity = ErrorExplanation.explain(ErrorInfo(kind: "affinity", message: "x"), route: squid)
        XCTAssertEqual(affinity.explanation,
                       "the proxy dmz-squid (http://127.0.0.1:3128) did not keep connection affinity: NTLM needs one TCP connection end to end")
        XCTAssertEqual(affinity.remedy, "use mode tunnel for route dmz-squid, or a proxy that pins connection-auth connections")
        let tunnel = RouteSummary(name: "branch", proxy: "http://127.0.0.1:3129", mode: "tunnel")
        XCTAssertTrue(ErrorExplanation.explain(ErrorInfo(kind: "affinity", message: "x"), route: tunnel).remedy.contains("timeouts"))
        let direct = RouteSummary(name: "direct", proxy: "direct", mode: "direct")
        XCTAssertTrue(ErrorExplanation.explain(ErrorInfo(kind: "affinity", message: "x"), route: direct).remedy.contains("Kerberos"))
        XCTAssertTrue(ErrorExplanation.explain(ErrorInfo(kind: "proxy_auth", message: "407"), route: squid).remedy.contains("dmz-squid"))
        XCTAssertTrue(ErrorExplanation.explain(ErrorInfo(kind: "auth", message: ""), route: direct, mechanism: "kerberos").remedy.contains("SPN"))
        XCTAssertEqual(ErrorExplanation.explain(ErrorInfo(kind: "wsman_fault", message: "", code: "2150858843"), route: nil).title, "shell gone")
        for kind in ErrorExplanation.kindOrder {
            let e = ErrorExplanation.explain(ErrorInfo(kind: kind, message: "m"), route: squid)
            XCTAssertFalse(e.explanation.isEmpty || e.remedy.isEmpty, kind)
        }
    }

    func testRunSummaryAndGroups() {
        let rows = [
            RunHostRow(name: "w2", route: "r", state: .done, exitCode: 0, stdout: "ok\n"),
            RunHostRow(name: "w1", route: "r", state: .done, exitCode: 0, stdout: "ok\n", stderr: "warn"),
            RunHostRow(name: "w3", route: "r", state: .failed, exitCode: 0 + 1, stdout: "ok\n"),
            RunHostRow(name: "w4", route: "r", state: .error, error: ErrorInfo(kind: "auth", message: "401")),
            RunHostRow(name: "w5", route: "r", state: .timedOut),
            RunHostRow(name: "w6", route: "r", state: .running),
        ]
        let summary = RunSummary(rows)
        XCTAssertEqual(summary.finished, 5)
        XCTAssertEqual(summary.ok, 2)
        XCTAssertEqual(summary.failed, 3)
        XCTAssertEqual(summary.exitCodeText, "0×2  1×1")
        XCTAssertEqual(summary.errorKindText, "auth 1  timeout 1")
        let (groups, pending) = RunResults.groups(rows, includeStderr: false)
        XCTAssertEqual(pending, ["w6"])
        XCTAssertEqual(groups.first?.hostSet, "w[1-2] (2)", "same exit code and output fold; a different exit code does not")
        XCTAssertEqual(groups.count, 4)
        XCTAssertEqual(RunResults.groups(rows, includeStderr: true).groups.count, 5, "stderr splits w1 from w2")
    }
}
