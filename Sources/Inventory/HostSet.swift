import Foundation

/// clush-style host sets: `win[0001-0040,0042]` ⇄ a list of names.
///
/// Brackets hold comma-separated numbers and ranges; a leading zero fixes the width
/// (`[08-10]` → 08, 09, 10). Several brackets in one name multiply (`r[1-2]n[1-2]` → r1n1, r1n2, r2n1, r2n2).
/// Commas outside brackets separate names.
public enum HostSet {
    /// The most names one pattern may expand to (a typo like `[1-1000000000]` must not eat the memory).
    public static let expansionLimit = 100_000

    /// Expands `web[01-03],db1` to `["web01", "web02", "web03", "db1"]` (duplicates kept, order as written).
    public static func expand(_ text: String) throws -> [String] {
        var names: [String] = []
        for part in try splitTopLevel(text) {
            names += try expandPattern(part)
            if names.count > expansionLimit { throw HostSetError(pattern: text, message: "expands to more than \(expansionLimit) names") }
        }
        return names
    }

    /// Folds names into the shortest clush notation, sorted: `["web01","web02","web03","db1"]` → `db1,web[01-03]`.
    /// Folds on the last run of digits in each name; zero padding is kept, and names that differ in
    /// padding (`web1` vs `web01`) are never merged.
    public static func fold<S: Sequence>(_ names: S) -> String where S.Element == String {
        foldedParts(names).joined(separator: ",")
    }

    /// The comma-separated parts of `fold`, e.g. `["db1", "web[01-03]"]`.
    public static func foldedParts<S: Sequence>(_ names: S) -> [String] where S.Element == String {
        var numbersByKey: [Key: [Substring]] = [:]
        var keyOrder: [Key] = []
        var plain: Set<String> = []
        for name in Set(names) {
            guard let (prefix, digits, suffix) = splitLastNumber(name) else { plain.insert(name); continue }
            let key = Key(prefix: String(prefix), suffix: String(suffix))
            if numbersByKey[key] == nil { keyOrder.append(key) }
            numbersByKey[key, default: []].append(digits)
        }

        var items: [(sortKey: (String, Int, String, Int), text: String)] = plain.map { (($0, -1, "", 0), $0) }
        for key in keyOrder {
            for (width, numbers) in widthGroups(numbersByKey[key]!) {
                let ranges = compress(numbers)
                let text: String
                if numbers.count == 1 {
                    text = key.prefix + pad(numbers[0], width) + key.suffix
                } else {
                    let inner = ranges.map { $0.lowerBound == $0.upperBound
                        ? pad($0.lowerBound, width) : "\(pad($0.lowerBound, width))-\(pad($0.upperBound, width))" }
                    text = "\(key.prefix)[\(inner.joined(separator: ","))]\(key.suffix)"
                }
                items.append(((key.prefix, numbers[0], key.suffix, width), text))
            }
        }
        items.sort { $0.sortKey < $1.sortKey }
        return items.map(\.text)
    }

    // MARK: - Folding helpers

    /// Names that fold together share the text around their last number.
    private struct Key: Hashable {
        var prefix: String
        var suffix: String
    }

    /// Splits `web01-eth0` into ("web01-eth", "0", ""): the last digit run and what surrounds it.
    /// Digit runs longer than 18 (no Int) are left unfolded.
    private static func splitLastNumber(_ name: String) -> (Substring, Substring, Substring)? {
        guard let lastDigit = name.lastIndex(where: \.isASCIIDigit) else { return nil }
        var start = lastDigit
        while start > name.startIndex, name[name.index(before: start)].isASCIIDigit {
            start = name.index(before: start)
        }
        let end = name.index(after: lastDigit)
        let digits = name[start..<end]
        guard digits.count <= 18 else { return nil }
        return (name[..<start], digits, name[end...])
    }

    /// Groups digit strings by the width they are printed with. A string with a leading zero has a fixed
    /// width; one without (length L) fits any width ≤ L, and joins the widest padded group it fits.
    private static func widthGroups(_ digitStrings: [Substring]) -> [(width: Int, numbers: [Int])] {
        var byWidth: [Int: Set<Int>] = [:]
        var unpadded: [Substring] = []
        for digits in digitStrings {
            if digits.count > 1 && digits.first == "0" {
                byWidth[digits.count, default: []].insert(Int(digits)!)
            } else {
                unpadded.append(digits)
            }
        }
        let paddedWidths = byWidth.keys.sorted()
        for digits in unpadded {
            let width = paddedWidths.last { $0 <= digits.count } ?? 1
            byWidth[width, default: []].insert(Int(digits)!)
        }
        return byWidth.keys.sorted().map { ($0, byWidth[$0]!.sorted()) }
    }

    private static func compress(_ sortedNumbers: [Int]) -> [ClosedRange<Int>] {
        var ranges: [ClosedRange<Int>] = []
        for number in sortedNumbers {
            if let last = ranges.last, last.upperBound + 1 == number {
                ranges[ranges.count - 1] = last.lowerBound...number
            } else {
                ranges.append(number...number)
            }
        }
        return ranges
    }

    static func pad(_ number: Int, _ width: Int) -> String {
        let digits = String(number)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    // MARK: - Expansion helpers

    /// Splits at commas outside brackets.
    static func splitTopLevel(_ text: String) throws -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "[": depth += 1; current.append(character)
            case "]": depth -= 1; current.append(character)
            case "," where depth == 0:
                parts.append(current)
                current = ""
            default: current.append(character)
            }
            if depth < 0 { throw HostSetError(pattern: text, message: "']' without '['") }
            if depth > 1 { throw HostSetError(pattern: text, message: "brackets cannot be nested") }
        }
        if depth != 0 { throw HostSetError(pattern: text, message: "'[' is never closed") }
        parts.append(current)
        let trimmed = parts.map { $0.trimmingCharacters(in: .whitespaces) }
        if trimmed.contains(where: \.isEmpty) { throw HostSetError(pattern: text, message: "empty name between commas") }
        return trimmed
    }

    /// Expands the brackets of one name (no top-level commas). Text outside brackets is copied as is.
    static func expandPattern(_ pattern: String) throws -> [String] {
        var results = [""]
        var index = pattern.startIndex
        while index < pattern.endIndex {
            let character = pattern[index]
            if character == "]" { throw HostSetError(pattern: pattern, message: "']' without '['") }
            guard character == "[" else {
                results = results.map { $0 + String(character) }
                index = pattern.index(after: index)
                continue
            }
            guard let close = pattern[index...].firstIndex(of: "]") else {
                throw HostSetError(pattern: pattern, message: "'[' is never closed")
            }
            let body = pattern[pattern.index(after: index)..<close]
            if body.contains("[") { throw HostSetError(pattern: pattern, message: "brackets cannot be nested") }
            let values = try expandBracket(body, pattern: pattern)
            guard results.count * values.count <= expansionLimit else {
                throw HostSetError(pattern: pattern, message: "expands to more than \(expansionLimit) names")
            }
            results = results.flatMap { prefix in values.map { prefix + $0 } }
            index = pattern.index(after: close)
        }
        return results
    }

    /// `01-03,7` → ["01", "02", "03", "7"].
    private static func expandBracket(_ body: Substring, pattern: String) throws -> [String] {
        guard !body.isEmpty else { throw HostSetError(pattern: pattern, message: "empty brackets []") }
        var values: [String] = []
        for item in body.split(separator: ",", omittingEmptySubsequences: false) {
            let item = item.trimmingCharacters(in: .whitespaces)
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count),
                  bounds.allSatisfy({ !$0.isEmpty && $0.count <= 18 && $0.allSatisfy(\.isASCIIDigit) }) else {
                throw HostSetError(pattern: pattern, message: "'\(item)' is not a number or a range like 01-20")
            }
            if bounds.count == 1 {
                values.append(String(bounds[0]))
                continue
            }
            let (startText, endText) = (bounds[0], bounds[1])
            let start = Int(startText)!, end = Int(endText)!
            guard start <= end else {
                throw HostSetError(pattern: pattern, message: "range \(item) runs backwards; write \(endText)-\(startText)")
            }
            let startPadded = startText.count > 1 && startText.first == "0"
            let endPadded = endText.count > 1 && endText.first == "0"
            if endPadded && (!startPadded || endText.count != startText.count) {
                throw HostSetError(pattern: pattern, message: "range \(item) mixes paddings; give both ends the same width, e.g. \(pad(start, endText.count))-\(endText)")
            }
            guard end - start < expansionLimit else {
                throw HostSetError(pattern: pattern, message: "expands to more than \(expansionLimit) names")
            }
            let width = startPadded ? startText.count : 1
            for number in start...end { values.append(pad(number, width)) }
        }
        return values
    }
}

/// A malformed host set or range.
public struct HostSetError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    public var pattern: String
    public var message: String

    public init(pattern: String, message: String) {
        self.pattern = pattern
        self.message = message
    }

    public var description: String { "'\(pattern)': \(message)" }
    public var errorDescription: String? { description }
}
