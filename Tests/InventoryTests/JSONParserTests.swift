import Foundation
import XCTest
@testable import Inventory

final class JSONParserTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONNode { try JSONParser.parse(Data(text.utf8)) }

    func testScalarsKeepTheirKinds() throws {
        guard case .array(let items) = try parse(#"[true, 1, 1.5, -2e3, "s", null]"#).value else { return XCTFail() }
        guard case .bool(true) = items[0].value else { return XCTFail("bool") }
        guard case .number(1, true, "1") = items[1].value else { return XCTFail("integer") }
        guard case .number(1.5, false, _) = items[2].value else { return XCTFail("fraction") }
        guard case .number(-2000, false, _) = items[3].value else { return XCTFail("exponent") }
        guard case .string("s") = items[4].value else { return XCTFail("string") }
        guard case .null = items[5].value else { return XCTFail("null") }
        XCTAssertEqual(items.map(\.offset), [1, 7, 10, 15, 21, 26])
    }

    func testStringEscapes() throws {
        guard case .string(let text) = try parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00 CORP\\alice""#).value else { return XCTFail() }
        XCTAssertEqual(text, "a\"b\\c/d\n\té😀 CORP\\alice")
        XCTAssertThrowsError(try parse(#""\ud83d""#))
        XCTAssertThrowsError(try parse(#""\u12""#))
        XCTAssertThrowsError(try parse("\"a\nb\""))
    }

    func testObjectsKeepOrderAndDuplicates() throws {
        guard case .object(let members) = try parse(#"{"b":1,"a":2,"b":3}"#).value else { return XCTFail() }
        XCTAssertEqual(members.map(\.key), ["b", "a", "b"])
    }

    func testRejectsNonJSON() {
        for bad in ["{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "'a'", "[1] [2]", "{\"a\":1,}", "NaN", "// c\n{}"] {
            XCTAssertThrowsError(try parse(bad), bad)
        }
        XCTAssertNoThrow(try parse("\u{FEFF}{}"), "a byte order mark is tolerated")
    }

    func testDeepNestingIsRejectedNotACrash() {
        XCTAssertThrowsError(try parse(String(repeating: "[", count: 10_000)))
    }

    func testPositions() {
        let bytes = [UInt8]("ab\ncdé\nx".utf8)
        XCTAssertEqual(TextPosition(offset: 0, in: bytes), TextPosition(line: 1, column: 1))
        XCTAssertEqual(TextPosition(offset: 3, in: bytes), TextPosition(line: 2, column: 1))
        XCTAssertEqual(TextPosition(offset: 7, in: bytes), TextPosition(line: 2, column: 4), "é (2 bytes) is one column")
        XCTAssertEqual(TextPosition(offset: 8, in: bytes), TextPosition(line: 3, column: 1))
    }
}
