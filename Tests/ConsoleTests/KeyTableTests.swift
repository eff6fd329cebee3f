import XCTest
@testable import Console

/// One table drives dispatch, help and the hint bar: these tests hold the three together.
final class KeyTableTests: XCTestCase {
    private var allContexts: [KeyContext] {
        ConsoleView.allCases.map { KeyContext.normal($0) } + [.prompt, .helpOverlay, .confirm]
    }

    func testEveryActionHasABindingAndEveryBindingHelp() {
        let bound = Set(KeyTable.bindings.map(\.action))
        for action in KeyAction.allCases { XCTAssertTrue(bound.contains(action), "no key for \(action)") }
        for binding in KeyTable.bindings {
            XCTAssertFalse(binding.help.isEmpty, "\(binding.action) has no help")
            XCTAssertFalse(binding.keys.isEmpty)
        }
    }

    func testNoKeyIsBoundTwiceInOneContext() {
        for context in allContexts {
            var seen: [Key: KeyAction] = [:]
            for binding in KeyTable.bindings where KeyTable.applies(binding, in: context) {
                for key in binding.keys {
                    XCTAssertNil(seen[key], "\(key.label) bound to \(seen[key].map { "\($0)" } ?? "") and \(binding.action) in \(context)")
                    seen[key] = binding.action
                }
            }
        }
    }

    func testHintsDispatchToTheirOwnAction() {
        for context in allContexts {
            for binding in KeyTable.hints(in: context) {
                let key = binding.keys[0]
                XCTAssertEqual(KeyTable.binding(for: key, in: context)?.action, binding.action,
                               "hint \(key.label) in \(context) would not do what it says")
            }
        }
    }

    func testHelpOverlayListsEveryBinding() {
        let text = HelpOverlay.lines().map { $0.segments.map(\.text).joined() }.joined(separator: "\n")
        for binding in KeyTable.bindings {
            XCTAssertTrue(text.contains(binding.help), "help lacks \(binding.action)")
            XCTAssertTrue(text.contains(binding.keyLabel), "help lacks key \(binding.keyLabel)")
        }
        for command in ConsoleState.commandNames { XCTAssertTrue(text.contains(":" + command)) }
    }

    func testHintBarShowsTheTableHints() {
        let harness = ConsoleHarness()
        let hintRow = harness.frame().textLines().last!
        for binding in KeyTable.hints(in: .normal(.fleet)).prefix(4) {
            XCTAssertTrue(hintRow.contains("\(binding.keys[0].label) \(binding.hint!)"), hintRow)
        }
        harness.press("/")
        let promptHints = harness.frame().textLines().last!
        XCTAssertTrue(promptHints.contains("Enter apply"), promptHints)
        XCTAssertFalse(promptHints.contains("q quit"))
    }

    func testRequiredKeysAreBound() {
        let fleet = KeyContext.normal(.fleet)
        let expected: [(Key, KeyAction)] = [
            (.char("?"), .help), (.char("q"), .quit), (.char("/"), .filter), (.char(":"), .command),
            (.char(" "), .toggleMark), (.char("a"), .markAllVisible), (.char("u"), .clearMarks), (.enter, .open),
            (.tab, .nextView), (.char("r"), .rerunFailed), (.char("x"), .cancelHost), (.ctrl("c"), .interrupt),
            (.char("s"), .nextSort), (.char("t"), .nextTheme), (.up, .moveUp), (.char("j"), .moveDown),
            (.pageDown, .pageDown), (.home, .moveTop), (.end, .moveBottom), (.escape, .back),
        ]
        for (key, action) in expected { XCTAssertEqual(KeyTable.binding(for: key, in: fleet)?.action, action, key.label) }
        XCTAssertEqual(KeyTable.binding(for: .char("g"), in: .normal(.run))?.action, .toggleGrouped)
        XCTAssertEqual(KeyTable.binding(for: .ctrl("c"), in: .prompt)?.action, .interrupt)
    }

    func testKeyScript() {
        XCTAssertEqual(Key.script(":r<enter><c-c><esc>x<lt>"),
                       [.char(":"), .char("r"), .enter, .ctrl("c"), .escape, .char("x"), .char("<")])
    }
}
