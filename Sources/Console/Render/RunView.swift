import Foundation

/// The run (live or past): progress, summary per exit code and error kind, and a row per targeted host.
enum RunView {
    static func columns(width: Int, nameWidth: Int) -> [TableColumn] {
        var columns = [
            TableColumn(id: "host", title: "HOST", width: min(max(nameWidth, 8), 28)),
            TableColumn(id: "route", title: "ROUTE", width: 14),
            TableColumn(id: "state", title: "STATE", width: 10),
            TableColumn(id: "exit", title: "EXIT", width: 5, alignRight: true),
            TableColumn(id: "duration", title: "DURATION", width: 8, alignRight: true),
            TableColumn(id: "output", title: "OUTPUT", width: 0),
        ]
        let used = 2 + columns.dropLast().reduce(0) { $0 + $1.width + 1 }
        columns[columns.count - 1].width = max(0, width - used)
        return columns
    }

    static func draw(_ frame: inout ScreenFrame, state: ConsoleState, snapshot: FleetSnapshot, history: Bool) {
        let size = frame.size
        let source = state.runSource(snapshot, history: history)
        var top = 1
        if history {
            let entry = snapshot.history.first { $0.id == state.historyRunID }
            var text = " past run #\(state.historyRunID.map(String.init) ?? "?")"
            if let entry {
                text += " · \(entry.command) · target \(entry.target) · \(entry.status) · started "
                    + Format.dateTime(entry.startedAt, timeZone: state.timeZone)
            }
            let summary = RunSummary(source.rows)
            text += " · ok \(summary.ok) · failed \(summary.failed)"
            frame.put(text, row: top, col: 0, role: .normal)
            top += 1
        } else {
            guard let run = snapshot.run else {
                frame.put("  no run yet — :run CMD or :ps SCRIPT runs on the marked, filtered or :target hosts",
                          row: 2, col: 0, role: .dim)
                return
            }
            let summary = state.cache.summary(run.hosts, source: source.source, version: source.version)
            drawHeader(&frame, run: run, summary: summary, state: state, top: top)
            top += 3
        }
        let order = state.runOrder(snapshot, history: history)
        let position = state.resolvedPosition(history ? .historyRun : .run, snapshot, size: size)
        let bodyRows = ConsoleLayout.bodyRows(history ? .historyRun : .run, size: size)
        let end = min(order.count, position.top + bodyRows)
        var nameWidth = 8
        if position.top < end {
            for index in position.top..<end { nameWidth = max(nameWidth, DisplayWidth.of(source.rows[order[index]].name)) }
        }
        let columns = columns(width: size.cols, nameWidth: nameWidth)
        frame.columnHeader(columns, row: top, startCol: 2, sortTitle: state.runSort.column.rawValue,
                           ascending: state.runSort.ascending)
        top += 1
        if order.isEmpty {
            frame.put(source.rows.isEmpty ? "  no hosts in this run" : "  no host matches the filter — Esc clears",
                      row: top, col: 0, role: .dim)
            return
        }
        guard position.top < end else { return }
        for index in position.top..<end {
            drawRow(&frame, row: top + index - position.top, host: source.rows[order[index]], columns: columns,
                    marked: state.marks.contains(source.rows[order[index]].name), selected: index == position.cursor)
        }
    }

    static func drawHeader(_ frame: inout ScreenFrame, run: RunProgress, summary: RunSummary, state: ConsoleState, top: Int) {
        let cols = frame.size.cols
        let elapsed = max(0, state.now.timeIntervalSince(run.startedAt))
        var line = " " + (run.id.map { "#\($0) " } ?? "") + (run.isPowerShell ? "PS> " : "> ") + run.command
        let tail = " · started \(Format.clock(run.startedAt, timeZone: state.timeZone))"
            + (run.isActive ? " · elapsed \(Format.duration(elapsed))" : "")
            + " · throttle \(run.throttle) · " + (run.isActive ? "active" : "finished") + " "
        line = DisplayWidth.truncate(line, to: max(10, cols - DisplayWidth.of(tail)))
        var col = frame.put(line, row: top, col: 0, role: .normal, attributes: .bold)
        col = frame.put(tail, row: top, col: col, role: run.isActive ? .running : .dim)

        // Progress bar with counts and rate.
        let percent = summary.total == 0 ? 0 : summary.finished * 100 / summary.total
        let rate = elapsed > 0 ? Double(summary.finished) / elapsed : 0
        var counts = " \(summary.finished)/\(summary.total) \(percent)%"
        counts += "  ok \(summary.ok)  failed \(summary.failed)"
        if run.isActive { counts += String(format: "  %.1f/s", rate) }
        let barWidth = max(10, min(50, cols - DisplayWidth.of(counts) - 3))
        let done = summary.total == 0 ? 0 : barWidth * summary.finished / summary.total
        col = frame.put(" ", row: top + 1, col: 0, role: .normal)
        col = frame.put(String(repeating: "█", count: done), row: top + 1, col: col, role: .progressDone)
        col = frame.put(String(repeating: "░", count: barWidth - done), row: top + 1, col: col, role: .progressTodo)
        col = frame.put(" \(summary.finished)/\(summary.total) \(percent)%", row: top + 1, col: col, role: .normal)
        col = frame.put("  ok \(summary.ok)", row: top + 1, col: col, role: .ok)
        col = frame.put("  failed \(summary.failed)", row: top + 1, col: col, role: summary.failed > 0 ? .failed : .normal)
        if run.isActive { frame.put(String(format: "  %.1f/s", rate), row: top + 1, col: col, role: .dim) }

        // Summary per exit code and per error kind, and what is still pending.
        col = frame.put(" exit ", row: top + 2, col: 0, role: .dim)
        col = frame.put(summary.exitCodeText.isEmpty ? "—" : summary.exitCodeText, row: top + 2, col: col, role: .normal)
        col = frame.put("  errors ", row: top + 2, col: col, role: .dim)
        col = frame.put(summary.errorKindText.isEmpty ? "none" : summary.errorKindText, row: top + 2, col: col,
                        role: summary.errorKindText.isEmpty ? .normal : .error)
        let queued = summary.perState[.queued] ?? 0
        let active = (summary.perState[.running] ?? 0) + (summary.perState[.connecting] ?? 0)
        if queued + active > 0 {
            frame.put("  running \(active)  queued \(queued)", row: top + 2, col: col, role: .running)
        }
    }

    static func drawRow(_ frame: inout ScreenFrame, row: Int, host: RunHostRow, columns: [TableColumn], marked: Bool,
                        selected: Bool) {
        if selected { frame.fill(row: row, role: .selected) }
        func role(_ natural: Role) -> Role { selected ? .selected : natural }
        frame.put(marked ? "● " : "  ", row: row, col: 0, role: role(.marked))
        var col = 2
        let stateRole = Format.role(for: host.state)
        for column in columns {
            switch column.id {
            case "host":
                col = frame.cell(host.name, row: row, col: col, column: column, role: role(marked ? .marked : .normal))
            case "route":
                col = frame.cell(host.route, row: row, col: col, column: column, role: role(.dim))
            case "state":
                col = frame.cell(host.state.label, row: row, col: col, column: column, role: role(stateRole))
            case "exit":
                let code = host.exitCode.map(String.init) ?? "—"
                col = frame.cell(code, row: row, col: col, column: column,
                                 role: role(host.exitCode.map { $0 == 0 ? .ok : .failed } ?? .dim))
            case "duration":
                col = frame.cell(Format.duration(host.duration), row: row, col: col, column: column, role: role(.dim))
            default:
                let line = RunResults.firstLine(host)
                let lineRole: Role = host.error.map { Format.role(forErrorKind: $0.kind) }
                    ?? (TerminalText.firstLine(host.stdout).isEmpty && !host.stderr.isEmpty ? .stderr : .normal)
                col = frame.cell(line, row: row, col: col, column: column, role: role(lineRole))
            }
        }
    }
}
