// Keys are data: this one table drives key dispatch, the `?` help overlay and the hint bar.
// Add a key here and it is dispatched, documented and (if it has a hint) advertised; nothing else
// maps keys to actions.

/// Everything a key can ask for. `ConsoleState.perform` interprets these; it has no other entry point
/// for keys in normal mode.
public enum KeyAction: String, CaseIterable, Sendable {
    // Navigation
    case moveUp, moveDown, pageUp, pageDown, moveTop, moveBottom
    // Views
    case nextView, previousView, showFleet, showRun, showGroups, showHealth, showHistory, open, back
    // Modes
    case help, filter, command, quit
    // Marks and runs
    case toggleMark, markAllVisible, clearMarks, rerunFailed, cancelHost, interrupt
    // Display
    case toggleGrouped, nextSort, reverseSort, toggleFaultsOnly, toggleStderr, nextTheme
    // Prompt (filter and command line)
    case promptSubmit, promptCancel, promptHistoryUp, promptHistoryDown, promptDeleteBack,
         promptCursorLeft, promptCursorRight
    // Confirmation dialog
    case confirmYes, confirmNo
}

/// Where a binding applies.
public enum KeyScope: Hashable, Sendable {
    /// Normal mode in the listed views (all views when `nil`).
    case views(Set<ConsoleView>?)
    /// While typing a filter or a command.
    case prompt
    /// While the help overlay is open.
    case helpOverlay
    /// While a yes/no question is asked.
    case confirm
    /// In every context, also while typing (ctrl-c).
    case everywhere
}

public enum KeyGroup: String, CaseIterable, Sendable {
    case navigation = "Navigation"
    case views = "Views"
    case runs = "Marks and runs"
    case display = "Display"
    case prompt = "Filter and command line"
    case overlays = "Help and questions"
}

public struct KeyBinding: Sendable {
    public var keys: [Key]
    public var action: KeyAction
    public var help: String
    public var group: KeyGroup
    public var scope: KeyScope
    /// The short word for the hint bar; bindings without one are only in the help overlay.
    public var hint: String?

    public init(_ keys: [Key], _ action: KeyAction, _ help: String, group: KeyGroup, scope: KeyScope = .views(nil),
                hint: String? = nil) {
        self.keys = keys
        self.action = action
        self.help = help
        self.group = group
        self.scope = scope
        self.hint = hint
    }

    /// "j ↓" style label for help lines.
    public var keyLabel: String { keys.map(\.label).joined(separator: " ") }
}

/// The context a key press is interpreted in.
public enum KeyContext: Hashable, Sendable {
    case normal(ConsoleView)
    case prompt
    case helpOverlay
    case confirm
}

public enum KeyTable {
    private static let lists: Set<ConsoleView> = [.fleet, .run, .historyRun, .groups, .history, .output, .health]
    private static let hostLists: Set<ConsoleView> = [.fleet, .run, .historyRun]
    private static let sortable: Set<ConsoleView> = [.fleet, .run, .historyRun]

    public static let bindings: [KeyBinding] = [
        // Help and modes first: the hint bar keeps table order.
        KeyBinding([.char("?")], .help, "show this help", group: .overlays, hint: "help"),
        KeyBinding([.char("/")], .filter, "filter rows (regex; a leading ! inverts; stays set across views)",
                   group: .display, hint: "filter"),
        KeyBinding([.char(":")], .command,
                   "command: :run CMD, :ps SCRIPT, :target EXPR, :throttle N, :fleet, :health, :history, :theme NAME, :quit",
                   group: .runs, hint: "cmd"),
        KeyBinding([.char(" ")], .toggleMark, "mark or unmark the host (on a route row: its hosts)", group: .runs,
                   scope: .views(hostLists), hint: "mark"),
        KeyBinding([.char("a")], .markAllVisible, "mark every visible (filtered) host", group: .runs,
                   scope: .views(hostLists)),
        KeyBinding([.char("u")], .clearMarks, "clear all marks", group: .runs, scope: .views(hostLists)),
        KeyBinding([.enter], .open, "open the selected host's output (history: open the run)", group: .views,
                   scope: .views([.fleet, .run, .historyRun, .groups, .history]), hint: "open"),
        KeyBinding([.tab], .nextView, "next view (fleet → run → groups → health → history)", group: .views,
                   hint: "next"),
        KeyBinding([.backTab], .previousView, "previous view", group: .views),
        KeyBinding([.char("1")], .showFleet, "fleet view", group: .views),
        KeyBinding([.char("2")], .showRun, "run view", group: .views),
        KeyBinding([.char("3")], .showGroups, "grouped results view", group: .views),
        KeyBinding([.char("4")], .showHealth, "health view", group: .views),
        KeyBinding([.char("5")], .showHistory, "history view", group: .views),
        KeyBinding([.char("g")], .toggleGrouped, "toggle grouped results (identical output folded, as clush -b)",
                   group: .display, scope: .views([.run, .historyRun, .groups]), hint: "group"),
        KeyBinding([.char("e")], .toggleStderr, "groups: include stderr in the comparison and show it; output: show stderr",
                   group: .display, scope: .views([.groups, .output]), hint: "stderr"),
        KeyBinding([.char("r")], .rerunFailed, "rerun the last command on the failed hosts of the last run",
                   group: .runs, scope: .views([.fleet, .run, .groups, .output]), hint: "rerun"),
        KeyBinding([.char("x")], .cancelHost, "cancel the run on the selected host", group: .runs,
                   scope: .views([.fleet, .run, .output]), hint: "cancel"),
        KeyBinding([.ctrl("c")], .interrupt, "once: show what is pending; twice: cancel the run (never quits)",
                   group: .runs, scope: .everywhere),
        KeyBinding([.char("s")], .nextSort, "sort by the next column", group: .display, scope: .views(sortable),
                   hint: "sort"),
        KeyBinding([.char("S")], .reverseSort, "reverse the sort order", group: .display, scope: .views(sortable)),
        KeyBinding([.char("f")], .toggleFaultsOnly, "show only faulty hosts (errors, broken sessions)",
                   group: .display, scope: .views([.fleet, .run, .historyRun]), hint: "faults"),
        KeyBinding([.char("t")], .nextTheme, "next colour theme", group: .display),
        KeyBinding([.up, .char("k")], .moveUp, "move up", group: .navigation, scope: .views(lists)),
        KeyBinding([.down, .char("j")], .moveDown, "move down", group: .navigation, scope: .views(lists)),
        KeyBinding([.pageUp], .pageUp, "page up", group: .navigation, scope: .views(lists)),
        KeyBinding([.pageDown], .pageDown, "page down", group: .navigation, scope: .views(lists)),
        KeyBinding([.home], .moveTop, "first row", group: .navigation, scope: .views(lists)),
        KeyBinding([.end], .moveBottom, "last row (output: follow new lines)", group: .navigation,
                   scope: .views(lists)),
        KeyBinding([.escape], .back, "leave the host's output / past run; clear the filter", group: .views),
        KeyBinding([.char("q")], .quit, "quit (asks first while a run is active)", group: .overlays, hint: "quit"),

        KeyBinding([.enter], .promptSubmit, "apply the filter / run the command", group: .prompt, scope: .prompt,
                   hint: "apply"),
        KeyBinding([.escape], .promptCancel, "leave the line (filter: back to the previous one)", group: .prompt,
                   scope: .prompt, hint: "cancel"),
        KeyBinding([.up], .promptHistoryUp, "older command from history", group: .prompt, scope: .prompt,
                   hint: "history"),
        KeyBinding([.down], .promptHistoryDown, "newer command from history", group: .prompt, scope: .prompt),
        KeyBinding([.backspace], .promptDeleteBack, "delete the character before the cursor", group: .prompt,
                   scope: .prompt),
        KeyBinding([.left], .promptCursorLeft, "cursor left", group: .prompt, scope: .prompt),
        KeyBinding([.right], .promptCursorRight, "cursor right", group: .prompt, scope: .prompt),

        KeyBinding([.escape, .char("?"), .char("q")], .back, "close the help", group: .overlays, scope: .helpOverlay,
                   hint: "close"),
        KeyBinding([.up, .char("k")], .moveUp, "scroll up", group: .overlays, scope: .helpOverlay),
        KeyBinding([.down, .char("j")], .moveDown, "scroll down", group: .overlays, scope: .helpOverlay),
        KeyBinding([.pageUp], .pageUp, "page up", group: .overlays, scope: .helpOverlay),
        KeyBinding([.pageDown], .pageDown, "page down", group: .overlays, scope: .helpOverlay),
        KeyBinding([.char("y")], .confirmYes, "yes", group: .overlays, scope: .confirm, hint: "yes"),
        KeyBinding([.char("n"), .escape], .confirmNo, "no", group: .overlays, scope: .confirm, hint: "no"),
    ]

    /// The binding a key selects in a context, if any.
    public static func binding(for key: Key, in context: KeyContext) -> KeyBinding? {
        bindings.first { $0.keys.contains(key) && applies($0, in: context) }
    }

    public static func applies(_ binding: KeyBinding, in context: KeyContext) -> Bool {
        switch (binding.scope, context) {
        case (.everywhere, _): return true
        case (.views(let views), .normal(let view)): return views?.contains(view) ?? true
        case (.prompt, .prompt), (.helpOverlay, .helpOverlay), (.confirm, .confirm): return true
        default: return false
        }
    }

    /// The bindings advertised in the hint bar for a context, in table order.
    public static func hints(in context: KeyContext) -> [KeyBinding] {
        bindings.filter { $0.hint != nil && applies($0, in: context) }
    }

    /// Help overlay content: group title followed by its bindings.
    public static func grouped() -> [(group: KeyGroup, bindings: [KeyBinding])] {
        KeyGroup.allCases.compactMap { group in
            let members = bindings.filter { $0.group == group }
            return members.isEmpty ? nil : (group, members)
        }
    }
}
