import Foundation

/// "Did you mean …?" suggestions for misspelled keys, values, hosts, groups and routes.
enum NameSuggestions {
    /// Up to `limit` candidates at the smallest edit distance from `name` (case-insensitive),
    /// if that distance is small enough to be a typo; alphabetical.
    static func closeMatches(for name: String, among candidates: [String], limit: Int = 3) -> [String] {
        let target = Array(name.lowercased())
        guard !target.isEmpty else { return [] }
        // Short names tolerate one edit, longer ones a few; otherwise every short name matches.
        let threshold = target.count <= 3 ? 1 : (target.count <= 6 ? 2 : 3)
        var scored: [(distance: Int, name: String)] = []
        for candidate in Set(candidates) where candidate != name {
            let distance = editDistance(target, Array(candidate.lowercased()))
            if distance <= threshold { scored.append((distance, candidate)) }
        }
        // Only the closest tier: "wbe01" suggests web01, not also db01 and web02.
        guard let best = scored.map(\.distance).min() else { return [] }
        return scored.filter { $0.distance == best }.map(\.name).sorted().prefix(limit).map { $0 }
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
    /// transpositions each cost 1 (so "wbe01" is one edit from "web01").
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    value = min(value, previousPrevious[j - 2] + 1)
                }
                current[j] = value
            }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[b.count]
    }
}
