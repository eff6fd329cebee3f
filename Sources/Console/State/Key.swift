/// One key press, independent of the terminal library.
public enum Key: Hashable, Sendable {
    case char(Character)
    /// A control chord: `.ctrl("c")` is ctrl-c (byte 3).
    case ctrl(Character)
    case enter, escape, tab, backTab, backspace, delete
    case up, down, left, right, pageUp, pageDown, home, end
    /// The terminal changed size.
    case resize

    /// The name shown in help and the hint bar.
    public var label: String {
        switch self {
        case .char(" "): return "space"
        case .char(let c): return String(c)
        case .ctrl(let c): return "ctrl-\(c)"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .tab: return "Tab"
        case .backTab: return "shift-Tab"
        case .backspace: return "Backspace"
        case .delete: return "Del"
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .resize: return "resize"
        }
    }

    /// Parses a key script used by tests and demos: plain characters, and `<enter>`, `<esc>`, `<tab>`,
    /// `<up>`, `<c-c>` … for special keys. Example: `":run ipconfig<enter>"`.
    public static func script(_ text: String) -> [Key] {
        var keys: [Key] = []
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "<", let close = text[index...].firstIndex(of: ">"), close > text.index(after: index) {
                let name = String(text[text.index(after: index)..<close]).lowercased()
                if let key = named(name) {
                    keys.append(key)
                    index = text.index(after: close)
                    continue
                }
            }
            keys.append(.char(text[index]))
            index = text.index(after: index)
        }
        return keys
    }

    private static func named(_ name: String) -> Key? {
        switch name {
        case "enter", "cr": return .enter
        case "esc": return .escape
        case "tab": return .tab
        case "btab", "s-tab": return .backTab
        case "bs", "backspace": return .backspace
        case "del": return .delete
        case "up": return .up
        case "down": return .down
        case "left": return .left
        case "right": return .right
        case "pgup": return .pageUp
        case "pgdn": return .pageDown
        case "home": return .home
        case "end": return .end
        case "space": return .char(" ")
        case "lt": return .char("<")
        case "resize": return .resize
        default:
            if name.hasPrefix("c-"), name.count == 3, let c = name.last { return .ctrl(c) }
            return nil
        }
    }
}
