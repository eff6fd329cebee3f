import Foundation

extension StringProtocol {
    /// The text without leading and trailing ASCII whitespace (space, tab, CR, LF, VT, FF).
    /// Foundation's `trimmingCharacters(in:)` goes through NSString on Linux and was the hot spot of
    /// parsing thousands of envelopes a second; SOAP and HTTP whitespace is ASCII anyway.
    public var trimmingASCIIWhitespace: String {
        let bytes = utf8
        var start: UTF8View.Index?
        var end = bytes.startIndex
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            let next = bytes.index(after: index)
            if !(byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)) {
                if start == nil { start = index }
                end = next
            }
            index = next
        }
        guard let start else { return "" }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
