import Foundation

/// A parsed JSON value that remembers where it came from.
///
/// We parse JSON ourselves instead of using JSONSerialization or Codable because the inventory loader
/// must (a) tell booleans from numbers reliably on every platform, (b) see duplicate object keys,
/// (c) keep key order so that errors come out in file order, and (d) point at a line and column
/// for both syntax errors and semantic errors.
struct JSONNode {
    indirect enum Value {
        case null
        case bool(Bool)
        /// `text` is the number as written; `isInteger` is true when it has no fraction or exponent.
        case number(Double, isInteger: Bool, text: String)
        case string(String)
        case array([JSONNode])
        case object([JSONMember])
    }

    var value: Value
    /// Byte offset of the first byte of the value in the document.
    var offset: Int

    /// A short human name for the value's type, used in "expected X, found Y" messages.
    var typeDescription: String {
        switch value {
        case .null: return "null"
        case .bool(let b): return "boolean \(b)"
        case .number(_, _, let text): return "number \(text)"
        case .string(let s): return "string \"\(s)\""
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

struct JSONMember {
    var key: String
    var keyOffset: Int
    var value: JSONNode
}

/// A JSON syntax error at a byte offset.
struct JSONSyntaxError: Error, Equatable {
    var offset: Int
    var message: String
}

/// Line and column (both 1-based; the column counts Unicode scalars) of a byte offset.
struct TextPosition: Equatable {
    var line: Int
    var column: Int

    init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    init(offset: Int, in bytes: [UInt8]) {
        var line = 1
        var column = 1
        var index = 0
        let end = min(offset, bytes.count)
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                // Count only the first byte of each UTF-8 sequence, so a column is a character.
                column += 1
            }
            index += 1
        }
        self.init(line: line, column: column)
    }
}

/// A strict RFC 8259 parser (no comments, no trailing commas) over UTF-8 bytes.
struct JSONParser {
    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0
    private static let maximumDepth = 256

    static func parse(_ data: Data) throws -> JSONNode {
        var parser = JSONParser(bytes: [UInt8](data))
        return try parser.parseDocument()
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private mutating func parseDocument() throws -> JSONNode {
        // Tolerate a UTF-8 byte order mark, which some Windows editors write.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        skipWhitespace()
        if index >= bytes.count { throw JSONSyntaxError(offset: index, message: "the file is empty") }
        let node = try parseValue()
        skipWhitespace()
        if index < bytes.count {
            throw JSONSyntaxError(offset: index, message: "unexpected \(describeByte(at: index)) after the end of the JSON value")
        }
        return node
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func describeByte(at offset: Int) -> String {
        guard offset < bytes.count else { return "end of file" }
        let byte = bytes[offset]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return String(format: "byte 0x%02X", byte)
    }

    private mutating func parseValue() throws -> JSONNode {
        guard index < bytes.count else {
            throw JSONSyntaxError(offset: index, message: "unexpected end of file, expected a value")
        }
        let start = index
        switch bytes[index] {
        case UInt8(ascii: "{"): return JSONNode(value: try parseObject(), offset: start)
        case UInt8(ascii: "["): return JSONNode(value: try parseArray(), offset: start)
        case UInt8(ascii: "\""): return JSONNode(value: .string(try parseString()), offset: start)
        case UInt8(ascii: "t"): try expectLiteral("true"); return JSONNode(value: .bool(true), offset: start)
        case UInt8(ascii: "f"): try expectLiteral("false"); return JSONNode(value: .bool(false), offset: start)
        case UInt8(ascii: "n"): try expectLiteral("null"); return JSONNode(value: .null, offset: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return JSONNode(value: try parseNumber(), offset: start)
        default:
            throw JSONSyntaxError(offset: index, message: "unexpected \(describeByte(at: index)), expected a value")
        }
    }

    private mutating func expectLiteral(_ literal: String) throws {
        let expected = Array(literal.utf8)
        if index + expected.count <= bytes.count && Array(bytes[index..<index + expected.count]) == expected {
            index += expected.count
            return
        }
        throw JSONSyntaxError(offset: index, message: "invalid literal, expected \(literal) (strings need double quotes)")
    }

    private mutating func enterContainer() throws {
        depth += 1
        if depth > JSONParser.maximumDepth {
            throw JSONSyntaxError(offset: index, message: "nesting deeper than \(JSONParser.maximumDepth) levels")
        }
    }

    private mutating func parseObject() throws -> JSONNode.Value {
        try enterContainer()
        defer { depth -= 1 }
        index += 1  // {
        var members: [JSONMember] = []
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw JSONSyntaxError(offset: index, message: "unexpected \(describeByte(at: index)), expected a key in double quotes")
            }
            let keyOffset = index
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw JSONSyntaxError(offset: index, message: "unexpected \(describeByte(at: index)), expected ':' after key \"\(key)\"")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            members.append(JSONMember(key: key, keyOffset: keyOffset, value: value))
            skipWhitespace()
            guard index < bytes.count else {
                throw JSONSyntaxError(offset: index, message: "unexpected end of file, expected ',' or '}'")
            }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                skipWhitespace()
                if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
                    throw JSONSyntaxError(offset: index, message: "trailing comma before '}'")
                }
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            throw JSONSyntaxError(offset: index, message: "unexpected \(describeByte(at: index)), expected ',' or '}'")
        }
    }

    private mutating func parseArray() throws -> JSONNode.Value {
        try enterContainer()
        defer { depth -= 1 }
        index += 1  // [
        var elements: [JSONNode] = []
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else {
                throw JSONSyntaxError(offset: index, message: "unexpected end of file, expected ',' or ']'")
            }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                skipWhitespace()
                if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
                    throw JSONSyntaxError(offset: index, message: "trailing comma before ']'")
                }
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            throw JSONSyntaxError(offset: index, message: "unexpected \(describeByte(at: index)), expected ',' or ']'")
        }
    }

    private mutating func parseString() throws -> String {
        let start = index
        index += 1  // opening quote
        var scalars = String.UnicodeScalarView()
        var runStart = index
        func flushRun(_ parser: JSONParser, upTo end: Int) throws {
            guard runStart < end else { return }
            guard let text = String(validating: parser.bytes[runStart..<end], as: UTF8.self) else {
                throw JSONSyntaxError(offset: runStart, message: "the string is not valid UTF-8")
            }
            scalars.append(contentsOf: text.unicodeScalars)
        }
        while true {
            guard index < bytes.count else {
                throw JSONSyntaxError(offset: start, message: "unterminated string")
            }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                if scalars.isEmpty {
                    // No escape met: the string is one run of bytes (most strings of an inventory).
                    guard let text = String(validating: bytes[runStart..<index], as: UTF8.self) else {
                        throw JSONSyntaxError(offset: runStart, message: "the string is not valid UTF-8")
                    }
                    index += 1
                    return text
                }
                try flushRun(self, upTo: index)
                index += 1
                return String(scalars)
            }
            if byte < 0x20 {
                throw JSONSyntaxError(offset: index, message: byte == 0x0A
                    ? "unterminated string (a line break inside a string must be written \\n)"
                    : "control character inside a string")
            }
            if byte == UInt8(ascii: "\\") {
                try flushRun(self, upTo: index)
                scalars.append(try parseEscape())
                runStart = index
                continue
            }
            index += 1
        }
    }

    /// Parses one escape sequence starting at the backslash; leaves `index` after it.
    private mutating func parseEscape() throws -> Unicode.Scalar {
        let escapeStart = index
        index += 1
        guard index < bytes.count else { throw JSONSyntaxError(offset: escapeStart, message: "unterminated escape sequence") }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let first = try parseHex4(escapeStart: escapeStart)
            if (0xD800...0xDBFF).contains(first) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw JSONSyntaxError(offset: escapeStart, message: "unpaired UTF-16 surrogate in \\u escape")
                }
                index += 2
                let second = try parseHex4(escapeStart: escapeStart)
                guard (0xDC00...0xDFFF).contains(second) else {
                    throw JSONSyntaxError(offset: escapeStart, message: "unpaired UTF-16 surrogate in \\u escape")
                }
                let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                return Unicode.Scalar(combined)!
            }
            guard let scalar = Unicode.Scalar(first) else {
                throw JSONSyntaxError(offset: escapeStart, message: "unpaired UTF-16 surrogate in \\u escape")
            }
            return scalar
        default:
            throw JSONSyntaxError(offset: escapeStart, message: "invalid escape sequence (a backslash must be written \\\\, e.g. \"CORP\\\\alice\")")
        }
    }

    private mutating func parseHex4(escapeStart: Int) throws -> UInt32 {
        guard index + 4 <= bytes.count else {
            throw JSONSyntaxError(offset: escapeStart, message: "\\u must be followed by four hex digits")
        }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw JSONSyntaxError(offset: escapeStart, message: "\\u must be followed by four hex digits")
            }
            value = value * 16 + digit
            index += 1
        }
        return value
    }

    private mutating func parseNumber() throws -> JSONNode.Value {
        let start = index
        func isDigit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= UInt8(ascii: "0") && bytes[i] <= UInt8(ascii: "9") }
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard isDigit(index) else { throw JSONSyntaxError(offset: start, message: "invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if isDigit(index) { throw JSONSyntaxError(offset: start, message: "invalid number (leading zeros are not allowed in JSON)") }
        } else {
            while isDigit(index) { index += 1 }
        }
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard isDigit(index) else { throw JSONSyntaxError(offset: start, message: "invalid number (a digit must follow '.')") }
            while isDigit(index) { index += 1 }
        }
        if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            isInteger = false
            index += 1
            if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) { index += 1 }
            guard isDigit(index) else { throw JSONSyntaxError(offset: start, message: "invalid number (a digit must follow the exponent)") }
            while isDigit(index) { index += 1 }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let value = Double(text) else { throw JSONSyntaxError(offset: start, message: "invalid number") }
        return .number(value, isInteger: isInteger, text: text)
    }
}
