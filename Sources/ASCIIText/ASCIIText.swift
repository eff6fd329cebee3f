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
    public func equalsIgnoringASCIICase(_ other: some StringProtocol) -> Bool {
        let left = utf8, right = other.utf8
        guard left.count == right.count else { return false }
        return zip(left, right).allSatisfy { lowercasedASCII($0) == lowercasedASCII($1) }
    }

    /// Whether `needle` occurs in the text, ignoring the case of ASCII letters.
    public func containsIgnoringASCIICase(_ needle: some StringProtocol) -> Bool {
        let haystack = Array(utf8), pattern = Array(needle.utf8)
        guard !pattern.isEmpty else { return true }
        guard haystack.count >= pattern.count else { return false }
        for start in 0...(haystack.count - pattern.count) {
            var index = 0
            while index < pattern.count && lowercasedASCII(haystack[start + index]) == lowercasedASCII(pattern[index]) {
                index += 1
            }
            if index == pattern.count { return true }
        }
        return false
    }

    /// Whether any byte of the text is one of `bytes` (ASCII).
    public func containsAnyASCII(of bytes: StaticString) -> Bool {
        bytes.withUTF8Buffer { set in utf8.contains { set.contains($0) } }
    }
}

@inline(__always)
private func lowercasedASCII(_ byte: UInt8) -> UInt8 {
    byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
}
