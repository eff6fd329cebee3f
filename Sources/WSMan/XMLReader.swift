import Foundation

/// A strict, namespace-aware XML 1.0 reader that builds an `XMLNode` tree straight from bytes.
///
/// Written for SOAP envelopes, which both ends of every WinRM exchange read thousands of times a
/// second: one pass over the bytes, no delegate calls, no intermediate dictionaries. It accepts what
/// Windows, pywinrm, pypsrp and our own writer send, and refuses what SOAP forbids or a parser must
/// not guess at:
/// - a document type declaration (SOAP 1.2 forbids them; refusing them also rules out entity expansion),
/// - entities other than the five predefined ones and character references,
/// - undeclared namespace prefixes, duplicate attributes, mismatched or unclosed tags, text after the root,
/// - bytes that are not UTF-8 (UTF-16 with a byte order mark is converted first), control characters.
/// Line ends are normalised to LF as XML requires; `&#13;` keeps a CR.
struct XMLReader {
    static let maximumDepth = 256
    static let xmlNamespace = "http://www.w3.org/XML/1998/namespace"
    static let doctypeRefused = "document type declarations are not accepted (SOAP forbids them)"

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    /// In-scope namespace bindings, innermost last; "" is the default namespace, nil its undeclaration.
    private var bindings: [(prefix: String, uri: String?)] = []
    /// For each open element, where its bindings start in `bindings`.
    private var scopes: [Int] = []
    private var open: [XMLNode] = []
    /// Raw qualified names of the open elements, to match end tags byte for byte.
    private var openNames: [Range<Int>] = []

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        bindings.reserveCapacity(16)
        open.reserveCapacity(16)
    }

    /// Parses a complete document and returns its root element.
    static func parse(_ data: Data) throws -> XMLNode {
        if let utf8 = try transcodedUTF16(data) {
            return try utf8.withUnsafeBufferPointer { try parse(bytes: $0, allowsUTF16Declaration: true) }
        }
        return try data.withUnsafeBytes { raw in
            try parse(bytes: raw.bindMemory(to: UInt8.self), allowsUTF16Declaration: false)
        }
    }

    private static func parse(bytes: UnsafeBufferPointer<UInt8>, allowsUTF16Declaration: Bool) throws -> XMLNode {
        var reader = XMLReader(bytes: bytes)
        return try reader.document(allowsUTF16Declaration: allowsUTF16Declaration)
    }

    /// UTF-16 documents (with a byte order mark, or starting `<` NUL) as UTF-8 bytes; nil for anything else.
    private static func transcodedUTF16(_ data: Data) throws -> [UInt8]? {
        guard data.count >= 2 else { return nil }
        let first = data[data.startIndex], second = data[data.startIndex + 1]
        let littleEndian: Bool
        var body = data
        switch (first, second) {
        case (0xFF, 0xFE): littleEndian = true; body = data.dropFirst(2)
        case (0xFE, 0xFF): littleEndian = false; body = data.dropFirst(2)
        case (0x3C, 0x00): littleEndian = true
        case (0x00, 0x3C): littleEndian = false
        default: return nil
        }
        guard body.count % 2 == 0 else {
            throw XMLParseError(line: 1, column: 1, message: "UTF-16 document with an odd number of bytes")
        }
        var units: [UInt16] = []
        units.reserveCapacity(body.count / 2)
        var index = body.startIndex
        while index < body.endIndex {
            let a = UInt16(body[index]), b = UInt16(body[index + 1])
            units.append(littleEndian ? a | b << 8 : a << 8 | b)
            index += 2
        }
        guard let string = String(validating: units, as: UTF16.self) else {
            throw XMLParseError(line: 1, column: 1, message: "invalid document encoding (broken UTF-16)")
        }
        return Array(string.utf8)
    }

    // MARK: - Document

    private mutating func document(allowsUTF16Declaration: Bool) throws -> XMLNode {
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { position = 3 }
        if startsWith("<?xml") && isWhitespace(at: position + 5) {
            try declaration(allowsUTF16: allowsUTF16Declaration)
        }
        try miscellany()
        guard position < bytes.count else {
            throw error(open.isEmpty ? "document is empty" : "document has no root element")
        }
        guard bytes[position] == UInt8(ascii: "<") else {
            throw error("document does not start with markup")
        }
        let root = try content()
        try miscellany()
        if position < bytes.count {
            throw error("extra content at the end of the document")
        }
        return root
    }

    /// `<?xml version="1.0" encoding="…"?>`: only the encoding matters, and it must be what we read.
    private mutating func declaration(allowsUTF16: Bool) throws {
        guard let end = find("?>", from: position) else { throw error("XML declaration is not closed") }
        let text = decode(position..<end) ?? ""
        if let range = text.range(of: "encoding") {
            let rest = text[range.upperBound...].drop { $0 == " " || $0 == "=" || $0 == "\t" }
            if let quote = rest.first, quote == "\"" || quote == "'" {
                let name = rest.dropFirst().prefix { $0 != quote }.lowercased()
                let accepted = name == "utf-8" || name == "utf8" || name == "us-ascii" || (allowsUTF16 && name.hasPrefix("utf-16"))
                if !accepted {
                    throw error("document encoding \(name) is not supported (send UTF-8)")
                }
            }
        }
        position = end + 2
    }

    /// Whitespace, comments and processing instructions around the root element.
    private mutating func miscellany() throws {
        while position < bytes.count {
            if isWhitespace(at: position) {
                position += 1
            } else if startsWith("<!--") {
                try comment()
            } else if startsWith("<?") {
                try processingInstruction()
            } else if startsWith("<!DOCTYPE") {
                throw error(XMLReader.doctypeRefused)
            } else {
                return
            }
        }
    }

    // MARK: - Elements

    /// Reads the element at `position` and everything inside it; returns it when its end tag is read.
    private mutating func content() throws -> XMLNode {
        var root: XMLNode?
        repeat {
            guard position < bytes.count else {
                if let node = open.last { throw error("document ends inside <\(node.qualifiedName)> (truncated)") }
                throw error("document ended early")
            }
            if bytes[position] == UInt8(ascii: "<") {
                guard position + 1 < bytes.count else { throw error("document ends inside a tag (truncated)") }
                switch bytes[position + 1] {
                case UInt8(ascii: "/"):
                    try endTag()
                case UInt8(ascii: "!"):
                    if startsWith("<!--") {
                        try comment()
                    } else if startsWith("<![CDATA[") {
                        try cdata()
                    } else if startsWith("<!DOCTYPE") {
                        throw error(XMLReader.doctypeRefused)
                    } else {
                        throw error("invalid markup after '<!'")
                    }
                case UInt8(ascii: "?"):
                    try processingInstruction()
                default:
                    let node = try startTag()
                    if root == nil { root = node }
                }
            } else {
                try text()
            }
        } while !open.isEmpty
        return root!
    }

    private mutating func startTag() throws -> XMLNode {
        guard open.count < XMLReader.maximumDepth else {
            throw error("elements nested deeper than \(XMLReader.maximumDepth) levels")
        }
        position += 1
        let qualified = try name()
        let scopeStart = bindings.count
        var rawAttributes: [(name: Range<Int>, colon: Int?, value: String)] = []
        var selfClosing = false
        while true {
            let hadSpace = skipWhitespace()
            guard position < bytes.count else { throw error("document ends inside a tag (truncated)") }
            let byte = bytes[position]
            if byte == UInt8(ascii: ">") {
                position += 1
                break
            }
            if byte == UInt8(ascii: "/") {
                guard position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: ">") else {
                    throw error("expected '>' after '/'")
                }
                position += 2
                selfClosing = true
                break
            }
            guard hadSpace else { throw error("expected whitespace, '>' or '/>' in a tag") }
            let attributeName = try name()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "=") else {
                throw error("attribute \(decode(attributeName.range) ?? "?") without a value")
            }
            position += 1
            skipWhitespace()
            let value = try attributeValue()
            if equals(attributeName.range, "xmlns") {
                bindings.append(("", value.isEmpty ? nil : value))
            } else if let colon = attributeName.colon, equals(attributeName.range.lowerBound..<colon, "xmlns") {
                guard !value.isEmpty else { throw error("namespace prefix cannot be undeclared (xmlns:p=\"\")") }
                bindings.append((try decodeName(colon + 1..<attributeName.range.upperBound), value))
            } else {
                for earlier in rawAttributes where same(earlier.name, attributeName.range) {
                    throw error("attribute \(decode(attributeName.range) ?? "?") appears twice")
                }
                rawAttributes.append((attributeName.range, attributeName.colon, value))
            }
        }

        let localRange = qualified.colon.map { $0 + 1..<qualified.range.upperBound } ?? qualified.range
        let prefix = try qualified.colon.map { try decodeName(qualified.range.lowerBound..<$0) }
        let namespace = try resolve(prefix ?? "", isElement: true)
        var attributes: [XMLNode.Attribute] = []
        attributes.reserveCapacity(rawAttributes.count)
        for raw in rawAttributes {
            if let colon = raw.colon {
                let attributePrefix = try decodeName(raw.name.lowerBound..<colon)
                _ = try resolve(attributePrefix, isElement: false)
                attributes.append(XMLNode.Attribute(prefix: attributePrefix,
                                                    localName: try decodeName(colon + 1..<raw.name.upperBound),
                                                    value: raw.value))
            } else {
                attributes.append(XMLNode.Attribute(prefix: nil, localName: try decodeName(raw.name), value: raw.value))
            }
        }
        let node = XMLNode(namespace: namespace, localName: try decodeName(localRange), prefix: prefix,
                           attributeList: attributes)
        open.last?.children.append(node)
        if selfClosing {
            bindings.removeSubrange(scopeStart...)
        } else {
            open.append(node)
            openNames.append(qualified.range)
            scopes.append(scopeStart)
        }
        return node
    }

    private mutating func endTag() throws {
        position += 2
        let qualified = try name()
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: ">") else {
            throw error(position < bytes.count ? "expected '>' to close an end tag" : "document ends inside a tag (truncated)")
        }
        guard let expected = openNames.last else { throw error("end tag without a start tag") }
        guard same(expected, qualified.range) else {
            throw error("end tag </\(decode(qualified.range) ?? "?")> does not match the open tag <\(decode(expected) ?? "?")>")
        }
        position += 1
        open.removeLast()
        openNames.removeLast()
        bindings.removeSubrange(scopes.removeLast()...)
    }

    /// The namespace a prefix ("" for none) is bound to here. Unprefixed attributes are in no namespace.
    private func resolve(_ prefix: String, isElement: Bool) throws -> String? {
        if prefix.isEmpty && !isElement { return nil }
        if prefix == "xml" { return XMLReader.xmlNamespace }
        for binding in bindings.reversed() where binding.prefix == prefix {
            return binding.uri
        }
        if prefix.isEmpty { return nil }
        throw error("namespace prefix \(prefix) is not declared")
    }

    // MARK: - Character data

    private mutating func text() throws {
        let start = position
        var plain = true
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "<") { break }
            if byte == UInt8(ascii: "&") || byte == 0x0D { plain = false }
            else if byte < 0x20 && byte != 0x09 && byte != 0x0A { throw error("invalid character (control character \(byte))") }
            else if byte == UInt8(ascii: ">") && position >= start + 2
                        && bytes[position - 1] == UInt8(ascii: "]") && bytes[position - 2] == UInt8(ascii: "]") {
                throw error("']]>' is not allowed in text")
            }
            position += 1
        }
        guard let node = open.last else { throw error("text outside the root element") }
        let segment: String
        if plain {
            guard let decoded = decode(start..<position) else { throw error("invalid UTF-8 in text", at: start) }
            segment = decoded
        } else {
            segment = try unescaped(start..<position, inAttribute: false)
        }
        if node.text.isEmpty { node.text = segment } else { node.text += segment }
    }

    private mutating func cdata() throws {
        let start = position + 9
        guard let end = find("]]>", from: start) else { throw error("CDATA section is not closed (truncated)") }
        var raw = Array(bytes[start..<end])
        for byte in raw where byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D {
            throw error("invalid character (control character \(byte)) in CDATA")
        }
        if raw.contains(0x0D) { raw = XMLReader.normalizedLineEnds(raw) }
        guard let segment = String(validating: raw, as: UTF8.self) else { throw error("invalid UTF-8 in CDATA", at: start) }
        position = end + 3
        if let node = open.last { node.text += segment }
    }

    private mutating func attributeValue() throws -> String {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") || bytes[position] == UInt8(ascii: "'") else {
            throw error("attribute value not quoted")
        }
        let quote = bytes[position]
        position += 1
        let start = position
        var plain = true
        while position < bytes.count && bytes[position] != quote {
            let byte = bytes[position]
            if byte == UInt8(ascii: "<") { throw error("unescaped '<' in attribute value") }
            if byte == UInt8(ascii: "&") || byte == 0x09 || byte == 0x0A || byte == 0x0D { plain = false }
            else if byte < 0x20 { throw error("invalid character (control character \(byte))") }
            position += 1
        }
        guard position < bytes.count else { throw error("document ends inside an attribute value (truncated)") }
        let end = position
        position += 1
        if plain {
            guard let value = decode(start..<end) else { throw error("invalid UTF-8 in attribute value", at: start) }
            return value
        }
        return try unescaped(start..<end, inAttribute: true)
    }

    /// Resolves references and normalises line ends (and, in attributes, literal whitespace to spaces).
    private func unescaped(_ range: Range<Int>, inAttribute: Bool) throws -> String {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = bytes[index]
            if byte == UInt8(ascii: "&") {
                guard let semicolon = (index + 1..<min(range.upperBound, index + 12)).first(where: {
                    bytes[$0] == UInt8(ascii: ";")
                }) else {
                    throw error("'&' that does not start a reference (write &amp;)", at: index)
                }
                try appendReference(index + 1..<semicolon, to: &out)
                index = semicolon + 1
                continue
            }
            if byte == 0x0D {
                // CR LF and a lone CR both become one LF (XML 1.0 §2.11).
                if index + 1 < range.upperBound && bytes[index + 1] == 0x0A { index += 1 }
                out.append(inAttribute ? 0x20 : 0x0A)
            } else if inAttribute && (byte == 0x09 || byte == 0x0A) {
                out.append(0x20)
            } else {
                out.append(byte)
            }
            index += 1
        }
        guard let string = String(validating: out, as: UTF8.self) else {
            throw error("invalid UTF-8", at: range.lowerBound)
        }
        return string
    }

    private func appendReference(_ range: Range<Int>, to out: inout [UInt8]) throws {
        switch decode(range) ?? "" {
        case "lt": out.append(UInt8(ascii: "<"))
        case "gt": out.append(UInt8(ascii: ">"))
        case "amp": out.append(UInt8(ascii: "&"))
        case "quot": out.append(UInt8(ascii: "\""))
        case "apos": out.append(UInt8(ascii: "'"))
        case let name where name.hasPrefix("#"):
            let digits = name.dropFirst()
            let value = digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
            guard let value, XMLReader.isXMLCharacter(value), let scalar = Unicode.Scalar(value) else {
                throw error("invalid character reference &\(name);", at: range.lowerBound - 1)
            }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        case let name:
            throw error("undeclared entity &\(name); (only &lt; &gt; &amp; &quot; &apos; and &#…; exist here)",
                        at: range.lowerBound - 1)
        }
    }

    static func isXMLCharacter(_ value: UInt32) -> Bool {
        value == 0x09 || value == 0x0A || value == 0x0D || (0x20...0xD7FF).contains(value)
            || (0xE000...0xFFFD).contains(value) || (0x10000...0x10FFFF).contains(value)
    }

    static func normalizedLineEnds(_ raw: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var index = 0
        while index < raw.count {
            if raw[index] == 0x0D {
                out.append(0x0A)
                if index + 1 < raw.count && raw[index + 1] == 0x0A { index += 1 }
            } else {
                out.append(raw[index])
            }
            index += 1
        }
        return out
    }

    // MARK: - Comments and processing instructions

    private mutating func comment() throws {
        guard let end = find("-->", from: position + 4) else { throw error("comment is not closed (truncated)") }
        position = end + 3
    }

    private mutating func processingInstruction() throws {
        if startsWith("<?xml") && (isWhitespace(at: position + 5) || startsWith("<?xml?>")) {
            throw error("XML declaration is only allowed at the very start of the document")
        }
        guard let end = find("?>", from: position + 2) else { throw error("processing instruction is not closed (truncated)") }
        position = end + 2
    }

    // MARK: - Names

    /// A qualified name at `position`: its byte range and where its colon is, if any.
    private mutating func name() throws -> (range: Range<Int>, colon: Int?) {
        let start = position
        var colon: Int?
        while position < bytes.count {
            let byte = bytes[position]
            if XMLReader.endsName(byte) { break }
            if byte == UInt8(ascii: ":") {
                guard colon == nil else { throw error("name with more than one ':'") }
                colon = position
            }
            position += 1
        }
        guard position > start else {
            throw error(position < bytes.count ? "invalid name or '<' not followed by a name" : "document ends inside a tag (truncated)")
        }
        let first = bytes[start]
        if first == UInt8(ascii: "-") || first == UInt8(ascii: ".") || (first >= 0x30 && first <= 0x39) {
            throw error("invalid name (a name cannot start with '-', '.' or a digit)", at: start)
        }
        if colon == start || colon == position - 1 { throw error("invalid qualified name", at: start) }
        return (start..<position, colon)
    }

    private static func endsName(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ">"), UInt8(ascii: "/"), UInt8(ascii: "="),
             UInt8(ascii: "<"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "&"), UInt8(ascii: ";"):
            return true
        default:
            return byte < 0x20
        }
    }

    private func decodeName(_ range: Range<Int>) throws -> String {
        guard let name = decode(range) else { throw error("invalid UTF-8 in a name", at: range.lowerBound) }
        return name
    }

    // MARK: - Bytes

    /// The bytes as a string, nil when they are not UTF-8. ASCII, nearly everything in SOAP, takes
    /// the fast path; anything else is validated.
    private func decode(_ range: Range<Int>) -> String? {
        let slice = UnsafeBufferPointer(rebasing: bytes[range])
        var combined: UInt8 = 0
        for byte in slice { combined |= byte }
        if combined < 0x80 { return String(decoding: slice, as: UTF8.self) }
        return String(validating: slice, as: UTF8.self)
    }

    private func startsWith(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        let pointer = literal.utf8Start
        for offset in 0..<count where bytes[position + offset] != pointer[offset] { return false }
        return true
    }

    private func equals(_ range: Range<Int>, _ literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        let pointer = literal.utf8Start
        for offset in 0..<range.count where bytes[range.lowerBound + offset] != pointer[offset] { return false }
        return true
    }

    private func same(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count else { return false }
        for offset in 0..<a.count where bytes[a.lowerBound + offset] != bytes[b.lowerBound + offset] { return false }
        return true
    }

    private func find(_ literal: StaticString, from start: Int) -> Int? {
        let count = literal.utf8CodeUnitCount
        let pointer = literal.utf8Start
        var index = start
        while index + count <= bytes.count {
            if bytes[index] == pointer[0] {
                var offset = 1
                while offset < count && bytes[index + offset] == pointer[offset] { offset += 1 }
                if offset == count { return index }
            }
            index += 1
        }
        return nil
    }

    private func isWhitespace(at index: Int) -> Bool {
        guard index < bytes.count else { return false }
        let byte = bytes[index]
        return byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    @discardableResult
    private mutating func skipWhitespace() -> Bool {
        let start = position
        while isWhitespace(at: position) { position += 1 }
        return position > start
    }

    private func error(_ message: String, at index: Int? = nil) -> XMLParseError {
        let stop = min(index ?? position, bytes.count)
        var line = 1, column = 1
        for offset in 0..<stop {
            if bytes[offset] == 0x0A { line += 1; column = 1 } else { column += 1 }
        }
        return XMLParseError(line: line, column: column, message: message)
    }
}
