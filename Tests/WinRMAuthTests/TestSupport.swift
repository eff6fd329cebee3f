import Foundation
import XCTest

extension Data {
    /// Parses hex, ignoring whitespace: `Data(hex: "4e 54 4c 4d")`.
    init(hex: String) {
        let digits = hex.filter { !$0.isWhitespace }
        precondition(digits.count % 2 == 0, "odd hex digit count")
        var bytes: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            bytes.append(UInt8(digits[index..<next], radix: 16)!)
            index = next
        }
        self.init(bytes)
    }

    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

/// Asserts that `expression` throws an error equal to `expected`.
func XCTAssertThrowsError<E: Error & Equatable, T>(
    _ expression: @autoclosure () throws -> T, equals expected: E,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertThrowsError(try expression(), file: file, line: line) { error in
        XCTAssertEqual(error as? E, expected, "got \(error)", file: file, line: line)
    }
}
