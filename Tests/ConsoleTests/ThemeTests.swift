import Foundation
import XCTest
@testable import Console

final class ThemeTests: XCTestCase {
    static let themesDirectory = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        .appendingPathComponent("../../themes").standardized.path

    private func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("winfleet-themes-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testThemeFilesMatchTheBuiltInThemesAndNameEveryRole() throws {
        for name in ["default", "light", "high-contrast", "mono"] {
            let path = Self.themesDirectory + "/\(name).json"
            let data = try XCTUnwrap(FileManager.default.contents(atPath: path), "missing \(path)")
            let (theme, missing) = try ThemeParser.parse(data, source: path)
            XCTAssertEqual(missing, [], "\(name) must name every role")
            XCTAssertEqual(theme, ThemeCatalog.builtin(name), "\(name).json and the built-in copy differ")
        }
        XCTAssertEqual(ThemeCatalog(searchDirectories: [Self.themesDirectory]).availableNames().prefix(4),
                       ["default", "light", "high-contrast", "mono"])
    }

    func testMonoUsesNoColourAndDefaultUsesTheTerminalBackground() {
        let mono = ThemeCatalog.builtin("mono")!
        for role in Role.allCases {
            XCTAssertEqual(mono.style(role).foreground, .terminalDefault)
            XCTAssertEqual(mono.style(role).background, .terminalDefault)
        }
        XCTAssertEqual(ThemeCatalog.builtin("default")!.style(.normal).background, .terminalDefault)
        XCTAssertNotEqual(mono.style(.selected).attributes, [], "mono still shows the selection")
    }

    func testNoColorSelectsMonoUnlessAThemeIsAskedFor() {
        let catalog = ThemeCatalog(searchDirectories: [])
        XCTAssertEqual(catalog.load(.automatic, environment: ["NO_COLOR": "1"]).theme.name, "mono")
        XCTAssertEqual(catalog.load(.automatic, environment: ["NO_COLOR": ""]).theme.name, "default")
        XCTAssertEqual(catalog.load(.automatic, environment: [:]).theme.name, "default")
        XCTAssertEqual(catalog.load(.named("light"), environment: ["NO_COLOR": "1"]).theme.name, "light")
    }

    func testThemeChoiceFromArgument() {
        XCTAssertEqual(ThemeChoice(argument: nil), .automatic)
        XCTAssertEqual(ThemeChoice(argument: "light"), .named("light"))
        XCTAssertEqual(ThemeChoice(argument: "./mine.json"), .file("./mine.json"))
        XCTAssertEqual(ThemeChoice(argument: "mine.json"), .file("mine.json"))
    }

    func testBrokenThemeFilesFallBackToDefaultWithAClearMessage() throws {
        let dir = temporaryDirectory()
        let cases: [(String, String, String)] = [
            ("notjson", "{ roles: ", "not valid JSON"),
            ("noroles", "{\"name\": \"x\"}", "no \"roles\""),
            ("badrole", "{\"roles\": {\"headr\": {\"fg\": \"red\"}}}", "unknown role \"headr\""),
            ("badcolor", "{\"roles\": {\"header\": {\"fg\": \"purpel\"}}}", "header.fg = \"purpel\" is not a colour"),
            ("badindex", "{\"roles\": {\"header\": {\"bg\": 300}}}", "out of range"),
            ("badattr", "{\"roles\": {\"header\": {\"attrs\": [\"blink\"]}}}", "\"blink\""),
        ]
        let catalog = ThemeCatalog(searchDirectories: [dir.path])
        for (name, text, expected) in cases {
            let url = dir.appendingPathComponent(name + ".json")
            try text.write(to: url, atomically: true, encoding: .utf8)
            for choice in [ThemeChoice.file(url.path), .named(name)] {
                let result = catalog.load(choice, environment: [:])
                XCTAssertEqual(result.theme, ThemeCatalog.defaultTheme, name)
                let message = try XCTUnwrap(result.message, name)
                XCTAssertTrue(message.contains(expected), "\(name): \(message)")
                XCTAssertTrue(message.contains(url.path), "the message names the file: \(message)")
                XCTAssertTrue(message.hasSuffix("using default"), message)
            }
        }
        let missing = catalog.load(.file(dir.appendingPathComponent("nope.json").path), environment: [:])
        XCTAssertEqual(missing.theme.name, "default")
        XCTAssertTrue(missing.message!.contains("cannot read"))
        let unknown = catalog.load(.named("solarized"), environment: [:])
        XCTAssertTrue(unknown.message!.contains("no theme named \"solarized\""))
        XCTAssertTrue(unknown.message!.contains("high-contrast"))
    }

    func testUserThemeOverridesBuiltinAndMissingRolesInheritDefault() throws {
        let dir = temporaryDirectory()
        try "{\"name\": \"light\", \"roles\": {\"header\": {\"fg\": \"#ff0000\", \"bg\": 21, \"attrs\": [\"bold\"]}}}"
            .write(to: dir.appendingPathComponent("light.json"), atomically: true, encoding: .utf8)
        let result = ThemeCatalog(searchDirectories: [dir.path]).load(.named("light"), environment: [:])
        XCTAssertEqual(result.theme.style(.header), RoleStyle(.rgb(255, 0, 0), .indexed(21), .bold))
        XCTAssertEqual(result.theme.style(.ok), ThemeCatalog.defaultTheme.style(.ok))
        XCTAssertTrue(result.message!.contains("role(s) not set"))
    }

    func testColourDepths() {
        XCTAssertEqual(ThemeColor.ansi(9).resolved(depth: 256), 9)
        XCTAssertEqual(ThemeColor.ansi(9).resolved(depth: 8), 1)
        XCTAssertEqual(ThemeColor.indexed(196).resolved(depth: 256), 196)
        XCTAssertEqual(ThemeColor.indexed(196).resolved(depth: 16), 9, "bright red")
        XCTAssertEqual(ThemeColor.indexed(196).resolved(depth: 8), 1, "red")
        XCTAssertEqual(ThemeColor.rgb(0, 95, 175).resolved(depth: 256), 25)
        XCTAssertEqual(ThemeColor.terminalDefault.resolved(depth: 8), -1)
        let theme = ThemeCatalog.builtin("default")!
        XCTAssertTrue(theme.terminalStyle(.error, depth: 8).attributes.contains(.bold), "bright on 8 colours is bold")
        XCTAssertEqual(theme.terminalStyle(.header, depth: 0), TerminalStyle(foreground: -1, background: -1, attributes: .bold))
    }

    func testEveryRoleHasADistinctMapLetter() {
        XCTAssertEqual(Set(Role.allCases.map(\.mapLetter)).count, Role.allCases.count)
    }

    func testThemeKeyAppliesThroughTheRecordingScreen() {
        let h = ConsoleHarness()
        h.press("t")
        XCTAssertEqual(h.screen.theme?.name, "light")
        XCTAssertEqual(h.state.themeName, "light")
    }
}
