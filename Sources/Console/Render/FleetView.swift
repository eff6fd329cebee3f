/// The fleet table: a header row per proxy route, then its hosts.
enum FleetView {
    static func columns(width: Int, nameWidth: Int) -> [TableColumn] {
        var columns = [
            TableColumn(id: "host", title: "HOST", width: min(max(nameWidth, 8), 28)),
            TableColumn(id: "address", title: "ADDRESS", width: 15),
            TableColumn(id: "groups", title: "GROUPS", width: 14),
            TableColumn(id: "transport", title: "TRANSPORT", width: 14),
            TableColumn(id: "session", title: "SESSION", width: 13),
            TableColumn(id: "rtt", title: "RTT", width: 7, alignRight: true),
            TableColumn(id: "error", title: "LAST ERROR", width: 0),
        ]
        // Narrow terminals drop the least needed columns first so the error column stays readable.
        let markWidth = 2
        func errorWidth() -> Int { width - markWidth - columns.dropLast().reduce(0) { $0 + $1.width + 1 } }
        for drop in ["groups", "address", "rtt"] where errorWidth() < 24 {
            columns.removeAll { $0.id == drop }
        }
        columns[columns.count - 1].width = max(0, errorWidth())
        return columns
    }

    static func draw(_ frame: inout ScreenFrame, state: ConsoleState, snapshot: FleetSnapshot) {
        let size = frame.size
        let rows = state.fleetRows(snapshot)
        let columns = columns(width: size.cols, nameWidth: rows.nameWidth)
        frame.columnHeader(columns, row: 1, startCol: 2, sortTitle: state.fleetSort.column.rawValue,
                           ascending: state.fleetSort.ascending)
        let bodyTop = 2
        let bodyRows = ConsoleLayout.bodyRows(.fleet, size: size)
        let position = state.resolvedPosition(.fleet, snapshot, size: size)
        if rows.items.isEmpty {
            let message = snapshot.hosts.isEmpty ? "no hosts in the inventory"
                : "no host matches" + (state.filter.isEmpty ? "" : " /\(state.filter)") + (state.faultsOnly ? " (faults only)" : "")
                    + " — Esc clears"
            frame.put("  " + message, row: bodyTop, col: 0, role: .dim)
            return
        }
        var routeByName: [String: RouteSummary] = [:]
        for route in snapshot.routes { routeByName[route.name] = route }
        let end = min(rows.items.count, position.top + bodyRows)
        for index in position.top..<end {
            let row = bodyTop + index - position.top
            let selected = index == position.cursor
            switch rows.items[index] {
            case .route(let r):
                drawRoute(&frame, row: row, name: rows.routeNames[r], summary: routeByName[rows.routeNames[r]],
                          shown: rows.shownPerRoute[r], total: rows.totalPerRoute[r], selected: selected)
            case .host(let h):
                drawHost(&frame, row: row, host: snapshot.hosts[h], columns: columns,
                         marked: state.marks.contains(snapshot.hosts[h].name), selected: selected)
            }
        }
    }

    static func drawRoute(_ frame: inout ScreenFrame, row: Int, name: String, summary: RouteSummary?, shown: Int,
                          total: Int, selected: Bool) {
        let role: Role = selected ? .selected : .routeRow
        frame.fill(row: row, role: role)
        var text = "▾ \(name)"
        if let summary {
            text += summary.proxy == "direct" ? "  direct" : "  via \(summary.proxy) (\(summary.mode))"
        }
        text += "  " + (shown == total ? Format.plural(total, "host") : "\(shown)/\(total) hosts")
        var col = frame.put(text, row: row, col: 0, role: role)
        guard let summary else { return }
        let counts: [(String, Int, Role)] = [("ok", summary.ok, .ok), ("auth", summary.authErrors, .error),
                                             ("affinity", summary.affinityErrors, .affinity),
                                             ("proxy", summary.proxyErrors, .error)]
        for (label, count, countRole) in counts {
            col = frame.put("  \(label) ", row: row, col: col, role: role)
            col = frame.put(String(count), row: row, col: col, role: selected || count == 0 ? role : countRole)
        }
        if let rtt = summary.lastRTTms { frame.put("  rtt \(Format.rtt(rtt))", row: row, col: col, role: role) }
    }

    static func drawHost(_ frame: inout ScreenFrame, row: Int, host: HostRow, columns: [TableColumn], marked: Bool,
                         selected: Bool) {
        if selected { frame.fill(row: row, role: .selected) }
        func role(_ natural: Role) -> Role { selected ? .selected : natural }
        frame.put(marked ? "● " : "  ", row: row, col: 0, role: role(.marked))
        var col = 2
        for column in columns {
            switch column.id {
            case "host":
                col = frame.cell(host.name, row: row, col: col, column: column, role: role(marked ? .marked : .normal))
            case "address":
                col = frame.cell(host.address, row: row, col: col, column: column, role: role(.normal))
            case "groups":
                col = frame.cell(host.groups.joined(separator: ","), row: row, col: col, column: column, role: role(.dim))
            case "transport":
                col = frame.cell(host.transport + " " + (host.mechanism ?? host.auth), row: row, col: col,
                                 column: column, role: role(.normal))
            case "session":
                col = frame.cell(host.session == .none ? "—" : host.session.rawValue, row: row, col: col,
                                 column: column, role: role(Format.role(for: host.session)))
            case "rtt":
                col = frame.cell(Format.rtt(host.lastRTTms), row: row, col: col, column: column, role: role(.dim))
            default:
                if let error = host.lastError {
                    col = frame.cell(error.kind + ": " + error.message, row: row, col: col, column: column,
                                     role: role(Format.role(forErrorKind: error.kind)))
                } else {
                    col += column.width + 1
                }
            }
        }
    }
}
