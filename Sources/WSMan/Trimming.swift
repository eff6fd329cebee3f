import Foundation

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
