import Foundation

/// Draws the whole screen: a pure function of the state, the snapshot and the size.
public func render(state: ConsoleState, snapshot: FleetSnapshot, size: ScreenSize) -> ScreenFrame {
    ConsoleRenderer.render(state: state, snapshot: snapshot, size: size)
}

public enum ConsoleRenderer {
    public static func render(state: ConsoleState, snapshot: FleetSnapshot, size: ScreenSize) -> ScreenFrame {
        var frame = ScreenFrame(size: size)
        guard size.rows >= ScreenSize.minimum.rows, size.cols >= ScreenSize.minimum.cols else {
            drawTooSmall(&frame)
            return frame
        }
        drawTitle(&frame, state: state, snapshot: snapshot)
        switch state.view {
        case .fleet: FleetView.draw(&frame, state: state, snapshot: snapshot)
        case .run: RunView.draw(&frame, state: state, snapshot: snapshot, history: false)
        case .historyRun: RunView.draw(&frame, state: state, snapshot: snapshot, history: true)
        case .groups: GroupsView.draw(&frame, state: state, snapshot: snapshot)
        case .health: HealthView.draw(&frame, state: state, snapshot: snapshot)
        case .history: HistoryView.draw(&frame, state: state, snapshot: snapshot)
        case .output: OutputView.draw(&frame, state: state, snapshot: snapshot)
        }
        drawStatus(&frame, state: state, snapshot: snapshot)
        drawHints(&frame, state: state)
        if state.helpVisible { HelpOverlay.draw(&frame, scroll: state.helpScroll) }
        if state.mode == .confirmQuit { drawConfirmQuit(&frame, snapshot: snapshot) }
        return frame
    }

    static func drawTooSmall(_ frame: inout ScreenFrame) {
        let size = frame.size
        let lines: [(String, Role)] = [
            ("terminal too small: \(size.cols)×\(size.rows)", .statusError),
            ("winfleet needs at least \(ScreenSize.minimum.cols)×\(ScreenSize.minimum.rows)", .normal),
            ("enlarge the window, or press q to quit", .dim),
        ]
        let wrapped = lines.flatMap { line in TerminalText.wrap(line.0, width: max(1, size.cols)).map { ($0, line.1) } }
        let top = max(0, (size.rows - wrapped.count) / 2)
        for (offset, line) in wrapped.enumerated() where top + offset < size.rows {
            let col = max(0, (size.cols - DisplayWidth.of(line.0)) / 2)
            frame.put(line.0, row: top + offset, col: col, role: line.1)
        }
    }

    static func drawTitle(_ frame: inout ScreenFrame, state: ConsoleState, snapshot: FleetSnapshot) {
        frame.fill(row: 0, role: .header)
        var col = frame.put(" winfleet │", row: 0, col: 0, role: .header, attributes: .bold)
        let current: ConsoleView
        switch state.view {
        case .output: current = state.returnView
        case .historyRun: current = .history
        default: current = state.view
        }
        for (number, view) in ConsoleView.tabOrder.enumerated() {
            let label = " \(number + 1) \(view.title) "
            col = frame.put(view == current ? "[" + label.dropFirst().dropLast() + "]" : label, row: 0, col: col,
                            role: .header, attributes: view == current ? [.reverse, .bold] : [])
        }
        if state.view == .output, let host = state.outputHost {
            col = frame.put("› \(host) ", row: 0, col: col, role: .header, attributes: .bold)
        } else if state.view == .historyRun, let id = state.historyRunID {
            col = frame.put("› run #\(id) ", row: 0, col: col, role: .header, attributes: .bold)
        }
        var info: [String] = ["\(snapshot.hosts.count) hosts"]
        if !state.marks.isEmpty { info.append("\(state.marks.count) marked") }
        if !state.filter.isEmpty { info.append("/" + state.filter) }
        if state.faultsOnly { info.append("faults") }
        if let run = snapshot.run {
            let summary = state.cache.summary(run.hosts, source: UInt64.max, version: snapshot.version)
            info.append("run \(summary.finished)/\(summary.total)" + (summary.failed > 0 ? " ✗\(summary.failed)" : "")
                + (run.isActive ? "" : " done"))
        }
        // Drop the least important facts (from the left) until the rest fits beside the tabs.
        while info.count > 1 && DisplayWidth.of(info.joined(separator: " · ") + " ") > frame.size.cols - col - 1 {
            info.removeFirst()
        }
        let text = DisplayWidth.truncate(info.joined(separator: " · ") + " ", to: max(0, frame.size.cols - col - 1))
        frame.put(text, row: 0, col: frame.size.cols - DisplayWidth.of(text), role: .header)
    }

    static func drawStatus(_ frame: inout ScreenFrame, state: ConsoleState, snapshot: FleetSnapshot) {
        let row = frame.size.rows - 2
        frame.fill(row: row, role: .status)
        switch state.mode {
        case .filter(let line), .command(let line):
            let isFilter: Bool
            if case .filter = state.mode { isFilter = true } else { isFilter = false }
            let prefix = isFilter ? "/" : ":"
            var right = ""
            if isFilter {
                let shown = state.view == .fleet ? state.fleetRows(snapshot).visibleHosts : state.listLength(state.view, snapshot)
                right = " \(shown) match" + (shown == 1 ? "" : "es") + (state.rowFilter.problem != nil ? " (literal)" : "") + " "
            }
            let rightWidth = DisplayWidth.of(right)
            let available = frame.size.cols - rightWidth - 1
            // Keep the cursor visible on long lines by showing the line's tail.
            let beforeCursor = String(line.text.prefix(line.cursor))
            var shownText = line.text
            var cursorCol = 1 + DisplayWidth.of(beforeCursor)
            if cursorCol >= available {
                let overflow = cursorCol - available + 1
                var dropped = 0
                var index = shownText.startIndex
                while dropped < overflow, index < shownText.endIndex {
                    dropped += DisplayWidth.of(shownText[index])
                    index = shownText.index(after: index)
                }
                shownText = String(shownText[index...])
                cursorCol -= dropped
            }
            frame.put(prefix, row: row, col: 0, role: .input)
            frame.put(shownText, row: row, col: 1, role: .input, width: available - 1)
            if !right.isEmpty { frame.put(right, row: row, col: frame.size.cols - rightWidth, role: .dim) }
            frame.cursor = (row, min(cursorCol, frame.size.cols - 1))
        case .confirmQuit:
            frame.put("A run is active. Quit and cancel it? y/n", row: row, col: 0, role: .statusError)
        case .normal:
            if let status = state.status {
                frame.put(" " + status.text, row: row, col: 0, role: status.isError ? .statusError : .status)
            } else {
                frame.put(" " + contextLine(state: state, snapshot: snapshot), row: row, col: 0, role: .status)
            }
        }
    }

    /// What the status line says when there is no message: where you are and what is shown.
    static func contextLine(state: ConsoleState, snapshot: FleetSnapshot) -> String {
        let arrow = { (ascending: Bool) in ascending ? "↑" : "↓" }
        switch state.view {
        case .fleet:
            let rows = state.fleetRows(snapshot)
            var parts = ["\(rows.visibleHosts) of \(snapshot.hosts.count) hosts",
                         "\(rows.routeNames.count) routes",
                         "sort \(state.fleetSort.column.rawValue) \(arrow(state.fleetSort.ascending))"]
            if let target = state.runTarget { parts.append("target \(target.expression)") }
            return parts.joined(separator: " · ")
        case .run, .historyRun:
            let history = state.view == .historyRun
            let shown = state.runOrder(snapshot, history: history).count
            let total = state.runSource(snapshot, history: history).rows.count
            return "\(shown) of \(total) hosts · sort \(state.runSort.column.rawValue) \(arrow(state.runSort.ascending))"
        case .groups:
            return "identical results folded (same state, exit code and output"
                + (state.groupsIncludeStderr ? ", stderr included)" : "; e compares stderr too)")
        case .health:
            return "sessions, routes and every auth, affinity, proxy and policy error with its remedy"
        case .history:
            return "\(snapshot.history.count) past runs · Enter opens one"
        case .output:
            return state.outputFollow ? "following new output (↑ stops)" : "End follows new output"
        }
    }

    static func drawHints(_ frame: inout ScreenFrame, state: ConsoleState) {
        let row = frame.size.rows - 1
        frame.fill(row: row, role: .hint)
        var col = 1
        for binding in KeyTable.hints(in: state.keyContext) {
            guard let hint = binding.hint, let key = binding.keys.first else { continue }
            let needed = DisplayWidth.of(key.label) + 1 + DisplayWidth.of(hint) + 2
            if col + needed > frame.size.cols { break }
            col = frame.put(key.label, row: row, col: col, role: .hintKey)
            col = frame.put(" " + hint + "  ", row: row, col: col, role: .hint)
        }
    }

    static func drawConfirmQuit(_ frame: inout ScreenFrame, snapshot: FleetSnapshot) {
        let pending = snapshot.run.map { run in run.hosts.filter { !$0.state.isFinished }.count } ?? 0
        let lines = [" A run is active: \(Format.plural(pending, "host")) pending. ",
                     " Quit and cancel the run?  y = yes, n = no "]
        drawBox(&frame, title: " Quit? ", lines: lines.map { StyledLine($0, .overlay) })
    }

    /// A centred box with a title, sized to its lines.
    static func drawBox(_ frame: inout ScreenFrame, title: String, lines: [StyledLine]) {
        let contentWidth = lines.map { $0.segments.reduce(0) { $0 + DisplayWidth.of($1.text) } }.max() ?? 0
        let width = min(frame.size.cols - 2, max(contentWidth, DisplayWidth.of(title)) + 4)
        let height = min(frame.size.rows - 2, lines.count + 2)
        let top = (frame.size.rows - height) / 2
        let left = (frame.size.cols - width) / 2
        for row in top..<(top + height) { frame.fill(row: row, role: .overlay, from: left, to: left + width) }
        frame.put("┌" + String(repeating: "─", count: width - 2) + "┐", row: top, col: left, role: .overlay)
        frame.put(title, row: top, col: left + 2, role: .overlayTitle)
        for row in (top + 1)..<(top + height - 1) {
            frame.put("│", row: row, col: left, role: .overlay)
            frame.put("│", row: row, col: left + width - 1, role: .overlay)
        }
        frame.put("└" + String(repeating: "─", count: width - 2) + "┘", row: top + height - 1, col: left, role: .overlay)
        for (index, line) in lines.prefix(height - 2).enumerated() {
            line.draw(into: &frame, row: top + 1 + index, col: left + 2, width: width - 4)
        }
    }
}

/// A table column: its title, width and alignment.
struct TableColumn {
    /// The sort column's raw value this column shows ("" when not sortable).
    var id: String
    var title: String
    var width: Int
    var alignRight = false
}

extension ScreenFrame {
    /// Draws one cell of a table row; returns the next cell's column.
    @discardableResult
    mutating func cell(_ text: String, row: Int, col: Int, column: TableColumn, role: Role,
                       attributes: TextAttributes = []) -> Int {
        put(DisplayWidth.fit(text, to: column.width, alignRight: column.alignRight), row: row, col: col, role: role,
            attributes: attributes)
        return col + column.width + 1
    }

    mutating func columnHeader(_ columns: [TableColumn], row: Int, startCol: Int, sortTitle: String?, ascending: Bool) {
        fill(row: row, role: .columnHeader)
        var col = startCol
        for column in columns {
            var title = column.title
            if column.id == sortTitle { title += ascending ? "↑" : "↓" }
            col = cell(title, row: row, col: col, column: column, role: .columnHeader)
        }
    }
}
