import Foundation

public enum ConsoleView: String, CaseIterable, Sendable, Hashable {
    case fleet, run, groups, health, history
    /// One host's stdout and stderr.
    case output
    /// The per-host results of a past run, opened from the history.
    case historyRun

    /// The views Tab cycles through, in order.
    public static let tabOrder: [ConsoleView] = [.fleet, .run, .groups, .health, .history]

    public var title: String {
        switch self {
        case .fleet: return "Fleet"
        case .run: return "Run"
        case .groups: return "Groups"
        case .health: return "Health"
        case .history: return "History"
        case .output: return "Output"
        case .historyRun: return "Past run"
        }
    }
}

public enum FleetColumn: String, CaseIterable, Sendable {
    case host, address, groups, transport, session, rtt, error
}

public enum RunColumn: String, CaseIterable, Sendable {
    case host, route, state, exit, duration, output
}

public struct SortOrder<Column: CaseIterable & Equatable & Sendable>: Equatable, Sendable {
    public var column: Column
    public var ascending: Bool = true

    public init(_ column: Column, ascending: Bool = true) {
        self.column = column
        self.ascending = ascending
    }

    /// The next column, ascending.
    public func next() -> SortOrder {
        let all = Array(Column.allCases)
        let index = all.firstIndex(of: column) ?? all.startIndex
        return SortOrder(all[(index + 1) % all.count])
    }
}

/// Typing state of the filter or command line.
public struct PromptLine: Equatable, Sendable {
    public var text: String
    /// In characters (grapheme clusters) from the start.
    public var cursor: Int

    public init(_ text: String = "") {
        self.text = text
        cursor = text.count
    }

    mutating func insert(_ character: Character) {
        let index = text.index(text.startIndex, offsetBy: min(cursor, text.count))
        text.insert(character, at: index)
        cursor += 1
    }

    mutating func deleteBack() {
        guard cursor > 0, !text.isEmpty else { return }
        let index = text.index(text.startIndex, offsetBy: cursor - 1)
        text.remove(at: index)
        cursor -= 1
    }
}

public enum InputMode: Equatable, Sendable {
    case normal
    case filter(PromptLine)
    case command(PromptLine)
    /// "A run is active. Quit?"
    case confirmQuit
}

public struct StatusMessage: Equatable, Sendable {
    public var text: String
    public var isError: Bool

    public init(_ text: String, isError: Bool = false) {
        self.text = text
        self.isError = isError
    }
}

/// Cursor and scroll offset of one list.
public struct ListPosition: Equatable, Sendable {
    public var cursor = 0
    public var top = 0
    /// The selected row's identity, so the selection stays on its row when rows move (live sorting).
    public var selectedKey: String?

    public init(cursor: Int = 0, top: Int = 0, selectedKey: String? = nil) {
        self.cursor = cursor
        self.top = top
        self.selectedKey = selectedKey
    }
}

/// The `:target` expression and what it resolved to.
public struct RunTarget: Equatable, Sendable {
    public var expression: String
    public var hosts: [String]
}

/// What a key asks the outside world to do. `ConsoleState.handle` returns these and does no I/O;
/// `ConsoleApp` carries them out against the engine and reports back.
public enum ConsoleEffect: Equatable, Sendable {
    case startRun(command: String, powershell: Bool, hosts: [String])
    /// Resolve a `:target` expression; report with `targetResolved` / `targetFailed`.
    case resolveTarget(String)
    case cancelHost(String)
    case cancelRun
    case setThrottle(Int)
    /// Load a past run's rows; report with `historyRunOpened`.
    case openHistoryRun(Int64)
    /// Ask the engine what is pending; report with `showPending`.
    case showPendingSummary
    /// Load a theme by name or file; report with `themeApplied`.
    case loadTheme(String)
    case quit
}
