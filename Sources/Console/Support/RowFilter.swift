import Foundation

/// The `/` filter: a case-insensitive regular expression; a leading `!` inverts it. A pattern that is not a
/// valid regular expression is matched literally (and `problem` says so).
public struct RowFilter: Equatable {
    public let raw: String
    public let inverted: Bool
    public let problem: String?
    private let regex: NSRegularExpression?

    public init(_ raw: String) {
        self.raw = raw
        var pattern = raw
        inverted = pattern.hasPrefix("!")
        if inverted { pattern.removeFirst() }
        if pattern.isEmpty {
            regex = nil
            problem = nil
            return
        }
        if let compiled = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) {
            regex = compiled
            problem = nil
        } else {
            regex = try? NSRegularExpression(pattern: NSRegularExpression.escapedPattern(for: pattern),
                                             options: [.caseInsensitive])
            problem = "\"\(pattern)\" is not a valid regular expression; matching it literally"
        }
    }

    public static func == (lhs: RowFilter, rhs: RowFilter) -> Bool { lhs.raw == rhs.raw }

    /// False for an empty filter (or a lone `!`): everything passes.
    public var isActive: Bool { regex != nil }

    public func matches(_ text: String) -> Bool {
        guard let regex else { return true }
        let found = regex.firstMatch(in: text, options: [], range: NSRange(location: 0, length: text.utf16.count)) != nil
        return found != inverted
    }
}
