import Foundation

/// Session health: sessions per state and per route, every auth / affinity / proxy / policy error grouped
/// with a plain explanation and its remedy, and recent session events.
enum HealthContent {
    struct Problem {
        var kind: String
        var route: String
        var message: String
        var code: String?
        var mechanism: String?
        var hosts: [String]
    }

    static func problems(_ snapshot: FleetSnapshot, filter: RowFilter) -> [Problem] {
        struct Key: Hashable { let kind: String; let route: String; let message: String; let code: String? }
        var order: [Key] = []
        var grouped: [Key: Problem] = [:]
        for host in snapshot.hosts {
            guard let error = host.lastError else { continue }
            if filter.isActive && !filter.matches(host.name + " " + host.route + " " + error.kind + " " + error.message) {
                continue
            }
            let key = Key(kind: error.kind, route: host.route, message: error.message, code: error.code)
            if grouped[key] == nil {
                order.append(key)
                grouped[key] = Problem(kind: error.kind, route: host.route, message: error.message, code: error.code,
                                       mechanism: host.mechanism, hosts: [])
            }
            grouped[key]!.hosts.append(host.name)
        }
        let kindOrder = ErrorExplanation.kindOrder
        return order.map { grouped[$0]! }.sorted { a, b in
            let ia = kindOrder.firstIndex(of: a.kind) ?? kindOrder.count
            let ib = kindOrder.firstIndex(of: b.kind) ?? kindOrder.count
            if ia != ib { return ia < ib }
            if a.hosts.count != b.hosts.count { return a.hosts.count > b.hosts.count }
            return a.route != b.route ? a.route < b.route : a.message < b.message
        }
    }

    static func lines(_ snapshot: FleetSnapshot, state: ConsoleState, width: Int) -> [StyledLine] {
        var lines: [StyledLine] = []
        // Sessions per state.
        var perState: [SessionState: Int] = [:]
        for host in snapshot.hosts { perState[host.session, default: 0] += 1 }
        var segments: [(text: String, role: Role)] = [(" sessions ", .groupHeader)]
        for session in SessionState.allCases where (perState[session] ?? 0) > 0 {
            segments.append((" \(session.rawValue) ", .dim))
            segments.append(("\(perState[session]!)", Format.role(for: session)))
        }
        if snapshot.hosts.isEmpty { segments.append((" no hosts", .dim)) }
        lines.append(StyledLine(segments: segments))
        lines.append(.blank)

        // Per route: proxy, mode, hosts per session state, error counts (RTT when there is room).
        let showRTT = width >= 90
        var header = " " + DisplayWidth.fit("ROUTE", to: 13) + " " + DisplayWidth.fit("PROXY", to: 21) + " "
            + DisplayWidth.fit("MODE", to: 7) + " " + DisplayWidth.fit("HOSTS", to: 6, alignRight: true)
            + DisplayWidth.fit("UP", to: 5, alignRight: true) + DisplayWidth.fit("BROKEN", to: 7, alignRight: true)
            + DisplayWidth.fit("AUTH", to: 5, alignRight: true) + DisplayWidth.fit("AFFIN", to: 6, alignRight: true)
            + DisplayWidth.fit("PROXY", to: 6, alignRight: true)
        if showRTT { header += DisplayWidth.fit("RTT", to: 9, alignRight: true) }
        lines.append(StyledLine(DisplayWidth.fit(header, to: width), .columnHeader))
        var hostsPerRoute: [String: (total: Int, up: Int, broken: Int)] = [:]
        for host in snapshot.hosts {
            var entry = hostsPerRoute[host.route] ?? (0, 0, 0)
            entry.total += 1
            switch host.session {
            case .authenticated, .idle, .busy: entry.up += 1
            case .broken, .reconnecting: entry.broken += 1
            default: break
            }
            hostsPerRoute[host.route] = entry
        }
        for route in snapshot.routes {
            let counts = hostsPerRoute[route.name] ?? (0, 0, 0)
            var segments: [(text: String, role: Role)] = [
                (" " + DisplayWidth.fit(route.name, to: 13) + " " + DisplayWidth.fit(route.proxy, to: 21) + " "
                    + DisplayWidth.fit(route.mode, to: 7) + " " + DisplayWidth.fit(String(counts.total), to: 6, alignRight: true),
                 .normal),
                (DisplayWidth.fit(String(counts.up), to: 5, alignRight: true), .ok),
                (DisplayWidth.fit(String(counts.broken), to: 7, alignRight: true), counts.broken > 0 ? .error : .normal),
                (DisplayWidth.fit(String(route.authErrors), to: 5, alignRight: true), route.authErrors > 0 ? .error : .normal),
                (DisplayWidth.fit(String(route.affinityErrors), to: 6, alignRight: true),
                 route.affinityErrors > 0 ? .affinity : .normal),
                (DisplayWidth.fit(String(route.proxyErrors), to: 6, alignRight: true), route.proxyErrors > 0 ? .error : .normal),
            ]
            if showRTT { segments.append((DisplayWidth.fit(Format.rtt(route.lastRTTms), to: 9, alignRight: true), .dim)) }
            lines.append(StyledLine(segments: segments))
        }
        lines.append(.blank)

        // Problems, grouped, each with its explanation and remedy.
        let problems = problems(snapshot, filter: state.rowFilter)
        let hostCount = problems.reduce(0) { $0 + $1.hosts.count }
        lines.append(StyledLine(problems.isEmpty ? " problems: none" : " problems: \(Format.plural(hostCount, "host")) "
            + "in \(Format.plural(problems.count, "group"))", .groupHeader))
        var routeByName: [String: RouteSummary] = [:]
        for route in snapshot.routes { routeByName[route.name] = route }
        for problem in problems {
            let explanation = ErrorExplanation.explain(ErrorInfo(kind: problem.kind, message: problem.message, code: problem.code),
                                                       route: routeByName[problem.route], mechanism: problem.mechanism)
            let role = Format.role(forErrorKind: problem.kind)
            let title = " [\(problem.kind)] \(explanation.title) · route \(problem.route) · "
                + HostSetFolding.foldWithCount(problem.hosts)
            for (index, part) in TerminalText.wrap(title, width: width).enumerated() {
                lines.append(StyledLine(index == 0 ? part : "   " + part, role))
            }
            for (label, text) in [("message", problem.message + (problem.code.map { " (code \($0))" } ?? "")),
                                  ("why", explanation.explanation), ("fix", explanation.remedy)] {
                let wrapped = TerminalText.wrap(text, width: max(10, width - 12))
                for (index, part) in wrapped.enumerated() {
                    lines.append(StyledLine(segments: [(text: index == 0 ? DisplayWidth.fit("   \(label):", to: 12) : String(repeating: " ", count: 12), role: .dim),
                                                       (text: part, role: label == "fix" ? .ok : .normal)]))
                }
            }
        }
        lines.append(.blank)

        // Recent session events, newest first.
        let filter = state.rowFilter
        let events = snapshot.events.filter { event in
            !filter.isActive || filter.matches("\(event.host) \(event.route) \(event.kind) \(event.message)")
        }
        lines.append(StyledLine(" recent events: \(events.isEmpty ? "none" : String(events.count))", .groupHeader))
        for event in events.sorted(by: { $0.at > $1.at }).prefix(50) {
            lines.append(StyledLine(segments: [
                (text: "   " + Format.clock(event.at, timeZone: state.timeZone) + " ", role: .dim),
                (text: event.host + " ", role: .normal),
                (text: event.route + " ", role: .dim),
                (text: event.kind + ": ", role: Format.role(forErrorKind: event.kind)),
                (text: event.message, role: .normal),
            ]))
        }
        return lines
    }
}

enum HealthView {
    static func draw(_ frame: inout ScreenFrame, state: ConsoleState, snapshot: FleetSnapshot) {
        let size = frame.size
        let lines = HealthContent.lines(snapshot, state: state, width: size.cols)
        let position = state.resolvedPosition(.health, snapshot, size: size)
        let bodyRows = ConsoleLayout.bodyRows(.health, size: size)
        for (offset, line) in lines.dropFirst(position.top).prefix(bodyRows).enumerated() {
            line.draw(into: &frame, row: 1 + offset, col: 0, width: size.cols)
        }
    }
}

/// Past runs from the store, newest first.
enum HistoryView {
    static func draw(_ frame: inout ScreenFrame, state: ConsoleState, snapshot: FleetSnapshot) {
        let size = frame.size
        var columns = [
            TableColumn(id: "", title: "ID", width: 6, alignRight: true),
            TableColumn(id: "", title: "STARTED", width: 16),
            TableColumn(id: "", title: "STATUS", width: 9),
            TableColumn(id: "", title: "HOSTS", width: 6, alignRight: true),
            TableColumn(id: "", title: "OK", width: 6, alignRight: true),
            TableColumn(id: "", title: "FAILED", width: 6, alignRight: true),
            TableColumn(id: "", title: "ERRORS", width: 6, alignRight: true),
            TableColumn(id: "", title: "TARGET", width: 16),
            TableColumn(id: "", title: "COMMAND", width: 0),
        ]
        if size.cols < 100 { columns.removeAll { $0.title == "TARGET" } }
        let used = 2 + columns.dropLast().reduce(0) { $0 + $1.width + 1 }
        columns[columns.count - 1].width = max(0, size.cols - used)
        frame.columnHeader(columns, row: 1, startCol: 2, sortTitle: nil, ascending: true)
        let order = state.historyOrder(snapshot)
        if order.isEmpty {
            frame.put(snapshot.history.isEmpty ? "  no past runs" : "  no run matches the filter — Esc clears",
                      row: 2, col: 0, role: .dim)
            return
        }
        let position = state.resolvedPosition(.history, snapshot, size: size)
        let bodyRows = ConsoleLayout.bodyRows(.history, size: size)
        for index in position.top..<min(order.count, position.top + bodyRows) {
            let entry = snapshot.history[order[index]]
            let row = 2 + index - position.top
            let selected = index == position.cursor
            if selected { frame.fill(row: row, role: .selected) }
            func role(_ natural: Role) -> Role { selected ? .selected : natural }
            var col = 2
            for column in columns {
                switch column.title {
                case "ID": col = frame.cell("#\(entry.id)", row: row, col: col, column: column, role: role(.dim))
                case "STARTED":
                    col = frame.cell(Format.dateTime(entry.startedAt, timeZone: state.timeZone), row: row, col: col,
                                     column: column, role: role(.normal))
                case "STATUS":
                    let statusRole: Role = entry.status == "done" ? .ok : entry.status == "running" ? .running : .warning
                    col = frame.cell(entry.status, row: row, col: col, column: column, role: role(statusRole))
                case "HOSTS": col = frame.cell(String(entry.hostCount), row: row, col: col, column: column, role: role(.normal))
                case "OK": col = frame.cell(String(entry.ok), row: row, col: col, column: column, role: role(.ok))
                case "FAILED":
                    col = frame.cell(String(entry.failed), row: row, col: col, column: column,
                                     role: role(entry.failed > 0 ? .failed : .normal))
                case "ERRORS":
                    col = frame.cell(String(entry.errors), row: row, col: col, column: column,
                                     role: role(entry.errors > 0 ? .error : .normal))
                case "TARGET": col = frame.cell(entry.target, row: row, col: col, column: column, role: role(.dim))
                default: col = frame.cell(entry.command, row: row, col: col, column: column, role: role(.normal))
                }
            }
        }
    }
}

/// The `?` overlay, generated from the key table (and the command list).
enum HelpOverlay {
    static func lines() -> [StyledLine] {
        var lines: [StyledLine] = []
        for (group, bindings) in KeyTable.grouped() {
            lines.append(StyledLine(group.rawValue, .overlayTitle))
            for binding in bindings {
                lines.append(StyledLine(segments: [(text: "  " + DisplayWidth.fit(binding.keyLabel, to: 16), role: .hintKey),
                                                   (text: binding.help, role: .overlay)]))
            }
            lines.append(StyledLine("", .overlay))
        }
        lines.append(StyledLine("Commands (after :)", .overlayTitle))
        for name in ConsoleState.commandNames {
            lines.append(StyledLine("  :" + name, .overlay))
        }
        return lines
    }

    static func draw(_ frame: inout ScreenFrame, scroll: Int) {
        let size = frame.size
        let width = min(size.cols - 4, 110)
        let height = size.rows - 2
        let top = 1
        let left = (size.cols - width) / 2
        for row in top..<(top + height) { frame.fill(row: row, role: .overlay, from: left, to: left + width) }
        frame.put("┌" + String(repeating: "─", count: width - 2) + "┐", row: top, col: left, role: .overlay)
        frame.put(" keys — ? or Esc closes, ↑↓ scroll ", row: top, col: left + 2, role: .overlayTitle)
        for row in (top + 1)..<(top + height - 1) {
            frame.put("│", row: row, col: left, role: .overlay)
            frame.put("│", row: row, col: left + width - 1, role: .overlay)
        }
        frame.put("└" + String(repeating: "─", count: width - 2) + "┘", row: top + height - 1, col: left, role: .overlay)
        let content = lines()
        let visible = height - 2
        let offset = min(max(0, scroll), max(0, content.count - visible))
        for (index, line) in content.dropFirst(offset).prefix(visible).enumerated() {
            line.draw(into: &frame, row: top + 1 + index, col: left + 2, width: width - 4)
        }
        if content.count > visible {
            frame.put(" \(offset + 1)-\(min(content.count, offset + visible))/\(content.count) ", row: top + height - 1,
                      col: left + width - 14, role: .overlayTitle)
        }
    }
}
