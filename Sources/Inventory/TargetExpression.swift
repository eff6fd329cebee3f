import Foundation

/// Characters with a meaning in target expressions; host, group and route names may not contain them.
enum TargetSyntax {
    static let reservedScalars: Set<Unicode.Scalar> = [",", "&", "!", "(", ")", "[", "]", "*", "?", ":"]
}

/// A selection of hosts, written like `web[01-20],group:iis&route:dmz,!web07`.
///
/// - `NAME` — the host of that name; if no host has it, the group of that name.
/// - `web*`, `web?1` — glob over host names (`*` any run, `?` one character).
/// - `web[01-20]`, `win[1-3,7]` — ranges (zero padding kept); may be combined with globs.
/// - `group:NAME`, `route:NAME` — hosts in a group / on a route (NAME may be a glob).
/// - `all` or an empty expression — every host.
/// - `A,B` union; `A&B` intersection; `!A` not A; parentheses group.
///   Precedence: `!` binds tightest, then `&`, then `,`.
///   In a `,` list, `!A` items subtract: `web*,!web03` is web* without web03, and a list of only
///   `!` items subtracts from all hosts (`!group:sql`). Inside `&`, `!A` is "not A".
/// Matching is case-insensitive. Selection keeps inventory order.
public indirect enum TargetExpression: Sendable, Equatable, CustomStringConvertible {
    case all
    /// Host names as written: a name, glob or range pattern.
    case hosts(String)
    case group(String)
    case route(String)
    case not(TargetExpression)
    case intersection([TargetExpression])
    case union([TargetExpression])

    public static func parse(_ text: String) throws -> TargetExpression {
        var parser = TargetExpressionParser(text: text)
        return try parser.parse()
    }

    /// Canonical text; parses back to an equal expression.
    public var description: String {
        switch self {
        case .all: return "all"
        case .hosts(let pattern): return pattern
        case .group(let name): return "group:\(name)"
        case .route(let name): return "route:\(name)"
        case .not(let inner):
            switch inner {
            case .union, .intersection: return "!(\(inner))"
            default: return "!\(inner)"
            }
        case .intersection(let items):
            return items.map { item -> String in
                if case .union = item { return "(\(item))" }
                return item.description
            }.joined(separator: "&")
        case .union(let items):
            return items.map(\.description).joined(separator: ",")
        }
    }

    /// The selected hosts in inventory order. Throws when a name, group or route matches nothing
    /// (listing close matches), since a typo in a target, above all in an exclusion, is dangerous.
    public func select(from inventory: Inventory) throws -> [InventoryHost] {
        var evaluator = TargetEvaluator(inventory: inventory)
        let selected = evaluator.evaluate(self)
        if !evaluator.unmatched.isEmpty { throw TargetExpressionError.noMatch(evaluator.unmatched) }
        return inventory.hosts.indices.filter { selected.contains($0) }.map { inventory.hosts[$0] }
    }
}

/// A term of a target expression that selected nothing, with suggestions.
public struct UnmatchedTerm: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case hostOrGroup
        case group
        case route
    }

    /// The term as written (`wbe01`, `group:iss`, `route:dmzz`).
    public var term: String
    public var kind: Kind
    /// Close matches, in the same notation as the term (`web01`, `group:iis`).
    public var suggestions: [String]

    public var description: String {
        let what: String
        switch kind {
        case .hostOrGroup: what = "no host or group matches"
        case .group: what = "no group matches"
        case .route: what = "no route matches"
        }
        let hint = suggestions.isEmpty ? "" : " — did you mean \(suggestions.joined(separator: ", "))?"
        return "\(what) '\(term)'\(hint)"
    }
}

public enum TargetExpressionError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// Malformed expression; `position` is the 0-based character offset.
    case syntax(expression: String, position: Int, message: String)
    /// Terms that matched nothing.
    case noMatch([UnmatchedTerm])

    public var description: String {
        switch self {
        case .syntax(let expression, let position, let message):
            return "target '\(expression)': \(message) (at character \(position + 1))"
        case .noMatch(let terms):
            return terms.map(\.description).joined(separator: "; ")
        }
    }

    public var errorDescription: String? { description }
}

// MARK: - Parsing

struct TargetExpressionParser {
    private enum Token: Equatable {
        case word(String)
        case comma, ampersand, bang, open, close
    }

    private let text: String
    private var tokens: [(token: Token, position: Int)] = []
    private var index = 0

    init(text: String) { self.text = text }

    mutating func parse() throws -> TargetExpression {
        tokens = try tokenize()
        if tokens.isEmpty { return .all }
        let expression = try parseUnion()
        if index < tokens.count {
            throw syntax(at: tokens[index].position, "unexpected \(describe(tokens[index].token)); join terms with ',' or '&'")
        }
        return expression
    }

    private func syntax(at position: Int, _ message: String) -> TargetExpressionError {
        .syntax(expression: text, position: position, message: message)
    }

    private func describe(_ token: Token) -> String {
        switch token {
        case .word(let word): return "'\(word)'"
        case .comma: return "','"
        case .ampersand: return "'&'"
        case .bang: return "'!'"
        case .open: return "'('"
        case .close: return "')'"
        }
    }

    private func tokenize() throws -> [(token: Token, position: Int)] {
        var result: [(token: Token, position: Int)] = []
        let characters = Array(text)
        var position = 0
        while position < characters.count {
            let character = characters[position]
            switch character {
            case _ where character.isWhitespace: position += 1
            case ",": result.append((.comma, position)); position += 1
            case "&": result.append((.ampersand, position)); position += 1
            case "!": result.append((.bang, position)); position += 1
            case "(": result.append((.open, position)); position += 1
            case ")": result.append((.close, position)); position += 1
            default:
                // A word runs to the next operator or space; commas inside [...] belong to the word.
                let start = position
                var word = ""
                var inBrackets = false
                while position < characters.count {
                    let c = characters[position]
                    if c == "[" {
                        if inBrackets { throw syntax(at: position, "brackets cannot be nested") }
                        inBrackets = true
                    } else if c == "]" {
                        if !inBrackets { throw syntax(at: position, "']' without '['") }
                        inBrackets = false
                    } else if !inBrackets && (c.isWhitespace || ",&!()".contains(c)) {
                        break
                    }
                    word.append(c)
                    position += 1
                }
                if inBrackets { throw syntax(at: start, "'[' is never closed") }
                result.append((.word(word), start))
            }
        }
        return result
    }

    private mutating func parseUnion() throws -> TargetExpression {
        var items = [try parseIntersection()]
        while index < tokens.count, tokens[index].token == .comma {
            index += 1
            items.append(try parseIntersection())
        }
        return items.count == 1 ? items[0] : .union(items)
    }

    private mutating func parseIntersection() throws -> TargetExpression {
        var items = [try parseFactor()]
        while index < tokens.count, tokens[index].token == .ampersand {
            index += 1
            items.append(try parseFactor())
        }
        return items.count == 1 ? items[0] : .intersection(items)
    }

    private mutating func parseFactor() throws -> TargetExpression {
        guard index < tokens.count else {
            throw syntax(at: text.count, "the expression ends where a host name, group:NAME or route:NAME is expected")
        }
        let (token, position) = tokens[index]
        switch token {
        case .bang:
            index += 1
            return .not(try parseFactor())
        case .open:
            index += 1
            let inner = try parseUnion()
            guard index < tokens.count, tokens[index].token == .close else {
                throw syntax(at: position, "'(' is never closed")
            }
            index += 1
            return inner
        case .word(let word):
            index += 1
            return try atom(word, at: position)
        default:
            throw syntax(at: position, "unexpected \(describe(token)); expected a host name, group:NAME or route:NAME")
        }
    }

    private func atom(_ word: String, at position: Int) throws -> TargetExpression {
        if word.lowercased() == "all" { return .all }
        if let colon = word.firstIndex(of: ":") {
            let selector = word[..<colon].lowercased()
            let name = String(word[word.index(after: colon)...])
            guard selector == "group" || selector == "route" else {
                throw syntax(at: position, "unknown selector '\(word[..<colon]):'; use group:NAME or route:NAME")
            }
            guard !name.isEmpty else { throw syntax(at: position, "\(selector): needs a name, e.g. \(selector):web") }
            if name.contains(where: { $0 == ":" || $0 == "[" || $0 == "]" }) {
                throw syntax(at: position, "\(selector) names cannot contain ':' or ranges")
            }
            return selector == "group" ? .group(name) : .route(name)
        }
        do {
            _ = try HostSet.expandPattern(word)
        } catch let error as HostSetError {
            throw syntax(at: position, "\(word): \(error.message)")
        }
        return .hosts(word)
    }
}

// MARK: - Evaluation

struct TargetEvaluator {
    let inventory: Inventory
    private(set) var unmatched: [UnmatchedTerm] = []
    private let everyHost: Set<Int>
    private let lowercasedNames: [String]
    /// Lower-cased host name → index, and lower-cased group name → member indices, so a range of
    /// thousands of names over thousands of hosts stays linear.
    private let indexByName: [String: Int]
    private let membersByGroup: [String: Set<Int>]

    init(inventory: Inventory) {
        self.inventory = inventory
        everyHost = Set(inventory.hosts.indices)
        lowercasedNames = inventory.hosts.map { $0.name.lowercased() }
        indexByName = Dictionary(lowercasedNames.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        var members: [String: Set<Int>] = [:]
        for (index, host) in inventory.hosts.enumerated() {
            for group in host.groups { members[group.lowercased(), default: []].insert(index) }
        }
        membersByGroup = members
    }

    mutating func evaluate(_ expression: TargetExpression) -> Set<Int> {
        switch expression {
        case .all:
            return everyHost
        case .hosts(let pattern):
            return hosts(matching: pattern)
        case .group(let pattern):
            let selected = indices { host in host.groups.contains { Glob.matches(pattern, $0) } }
            if selected.isEmpty {
                let suggestions = NameSuggestions.closeMatches(for: pattern, among: inventory.groupNames).map { "group:\($0)" }
                unmatched.append(UnmatchedTerm(term: "group:\(pattern)", kind: .group, suggestions: suggestions))
            }
            return selected
        case .route(let pattern):
            // A defined route without hosts is a valid, empty selection; an unknown route is a typo.
            if !inventory.routes.keys.contains(where: { Glob.matches(pattern, $0) }) {
                let suggestions = NameSuggestions.closeMatches(for: pattern, among: Array(inventory.routes.keys)).map { "route:\($0)" }
                unmatched.append(UnmatchedTerm(term: "route:\(pattern)", kind: .route, suggestions: suggestions))
                return []
            }
            return indices { Glob.matches(pattern, $0.routeName) }
        case .not(let inner):
            return everyHost.subtracting(evaluate(inner))
        case .intersection(let items):
            var result = everyHost
            for item in items { result.formIntersection(evaluate(item)) }
            return result
        case .union(let items):
            var included: Set<Int> = []
            var excluded: Set<Int> = []
            var hasPositiveItem = false
            for item in items {
                if case .not(let inner) = item {
                    excluded.formUnion(evaluate(inner))
                } else {
                    hasPositiveItem = true
                    included.formUnion(evaluate(item))
                }
            }
            return (hasPositiveItem ? included : everyHost).subtracting(excluded)
        }
    }

    private func indices(where predicate: (InventoryHost) -> Bool) -> Set<Int> {
        Set(inventory.hosts.indices.filter { predicate(inventory.hosts[$0]) })
    }

    private mutating func hosts(matching pattern: String) -> Set<Int> {
        // Parsing already validated the ranges.
        let names = (try? HostSet.expandPattern(pattern)) ?? [pattern]
        var selected: Set<Int> = []
        for name in names {
            if Glob.hasWildcards(name) {
                selected.formUnion(inventory.hosts.indices.filter { Glob.matches(name, lowercasedNames[$0]) })
            } else if let index = indexByName[name.lowercased()] {
                selected.insert(index)
            } else if let members = membersByGroup[name.lowercased()] {
                // Not a host: a group of that exact name.
                selected.formUnion(members)
            }
        }
        if selected.isEmpty {
            let isPlainName = names.count == 1 && !Glob.hasWildcards(pattern)
            let suggestions = isPlainName
                ? NameSuggestions.closeMatches(for: pattern, among: inventory.hosts.map(\.name) + inventory.groupNames)
                : []
            unmatched.append(UnmatchedTerm(term: pattern, kind: .hostOrGroup, suggestions: suggestions))
        }
        return selected
    }
}

/// Shell-style wildcards: `*` any run of characters, `?` exactly one. Case-insensitive.
enum Glob {
    static func hasWildcards(_ pattern: String) -> Bool { pattern.contains("*") || pattern.contains("?") }

    static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.lowercased())
        let t = Array(text.lowercased())
        // Iterative matcher with backtracking to the last '*': linear in practice, no recursion.
        var pi = 0, ti = 0
        var starIndex = -1, starMatch = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                pi += 1
                ti += 1
            } else if pi < p.count && p[pi] == "*" {
                starIndex = pi
                starMatch = ti
                pi += 1
            } else if starIndex >= 0 {
                pi = starIndex + 1
                starMatch += 1
                ti = starMatch
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
