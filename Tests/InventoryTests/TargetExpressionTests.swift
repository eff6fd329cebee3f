import Foundation
import XCTest
@testable import Inventory

final class TargetExpressionTests: XCTestCase {
    private var inventory: Inventory!

    override func setUpWithError() throws {
        var hosts: [String] = []
        for n in 1...20 {
            let name = String(format: "web%02d", n)
            let groups = n <= 10 ? #"["web", "iis"]"# : #"["web"]"#
            let route = n % 2 == 0 ? #", "route": "dmz""# : ""
            hosts.append(#"{ "name": "\#(name)", "groups": \#(groups)\#(route) }"#)
        }
        for n in 1...3 { hosts.append(#"{ "name": "db0\#(n)", "groups": ["sql"], "route": "squid" }"#) }
        for n in [1, 2, 3, 7, 10] { hosts.append(#"{ "name": "win\#(n)", "groups": ["legacy"] }"#) }
        hosts.append(#"{ "name": "Mail01", "groups": ["exchange"] }"#)
        inventory = try parseInventory("""
        { "routes": { "dmz": {}, "squid": { "proxy": "http://127.0.0.1:3128" }, "unused": {} },
          "hosts": [ \(hosts.joined(separator: ",\n")) ] }
        """)
    }

    private func select(_ expression: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            return try TargetExpression.parse(expression).select(from: inventory).map(\.name)
        } catch {
            XCTFail("\(expression): \(error)", file: file, line: line)
            return []
        }
    }

    private func selectionError(_ expression: String) -> TargetExpressionError? {
        do {
            _ = try TargetExpression.parse(expression).select(from: inventory)
            return nil
        } catch {
            return error as? TargetExpressionError
        }
    }

    private var allNames: [String] { inventory.hosts.map(\.name) }

    // MARK: Atoms

    func testAllAndEmptySelectEverything() {
        XCTAssertEqual(select("all"), allNames)
        XCTAssertEqual(select(""), allNames)
        XCTAssertEqual(select("   "), allNames)
        XCTAssertEqual(select("ALL"), allNames)
    }

    func testHostNames() {
        XCTAssertEqual(select("web03"), ["web03"])
        XCTAssertEqual(select("WEB03"), ["web03"], "case-insensitive")
        XCTAssertEqual(select("mail01"), ["Mail01"])
    }

    func testGlobs() {
        XCTAssertEqual(select("db*"), ["db01", "db02", "db03"])
        XCTAssertEqual(select("web1?"), ["web10", "web11", "web12", "web13", "web14", "web15", "web16", "web17", "web18", "web19"])
        XCTAssertEqual(select("*0?"), ["web01", "web02", "web03", "web04", "web05", "web06", "web07", "web08", "web09", "db01", "db02", "db03", "Mail01"])
        XCTAssertEqual(select("w*n1*"), ["win1", "win10"])
        XCTAssertEqual(select("*"), allNames)
    }

    func testRangesKeepPadding() {
        XCTAssertEqual(select("web[01-03]"), ["web01", "web02", "web03"])
        XCTAssertEqual(select("web[18-25]"), ["web18", "web19", "web20"], "names past the end of the inventory are skipped")
        XCTAssertEqual(select("win[1-3,7]"), ["win1", "win2", "win3", "win7"])
        XCTAssertEqual(select("win[1-3,10]"), ["win1", "win2", "win3", "win10"])
    }

    func testRangeWithoutAnyMatchIsAnError() {
        XCTAssertEqual(selectionError("web[1-3]"), .noMatch([UnmatchedTerm(term: "web[1-3]", kind: .hostOrGroup, suggestions: [])]))
    }

    func testRangesAndGlobsCombine() {
        XCTAssertEqual(select("web[0-1]?"), Array(allNames[0..<19]))
    }

    func testGroupsAndRoutes() {
        XCTAssertEqual(select("group:sql"), ["db01", "db02", "db03"])
        XCTAssertEqual(select("group:SQL"), ["db01", "db02", "db03"])
        XCTAssertEqual(select("group:leg*"), ["win1", "win2", "win3", "win7", "win10"])
        XCTAssertEqual(select("route:squid"), ["db01", "db02", "db03"])
        XCTAssertEqual(select("route:dmz"), ["web02", "web04", "web06", "web08", "web10", "web12", "web14", "web16", "web18", "web20"])
        XCTAssertEqual(select("route:unused"), [], "a defined route without hosts is an empty selection, not an error")
        XCTAssertEqual(select("route:direct").count, 10 + 5 + 1)
    }

    func testBareGroupNameSelectsTheGroup() {
        XCTAssertEqual(select("sql"), ["db01", "db02", "db03"])
        XCTAssertEqual(select("exchange"), ["Mail01"])
    }

    // MARK: Operators and precedence

    func testUnionKeepsInventoryOrder() {
        XCTAssertEqual(select("db02,web01,db01"), ["web01", "db01", "db02"])
        XCTAssertEqual(select("web01, web01 ,web02"), ["web01", "web02"])
    }

    func testIntersection() {
        XCTAssertEqual(select("group:iis&route:dmz"), ["web02", "web04", "web06", "web08", "web10"])
        XCTAssertEqual(select("web*&group:iis&web0?"), ["web01", "web02", "web03", "web04", "web05", "web06", "web07", "web08", "web09"])
    }

    func testExclusion() {
        XCTAssertEqual(select("group:sql,!db02"), ["db01", "db03"])
        XCTAssertEqual(select("!db02,group:sql"), ["db01", "db03"], "exclusions apply to the whole list, wherever written")
        XCTAssertEqual(select("!group:web"), ["db01", "db02", "db03", "win1", "win2", "win3", "win7", "win10", "Mail01"])
        XCTAssertEqual(select("!group:web,!group:legacy"), ["db01", "db02", "db03", "Mail01"])
        XCTAssertEqual(select("group:iis&!route:dmz"), ["web01", "web03", "web05", "web07", "web09"])
        XCTAssertEqual(select("!!db01"), ["db01"])
    }

    func testPrecedenceBangThenAmpersandThenComma() throws {
        // a,b&c = a ∪ (b ∩ c)
        XCTAssertEqual(select("db01,group:iis&route:dmz"), ["web02", "web04", "web06", "web08", "web10", "db01"])
        XCTAssertEqual(try TargetExpression.parse("db01,group:iis&route:dmz"),
                       .union([.hosts("db01"), .intersection([.group("iis"), .route("dmz")])]))
        // !a&b = (¬a) ∩ b
        XCTAssertEqual(select("!route:dmz&group:iis"), ["web01", "web03", "web05", "web07", "web09"])
        XCTAssertEqual(try TargetExpression.parse("!route:dmz&group:iis"), .intersection([.not(.route("dmz")), .group("iis")]))
        // parentheses override
        XCTAssertEqual(select("(db01,group:iis)&route:dmz"), ["web02", "web04", "web06", "web08", "web10"])
        XCTAssertEqual(select("group:web&!(web0*,web1*)"), ["web20"])
    }

    func testDescriptionRoundTrips() throws {
        for text in ["web[01-20],group:iis&route:dmz,!web07", "(a,b)&!(c&d)", "all", "!group:x", "web*&!db?"] {
            let parsed = try TargetExpression.parse(text)
            XCTAssertEqual(try TargetExpression.parse(parsed.description), parsed, text)
        }
        XCTAssertEqual(try TargetExpression.parse(" web01 , group:iis ").description, "web01,group:iis")
    }

    // MARK: Errors

    func testUnknownNameSuggestsCloseMatches() {
        let error = selectionError("wbe01")
        XCTAssertEqual(error, .noMatch([UnmatchedTerm(term: "wbe01", kind: .hostOrGroup, suggestions: ["web01"])]))
        XCTAssertEqual(error?.description, "no host or group matches 'wbe01' — did you mean web01?")
        XCTAssertEqual(selectionError("sq")?.description, "no host or group matches 'sq' — did you mean sql?")
        XCTAssertEqual(selectionError("zzzzzz")?.description, "no host or group matches 'zzzzzz'")
    }

    func testUnknownGroupAndRouteSuggest() {
        XCTAssertEqual(selectionError("group:iss")?.description, "no group matches 'group:iss' — did you mean group:iis?")
        XCTAssertEqual(selectionError("route:dmzz")?.description, "no route matches 'route:dmzz' — did you mean route:dmz?")
        XCTAssertEqual(selectionError("route:zz*")?.description, "no route matches 'route:zz*'")
    }

    func testATypoInAnExclusionIsAnErrorNotASilentNoOp() {
        XCTAssertEqual(selectionError("group:web,!wbe03")?.description, "no host or group matches 'wbe03' — did you mean web03?")
    }

    func testEveryUnmatchedTermIsReported() {
        guard case .noMatch(let terms)? = selectionError("wbe01,group:iss,db01") else { return XCTFail() }
        XCTAssertEqual(terms.map(\.term), ["wbe01", "group:iss"])
        XCTAssertEqual(selectionError("wbe01,group:iss")?.description,
                       "no host or group matches 'wbe01' — did you mean web01?; no group matches 'group:iss' — did you mean group:iis?")
    }

    func testSyntaxErrors() {
        func syntax(_ text: String) -> (Int, String)? {
            do {
                _ = try TargetExpression.parse(text)
                return nil
            } catch TargetExpressionError.syntax(_, let position, let message) {
                return (position, message)
            } catch {
                return nil
            }
        }
        XCTAssertEqual(syntax("web01,,web02")?.0, 6)
        XCTAssertEqual(syntax("web01,")?.1, "the expression ends where a host name, group:NAME or route:NAME is expected")
        XCTAssertEqual(syntax("!")?.0, 1)
        XCTAssertEqual(syntax("web01 web02")?.1, "unexpected 'web02'; join terms with ',' or '&'")
        XCTAssertEqual(syntax("web[01-03")?.1, "'[' is never closed")
        XCTAssertEqual(syntax("web01]")?.1, "']' without '['")
        XCTAssertEqual(syntax("web[[1]]")?.1, "brackets cannot be nested")
        XCTAssertEqual(syntax("web[05-01]")?.1, "web[05-01]: range 05-01 runs backwards; write 01-05")
        XCTAssertEqual(syntax("web[a-c]")?.1, "web[a-c]: 'a-c' is not a number or a range like 01-20")
        XCTAssertEqual(syntax("web[]")?.1, "web[]: empty brackets []")
        XCTAssertEqual(syntax("tag:web")?.1, "unknown selector 'tag:'; use group:NAME or route:NAME")
        XCTAssertEqual(syntax("group:")?.1, "group: needs a name, e.g. group:web")
        XCTAssertEqual(syntax("(web01,db01")?.1, "'(' is never closed")
        XCTAssertEqual(syntax("web01)")?.1, "unexpected ')'; join terms with ',' or '&'")
        XCTAssertEqual(syntax("&web01")?.1, "unexpected '&'; expected a host name, group:NAME or route:NAME")
        XCTAssertEqual(TargetExpressionError.syntax(expression: "a,,b", position: 2, message: "m").description, "target 'a,,b': m (at character 3)")
    }

    func testGlobMatcher() {
        XCTAssertTrue(Glob.matches("a*b*c", "aXXbYYc"))
        XCTAssertTrue(Glob.matches("a*b*c", "abc"))
        XCTAssertFalse(Glob.matches("a*b*c", "abcd"))
        XCTAssertTrue(Glob.matches("*", ""))
        XCTAssertFalse(Glob.matches("?", ""))
        XCTAssertTrue(Glob.matches("**a", "bba"))
        XCTAssertTrue(Glob.matches("A?C", "abc"))
    }
}
