/// Text helpers for protocol text (HTTP headers, SOAP, inventory names), which is ASCII where it
/// matters. Foundation's versions of these go through NSString on Linux, which made them the hot spots
/// of parsing thousands of headers and envelopes a second.
extension StringProtocol {
    /// The text without leading and trailing ASCII whitespace (space, tab, CR, LF, VT, FF).
    /// Foundation's `trimmingCharacters(in:)` goes through NSString on Linux and was the hot spot of
    /// parsing thousands of envelopes a second; SOAP and HTTP whitespace is ASCII anyway.
    public var trimmingASCIIWhitespace: String {
        if let trimmed = utf8.withContiguousStorageIfAvailable({ Self.trimmed($0) }) { return trimmed }
        let bytes = utf8
        var start: UTF8View.Index?
        var end = bytes.startIndex
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            let next = bytes.index(after: index)
            if !Self.isWhitespace(byte) {
                if start == nil { start = index }
                end = next
            }
            index = next
        }
        guard let start else { return "" }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }

    private static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var start = 0, end = bytes.count
        while start < end && isWhitespace(bytes[start]) { start += 1 }
        while end > start && isWhitespace(bytes[end - 1]) { end -= 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }
}

extension StringProtocol {
    /// Equal, ignoring the case of ASCII letters (HTTP header names, auth schemes, media types).
    @inlinable
    public func equalsIgnoringASCIICase(_ other: some StringProtocol) -> Bool {
        utf8.count == other.utf8.count && hasPrefixIgnoringASCIICase(other)
    }

    /// Whether the text starts with `prefix`, ignoring the case of ASCII letters.
    @inlinable
    public func hasPrefixIgnoringASCIICase(_ prefix: some StringProtocol) -> Bool {
        var text = String(self), start = String(prefix)
        return text.withUTF8 { a in
            start.withUTF8 { b in
                guard a.count >= b.count else { return false }
                for index in 0..<b.count where lowercasedASCII(a[index]) != lowercasedASCII(b[index]) { return false }
                return true
            }
        }
    }

    /// Whether `needle` occurs in the text, ignoring the case of ASCII letters.
    @inlinable
    public func containsIgnoringASCIICase(_ needle: some StringProtocol) -> Bool {
        var haystack = String(self), pattern = String(needle)
        return haystack.withUTF8 { text in
            pattern.withUTF8 { word in
                guard !word.isEmpty else { return true }
                guard text.count >= word.count else { return false }
                for start in 0...(text.count - word.count) {
                    var index = 0
                    while index < word.count && lowercasedASCII(text[start + index]) == lowercasedASCII(word[index]) {
                        index += 1
                    }
                    if index == word.count { return true }
                }
                return false
            }
        }
    }

    /// Whether any byte of the text is one of `bytes` (ASCII).
    @inlinable
    public func containsAnyASCII(of bytes: StaticString) -> Bool {
        bytes.withUTF8Buffer { set in utf8.contains { set.contains($0) } }
    }
}

@inlinable
func lowercasedASCII(_ byte: UInt8) -> UInt8 {
    byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
}
