import Foundation

/// Everything the console remembers between key presses: the view, selection, marks, filter, sort, the
/// command line and its history, overlays and the theme's name. A value type with no I/O:
/// `handle(_:snapshot:)` turns a key into state changes and `ConsoleEffect`s, `render(state:snapshot:size:)`
/// turns it into a frame. (`cache` is a memo of derived rows, keyed by its inputs; it never changes results.)
public struct ConsoleState {
    public var view: ConsoleView = .fleet
    /// Where Esc goes from the output view.
    public var returnView: ConsoleView = .fleet
    public var mode: InputMode = .normal
    public var helpVisible = false
    public var helpScroll = 0

    /// The `/` filter text (a leading `!` inverts); shared by all views.
    public var filter = ""
    var filterBeforeEdit = ""
    public var faultsOnly = false
    public var fleetSort = SortOrder(FleetColumn.host)
    public var runSort = SortOrder(RunColumn.host)
    public var positions: [ConsoleView: ListPosition] = [:]
    public var marks: Set<String> = []

    public var outputHost: String?
    /// The output view shows a past run's row rather than the live run's.
    public var outputFromHistory = false
    /// The output view follows new lines (tail -f) until the user scrolls up.
    public var outputFollow = true
    public var outputShowsStderr = true
    public var groupsIncludeStderr = false
    public var groupsFromHistory = false

    public var commandHistory: [String] = []
    var commandHistoryIndex: Int?
    public var runTarget: RunTarget?
    public var status: StatusMessage?
    /// A first ctrl-c was pressed; a second one cancels the run.
    public var interruptArmed = false

    public var themeName = "default"
    public var availableThemes: [String] = ThemeCatalog.builtinNames

    public var historyRunID: Int64?
    public var historyRunRows: [RunHostRow] = []
    var historyRunGeneration: UInt64 = 0

    public var screenSize = ScreenSize.minimum
    /// The clock used for elapsed times and rates; the app sets it every frame, tests fix it.
    public var now = Date()
    public var timeZone = TimeZone.current

    public let cache = DerivedCache()

    public init() {}

    // MARK: reports from the app (results of effects)

    public mutating func targetResolved(expression: String, hosts: [String]) {
        runTarget = RunTarget(expression: expression, hosts: hosts)
        status = StatusMessage("target \(expression) → \(hosts.count) host\(hosts.count == 1 ? "" : "s")"
            + (hosts.isEmpty ? "" : ": " + DisplayWidth.truncate(HostSetFolding.fold(hosts), to: 60)))
    }

    public mutating func targetFailed(expression: String, message: String) {
        status = StatusMessage("target \(expression): \(message)", isError: true)
    }

    public mutating func historyRunOpened(id: Int64, rows: [RunHostRow]) {
        historyRunID = id
        historyRunRows = rows
        historyRunGeneration &+= 1
        positions[.historyRun] = ListPosition()
        view = .historyRun
        if rows.isEmpty { status = StatusMessage("run #\(id) has no stored host results") }
    }

    public mutating func themeApplied(name: String, message: String?) {
        themeName = name
        if !availableThemes.contains(name) { availableThemes.append(name) }
        status = message.map { StatusMessage($0, isError: true) } ?? StatusMessage("theme \(name)")
    }

    public mutating func showPending(summary: String) {
        status = StatusMessage(summary + " — ctrl-c again cancels the run")
    }

    public mutating func setStatus(_ text: String, isError: Bool = false) {
        status = StatusMessage(text, isError: isError)
    }

    public mutating func resize(to size: ScreenSize) {
        screenSize = size
    }

    // MARK: derived rows shared by the key handler and the renderers

    var rowFilter: RowFilter { cache.filter(filter) }

    var filterIsActive: Bool { rowFilter.isActive }

    public func fleetRows(_ snapshot: FleetSnapshot) -> FleetRows {
        cache.fleet.rows(snapshot, filter: rowFilter, faultsOnly: faultsOnly, sort: fleetSort)
    }

    /// The rows of the live run, or of the opened past run.
    func runSource(_ snapshot: FleetSnapshot, history: Bool) -> (rows: [RunHostRow], source: UInt64, version: UInt64) {
        if history { return (historyRunRows, historyRunGeneration, 0) }
        return (snapshot.run?.hosts ?? [], UInt64.max, snapshot.version)
    }

    func runOrder(_ snapshot: FleetSnapshot, history: Bool) -> [Int] {
        let source = runSource(snapshot, history: history)
        return cache.runRows(source.rows, source: source.source, version: source.version, filter: rowFilter,
                             faultsOnly: faultsOnly, sort: runSort)
    }

    func groupsData(_ snapshot: FleetSnapshot) -> (groups: [ResultGroup], pending: [String]) {
        let source = runSource(snapshot, history: groupsFromHistory)
        return cache.groups(source.rows, source: source.source, version: source.version, filter: rowFilter,
                            includeStderr: groupsIncludeStderr)
    }

    func historyOrder(_ snapshot: FleetSnapshot) -> [Int] {
        let filter = rowFilter
        let entries = snapshot.history
        let shown = entries.indices.filter { index in
            let e = entries[index]
            return !filter.isActive || filter.matches("#\(e.id) \(e.command) \(e.target) \(e.status)")
        }
        // Newest first.
        return shown.sorted { entries[$0].startedAt != entries[$1].startedAt
            ? entries[$0].startedAt > entries[$1].startedAt : entries[$0].id > entries[$1].id }
    }

    /// The output view's row: from the live run, the opened past run, or none.
    func outputRow(_ snapshot: FleetSnapshot) -> RunHostRow? {
        guard let name = outputHost else { return nil }
        let rows = outputFromHistory ? historyRunRows : (snapshot.run?.hosts ?? [])
        return rows.first { $0.name == name }
    }

    /// Identities of a list's rows, for sticky selection.
    func rowKey(_ view: ConsoleView, _ index: Int, _ snapshot: FleetSnapshot) -> String? {
        switch view {
        case .fleet:
            let rows = fleetRows(snapshot)
            guard index >= 0, index < rows.items.count else { return nil }
            switch rows.items[index] {
            case .route(let r): return "route:" + rows.routeNames[r]
            case .host(let h): return snapshot.hosts[h].name
            }
        case .run, .historyRun:
            let history = view == .historyRun
            let order = runOrder(snapshot, history: history)
            guard index >= 0, index < order.count else { return nil }
            return runSource(snapshot, history: history).rows[order[index]].name
        case .groups:
            let groups = groupsData(snapshot).groups
            guard index >= 0, index < groups.count else { return nil }
            return groups[index].hosts.first
        case .history:
            let order = historyOrder(snapshot)
            guard index >= 0, index < order.count else { return nil }
            return String(snapshot.history[order[index]].id)
        case .health, .output:
            return nil
        }
    }

    /// Rows (or lines) a view's list has.
    func listLength(_ view: ConsoleView, _ snapshot: FleetSnapshot) -> Int {
        switch view {
        case .fleet: return fleetRows(snapshot).items.count
        case .run: return runOrder(snapshot, history: false).count
        case .historyRun: return runOrder(snapshot, history: true).count
        case .groups: return groupsData(snapshot).groups.count
        case .history: return historyOrder(snapshot).count
        case .health: return HealthContent.lines(snapshot, state: self, width: screenSize.cols).count
        case .output:
            let row = outputRow(snapshot)
            let route = row.flatMap { row in snapshot.routes.first { $0.name == row.route } }
            return OutputContent.lines(row, showStderr: outputShowsStderr, route: route, width: screenSize.cols).count
        }
    }

    /// Views that scroll text rather than move a cursor over rows.
    static func isScrollView(_ view: ConsoleView) -> Bool { view == .health || view == .output }

    /// The position to show: the stored one, moved to follow its selected row if that row moved, clamped,
    /// and scrolled so the cursor is visible.
    func resolvedPosition(_ view: ConsoleView, _ snapshot: FleetSnapshot, size: ScreenSize) -> ListPosition {
        var position = positions[view] ?? ListPosition()
        let count = listLength(view, snapshot)
        let page = max(1, ConsoleLayout.bodyRows(view, size: size))
        if Self.isScrollView(view) {
            let maxTop = max(0, count - page)
            if view == .output && outputFollow { position.top = maxTop }
            position.top = min(max(0, position.top), maxTop)
            position.cursor = position.top
            return position
        }
        if let key = position.selectedKey, rowKey(view, position.cursor, snapshot) != key {
            // The selected row moved (sorting, new rows): find it again.
            let limit = count
            var found: Int?
            for index in 0..<limit where rowKey(view, index, snapshot) == key {
                found = index
                break
            }
            if let found { position.cursor = found }
        }
        position.cursor = count == 0 ? 0 : min(max(0, position.cursor), count - 1)
        if position.cursor < position.top { position.top = position.cursor }
        if position.cursor >= position.top + page { position.top = position.cursor - page + 1 }
        position.top = max(0, min(position.top, max(0, count - page)))
        if position.cursor < position.top { position.top = position.cursor }
        return position
    }
}

extension DerivedCache {
    /// The compiled filter (compiling a regex per frame would cost more than matching).
    func filter(_ raw: String) -> RowFilter {
        if let last = lastFilter, last.raw == raw { return last }
        let compiled = RowFilter(raw)
        lastFilter = compiled
        return compiled
    }
}

/// Rows each part of the screen takes.
public enum ConsoleLayout {
    /// Rows left for a view's list or text, between its headers and the status and hint lines.
    public static func bodyRows(_ view: ConsoleView, size: ScreenSize) -> Int {
        let chrome = 3 // title bar, status line, hint bar
        switch view {
        case .fleet, .history: return size.rows - chrome - 1
        case .run: return size.rows - chrome - 4
        case .historyRun: return size.rows - chrome - 2
        case .groups, .output: return size.rows - chrome - 1
        case .health: return size.rows - chrome
        }
    }
}
