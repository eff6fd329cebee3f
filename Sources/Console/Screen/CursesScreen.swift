import CShims
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum ConsoleError: Error, CustomStringConvertible {
    case notATerminal
    case terminalInitFailed(String)

    public var description: String {
        switch self {
        case .notATerminal:
            return "the console needs a terminal on stdin and stdout; use `winfleet run` for scripts and pipes"
        case .terminalInitFailed(let term):
            return "cannot initialise the terminal (TERM=\(term)); set TERM to a known type such as xterm-256color"
        }
    }
}

/// The terminal, through ncursesw. The only type that calls curses; it owns the terminal from `init` until
/// `stop()` (or a crash: the C shim's signal and atexit handlers restore the terminal on every exit path).
public final class CursesScreen: Screen {
    public private(set) var size: ScreenSize
    private var theme: Theme
    private var colorDepth = 0
    private var attributesByRole: [Role: UInt32] = [:]
    private var pairByRole: [Role: Int32] = [:]
    private var scratch: [wchar_t] = []

    public init(theme: Theme, environment: [String: String]) throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { throw ConsoleError.notATerminal }
        guard wf_curses_start() == 0 else { throw ConsoleError.terminalInitFailed(environment["TERM"] ?? "unset") }
        self.theme = theme
        size = ScreenSize(rows: Int(wf_curses_rows()), cols: Int(wf_curses_cols()))
        let colors = Int(wf_curses_color_count())
        let pairs = Int(wf_curses_color_pair_count())
        // One colour pair per role; without enough pairs (or colours) the console uses attributes only.
        colorDepth = pairs > Role.allCases.count ? (colors >= 256 ? 256 : colors >= 16 ? 16 : colors >= 8 ? 8 : 0) : 0
        apply(theme: theme)
    }

    deinit { stop() }

    /// Gives the terminal back (endwin). Idempotent.
    public func stop() {
        wf_curses_stop()
    }

    public func apply(theme: Theme) {
        self.theme = theme
        for (index, role) in Role.allCases.enumerated() {
            let style = theme.terminalStyle(role, depth: colorDepth)
            let pair = Int32(index + 1)
            if colorDepth > 0 {
                _ = wf_curses_init_pair(pair, Int32(style.foreground), Int32(style.background))
                pairByRole[role] = pair
            } else {
                pairByRole[role] = 0
            }
            attributesByRole[role] = curses(style.attributes)
        }
        wf_curses_invalidate()
    }

    private func curses(_ attributes: TextAttributes) -> UInt32 {
        wf_curses_attributes(attributes.contains(.bold) ? 1 : 0, attributes.contains(.dim) ? 1 : 0,
                             attributes.contains(.underline) ? 1 : 0, attributes.contains(.reverse) ? 1 : 0,
                             attributes.contains(.italic) ? 1 : 0)
    }

    /// Re-reads the terminal size (after KEY_RESIZE).
    public func refreshSize() {
        size = ScreenSize(rows: Int(wf_curses_rows()), cols: Int(wf_curses_cols()))
        wf_curses_invalidate()
    }

    public func draw(_ frame: ScreenFrame) {
        let cols = frame.size.cols
        for row in 0..<min(frame.size.rows, size.rows) {
            var col = 0
            while col < min(cols, size.cols) {
                let cell = frame[row, col]
                if cell.text.isEmpty { col += 1; continue }
                // ASCII runs of one style are drawn at once; every other character alone at its own column,
                // so a width disagreement between our table and the C library cannot shift the rest of the row.
                let isASCII = cell.text.utf8.count == 1
                scratch.removeAll(keepingCapacity: true)
                var end = col
                if isASCII {
                    while end < cols {
                        let next = frame[row, end]
                        guard next.role == cell.role, next.attributes == cell.attributes, next.text.utf8.count == 1
                        else { break }
                        scratch.append(wchar_t(next.text.utf8.first!))
                        end += 1
                    }
                } else {
                    for scalar in cell.text.unicodeScalars { scratch.append(wchar_t(bitPattern: scalar.value)) }
                    end = col + 1
                }
                var attributes = attributesByRole[cell.role] ?? 0
                if !cell.attributes.isEmpty {
                    // The cell's own attributes add to the role's; reverse toggles (reverse on a reversed role
                    // still stands out).
                    attributes |= curses(cell.attributes.subtracting(.reverse))
                    if cell.attributes.contains(.reverse) { attributes ^= curses(.reverse) }
                }
                let pair = pairByRole[cell.role] ?? 0
                scratch.withUnsafeBufferPointer { buffer in
                    _ = wf_curses_draw(Int32(row), Int32(col), buffer.baseAddress, Int32(buffer.count), attributes, pair)
                }
                col = end
            }
        }
        if let cursor = frame.cursor {
            wf_curses_present(Int32(cursor.row), Int32(cursor.col), 1)
        } else {
            wf_curses_present(0, 0, 0)
        }
    }

    /// Reads every key that is waiting, without blocking.
    public func readKeys() -> [Key] {
        var keys: [Key] = []
        while keys.count < 256 {
            var character: UInt32 = 0
            let kind = Int(wf_curses_read_key(&character))
            if kind == Int(WF_KEY_NONE) { break }
            if let key = Self.key(kind: kind, character: character) { keys.append(key) }
        }
        return keys
    }

    static func key(kind: Int, character: UInt32) -> Key? {
        switch kind {
        case Int(WF_KEY_CHAR):
            switch character {
            case 9: return .tab
            case 10, 13: return .enter
            case 27: return .escape
            case 8, 127: return .backspace
            case 1...26: return .ctrl(Character(UnicodeScalar(UInt8(96 + character))))
            case 0..<32: return nil
            default:
                guard let scalar = UnicodeScalar(character) else { return nil }
                return .char(Character(scalar))
            }
        case Int(WF_KEY_UP): return .up
        case Int(WF_KEY_DOWN): return .down
        case Int(WF_KEY_LEFT): return .left
        case Int(WF_KEY_RIGHT): return .right
        case Int(WF_KEY_PAGE_UP): return .pageUp
        case Int(WF_KEY_PAGE_DOWN): return .pageDown
        case Int(WF_KEY_HOME): return .home
        case Int(WF_KEY_END): return .end
        case Int(WF_KEY_BACK_TAB): return .backTab
        case Int(WF_KEY_BACKSPACE): return .backspace
        case Int(WF_KEY_DELETE): return .delete
        case Int(WF_KEY_ENTER): return .enter
        case Int(WF_KEY_RESIZE): return .resize
        default: return nil
        }
    }
}
