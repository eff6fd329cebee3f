import XCTest
@testable import Console

final class ScreenTests: XCTestCase {
    func testCursesKeyMapping() {
        XCTAssertEqual(CursesScreen.key(kind: 1, character: 3), .ctrl("c"))
        XCTAssertEqual(CursesScreen.key(kind: 1, character: 13), .enter)
        XCTAssertEqual(CursesScreen.key(kind: 1, character: 27), .escape)
        XCTAssertEqual(CursesScreen.key(kind: 1, character: 127), .backspace)
        XCTAssertEqual(CursesScreen.key(kind: 1, character: 0x6771), .char("東"))
        XCTAssertEqual(CursesScreen.key(kind: 1, character: 32), .char(" "))
    }

    func testRecordingScreenRecordsTextAndRoles() {
        let h = ConsoleHarness()
        _ = h.frame()
        XCTAssertEqual(h.screen.drawCount, 1)
        XCTAssertEqual(h.screen.lastText.count, 24)
        XCTAssertTrue(h.screen.lastRoles[0].allSatisfy { $0 == "H" }, "the title bar is all header")
        XCTAssertTrue(h.screen.dump().contains("--- legend"))
    }

    func testPromptPlacesTheCursor() {
        let h = ConsoleHarness()
        h.press(":run 東京")
        let frame = h.frame()
        XCTAssertEqual(frame.cursor?.row, 22)
        XCTAssertEqual(frame.cursor?.col, 1 + 4 + 4)
        XCTAssertNil(ConsoleHarness().frame().cursor)
    }

    func testBenchmarkReportsEveryMeasure() {
        let results = ConsoleBenchmark.run(hosts: 2000, streamingResults: 100)
        for key in ["firstFrameMs", "filterKeystrokeP50Ms", "filterKeystrokeP99Ms", "filterKeystrokeMaxMs",
                    "streamRunViewP50Ms", "streamRunViewP99Ms", "streamRunViewMaxMs", "streamFleetViewP99Ms"] {
            XCTAssertNotNil(results[key], key)
            XCTAssertGreaterThan(results[key] ?? 0, 0, key)
        }
        XCTAssertEqual(results["streamRunViewSamples"], 100)
    }
}
