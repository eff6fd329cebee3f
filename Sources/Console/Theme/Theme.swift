// A theme maps every colour role the renderers use to colours and attributes. Renderers only name roles;
// the screen backend turns roles into terminal colours for the colour depth it has (8, 16 or 256).

/// What a piece of text is. Renderers pick roles, themes pick colours.
public enum Role: String, CaseIterable, Sendable, Hashable {
    case normal
    case header
    case columnHeader = "column_header"
    case routeRow = "route_row"
    case ok
    case running
    case failed
    case error
    case affinity
    case warning
    case selected
    case marked
    case dim
    case status
    case statusError = "status_error"
    case hint
    case hintKey = "hint_key"
    case overlay
    case overlayTitle = "overlay_title"
    case input
    case progressDone = "progress_done"
    case progressTodo = "progress_todo"
    case stderr
    case groupHeader = "group_header"

    /// One letter per role for the golden files' role maps.
    public var mapLetter: Character {
        switch self {
        case .normal: return "."
        case .header: return "H"
        case .columnHeader: return "C"
        case .routeRow: return "R"
        case .ok: return "o"
        case .running: return "r"
        case .failed: return "f"
        case .error: return "e"
        case .affinity: return "a"
        case .warning: return "w"
        case .selected: return "S"
        case .marked: return "M"
        case .dim: return "d"
        case .status: return "s"
        case .statusError: return "E"
        case .hint: return "h"
        case .hintKey: return "k"
        case .overlay: return "O"
        case .overlayTitle: return "T"
        case .input: return "i"
        case .progressDone: return "P"
        case .progressTodo: return "p"
        case .stderr: return "x"
        case .groupHeader: return "G"
        }
    }
}

/// A colour as a theme names it. `terminalDefault` is the terminal's own foreground or background.
public enum ThemeColor: Hashable, Sendable {
    case terminalDefault
    /// One of the 16 ANSI colours: 0–7 normal, 8–15 bright.
    case ansi(Int)
    /// An index into the xterm 256-colour palette.
    case indexed(Int)
    case rgb(UInt8, UInt8, UInt8)

    public static let names = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    /// The colour for a terminal with `depth` colours: -1 for the terminal default, else a colour number.
    public func resolved(depth: Int) -> Int {
        switch self {
        case .terminalDefault:
            return -1
        case .ansi(let n):
            return depth >= 16 ? n : n % 8
        case .indexed(let n):
            if depth >= 256 { return n }
            if n < 16 { return depth >= 16 ? n : n % 8 }
            let (r, g, b) = Self.rgbOfIndex(n)
            return Self.nearestANSI(r, g, b, depth: depth)
        case .rgb(let r, let g, let b):
            if depth >= 256 { return Self.nearestIndexed(r, g, b) }
            return Self.nearestANSI(Int(r), Int(g), Int(b), depth: depth)
        }
    }

    /// True when an 8-colour terminal needs bold to show this (bright) foreground.
    public func needsBoldOn8Colors() -> Bool {
        if case .ansi(let n) = self { return n >= 8 }
        return false
    }

    static func rgbOfIndex(_ n: Int) -> (Int, Int, Int) {
        if n >= 232 {
            let level = 8 + (n - 232) * 10
            return (level, level, level)
        }
        let cube = n - 16
        let steps = [0, 95, 135, 175, 215, 255]
        return (steps[cube / 36], steps[(cube / 6) % 6], steps[cube % 6])
    }

    static let ansiRGB: [(Int, Int, Int)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255),
        (255, 255, 255),
    ]

    static func nearestANSI(_ r: Int, _ g: Int, _ b: Int, depth: Int) -> Int {
        let count = depth >= 16 ? 16 : 8
        var best = 0
        var bestDistance = Int.max
        for index in 0..<count {
            let (pr, pg, pb) = ansiRGB[index]
            let distance = (pr - r) * (pr - r) + (pg - g) * (pg - g) + (pb - b) * (pb - b)
            if distance < bestDistance {
                best = index
                bestDistance = distance
            }
        }
        return best
    }

    static func nearestIndexed(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int {
        func step(_ v: UInt8) -> Int { v < 48 ? 0 : v < 115 ? 1 : (Int(v) - 35) / 40 }
        let cube = 16 + 36 * step(r) + 6 * step(g) + step(b)
        let (cr, cg, cb) = rgbOfIndex(cube)
        let gray = min(23, max(0, (Int(r) + Int(g) + Int(b)) / 3 - 8) / 10)
        let (gr, gg, gb) = rgbOfIndex(232 + gray)
        func distance(_ x: (Int, Int, Int)) -> Int {
            (x.0 - Int(r)) * (x.0 - Int(r)) + (x.1 - Int(g)) * (x.1 - Int(g)) + (x.2 - Int(b)) * (x.2 - Int(b))
        }
        return distance((cr, cg, cb)) <= distance((gr, gg, gb)) ? cube : 232 + gray
    }

    /// The spelling used in theme files and golden files.
    public var name: String {
        switch self {
        case .terminalDefault: return "default"
        case .ansi(let n): return n < 8 ? Self.names[n] : "bright_" + Self.names[n - 8]
        case .indexed(let n): return String(n)
        case .rgb(let r, let g, let b):
            func hex(_ v: UInt8) -> String { let s = String(v, radix: 16); return s.count == 1 ? "0" + s : s }
            return "#" + hex(r) + hex(g) + hex(b)
        }
    }
}

public struct TextAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = TextAttributes(rawValue: 1)
    public static let dim = TextAttributes(rawValue: 2)
    public static let underline = TextAttributes(rawValue: 4)
    public static let reverse = TextAttributes(rawValue: 8)
    public static let italic = TextAttributes(rawValue: 16)

    public static let names: [(String, TextAttributes)] = [
        ("bold", .bold), ("dim", .dim), ("underline", .underline), ("reverse", .reverse), ("italic", .italic),
    ]

    public var names: [String] { Self.names.filter { contains($0.1) }.map(\.0) }
}

public struct RoleStyle: Hashable, Sendable {
    public var foreground: ThemeColor
    public var background: ThemeColor
    public var attributes: TextAttributes

    public init(_ foreground: ThemeColor = .terminalDefault, _ background: ThemeColor = .terminalDefault,
                _ attributes: TextAttributes = []) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }
}

/// A style resolved for a terminal: colour numbers (-1 = terminal default) and attributes.
public struct TerminalStyle: Hashable, Sendable {
    public var foreground: Int
    public var background: Int
    public var attributes: TextAttributes
}

public struct Theme: Equatable, Sendable {
    public var name: String
    public var description: String
    public var styles: [Role: RoleStyle]

    public init(name: String, description: String, styles: [Role: RoleStyle]) {
        self.name = name
        self.description = description
        self.styles = styles
    }

    public func style(_ role: Role) -> RoleStyle {
        styles[role] ?? RoleStyle()
    }

    /// The style for a terminal with `depth` colours (0 or 1 = no colour: attributes only).
    public func terminalStyle(_ role: Role, depth: Int) -> TerminalStyle {
        let style = style(role)
        guard depth >= 8 else { return TerminalStyle(foreground: -1, background: -1, attributes: style.attributes) }
        var attributes = style.attributes
        if depth < 16 && style.foreground.needsBoldOn8Colors() { attributes.insert(.bold) }
        return TerminalStyle(foreground: style.foreground.resolved(depth: depth),
                             background: style.background.resolved(depth: depth), attributes: attributes)
    }

    /// One line per role and depth, for golden files: `header  256: fg=0 bg=6 bold | 16: … | 8: … | mono: …`.
    public func roleMapDump() -> String {
        var lines = ["theme \(name): \(description)"]
        for role in Role.allCases {
            let style = style(role)
            var line = "\(role.mapLetter) \(DisplayWidth.fit(role.rawValue, to: 14)) fg=\(style.foreground.name) "
                + "bg=\(style.background.name) attrs=\(style.attributes.names.joined(separator: ","))"
            for depth in [256, 16, 8, 0] {
                let t = terminalStyle(role, depth: depth)
                line += " | \(depth == 0 ? "mono" : String(depth)): \(t.foreground)/\(t.background)"
                    + (t.attributes.isEmpty ? "" : " " + t.attributes.names.joined(separator: ","))
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
