/// Identical results folded as clush -b does: one host set per (state, exit code, output), output once.
enum GroupsView {
    /// Output lines shown per group before "… more"; the full output is one Enter away.
    static let maxLinesPerGroup = 12

    static func lines(for group: ResultGroup, width: Int, selected: Bool) -> [StyledLine] {
        var header: [(String, Role)] = [(group.hostSet, selected ? .selected : .groupHeader)]
        switch group.state {
        case .done, .failed:
            header.append(("  exit \(group.exitCode.map(String.init) ?? "—")", group.exitCode == 0 ? .ok : .failed))
        case .error:
            header.append(("  error \(group.error?.kind ?? "")", Format.role(forErrorKind: group.error?.kind ?? "")))
        default:
            header.append(("  \(group.state.label)", Format.role(for: group.state)))
        }
        // A long host set wraps; the state goes after its last part.
        let setLines = TerminalText.wrap(group.hostSet.replacingOccurrences(of: ",", with: ", "), width: max(10, width - 20))
            .map { $0.replacingOccurrences(of: ", ", with: ",") }
        var lines = setLines.dropLast().map { StyledLine($0, selected ? .selected : .groupHeader) }
        header[0].0 = setLines.last ?? group.hostSet
        lines.append(StyledLine(segments: header.map { (text: $0.0, role: $0.1) }))
        var body: [StyledLine] = []
        if let error = group.error {
            body.append(StyledLine(error.message, Format.role(forErrorKind: error.kind)))
        } else {
            body += TerminalText.lines(group.stdout).map { StyledLine($0) }
            if let stderr = group.stderr {
                body += TerminalText.lines(stderr).map { StyledLine($0, .stderr) }
            }
            if body.isEmpty && group.state != .timedOut && group.state != .cancelled {
                body.append(StyledLine("(no output)", .dim))
            }
        }
        if body.count > maxLinesPerGroup {
            let more = body.count - maxLinesPerGroup
            body = Array(body.prefix(maxLinesPerGroup))
            body.append(StyledLine("… \(Format.plural(more, "more line")) (Enter shows the host's full output)", .dim))
        }
        lines += body.map { line in StyledLine(segments: [(text: "  ", role: .normal)] + line.segments) }
        lines.append(.blank)
        return lines
    }

    static func draw(_ frame: inout ScreenFrame, state: ConsoleState, snapshot: FleetSnapshot) {
        let size = frame.size
        let (groups, pending) = state.groupsData(snapshot)
        let source = state.runSource(snapshot, history: state.groupsFromHistory)
        var summary = " \(Format.plural(groups.count, "group")) from \(source.rows.count - pending.count) finished host(s)"
        if state.groupsFromHistory, let id = state.historyRunID { summary = " past run #\(id) ·" + summary }
        if !pending.isEmpty { summary += " · pending \(HostSetFolding.foldWithCount(pending))" }
        summary += state.groupsIncludeStderr ? " · stderr compared" : ""
        frame.put(DisplayWidth.truncate(summary, to: size.cols), row: 1, col: 0, role: .dim)
        let bodyTop = 2
        let bodyRows = ConsoleLayout.bodyRows(.groups, size: size)
        guard !groups.isEmpty else {
            let text = source.rows.isEmpty ? "  no run yet — :run CMD starts one" : "  no finished host yet"
            frame.put(text, row: bodyTop, col: 0, role: .dim)
            return
        }
        let position = state.resolvedPosition(.groups, snapshot, size: size)
        // Lay out groups from `top`; if the selected group's header would fall below, start from it instead.
        var first = position.top
        var layout: [StyledLine] = []
        var cursorLine = -1
        for index in first..<groups.count {
            if index == position.cursor { cursorLine = layout.count }
            layout += lines(for: groups[index], width: size.cols, selected: index == position.cursor)
            if layout.count >= bodyRows && cursorLine >= 0 { break }
        }
        if cursorLine >= bodyRows {
            first = position.cursor
            layout = []
            for index in first..<groups.count {
                layout += lines(for: groups[index], width: size.cols, selected: index == position.cursor)
                if layout.count >= bodyRows { break }
            }
        }
        for (offset, line) in layout.prefix(bodyRows).enumerated() {
            line.draw(into: &frame, row: bodyTop + offset, col: 0, width: size.cols)
        }
    }
}

/// One host's stdout and stderr, with the error and its remedy first.
enum OutputContent {
    static func lines(_ row: RunHostRow?, showStderr: Bool, route: RouteSummary? = nil, width: Int) -> [StyledLine] {
        guard let row else { return [] }
        var lines: [StyledLine] = []
        if let error = row.error {
            // The error, what it means and what to do first, wrapped: this is what the operator came for.
            let explanation = ErrorExplanation.explain(error, route: route)
            let role = Format.role(forErrorKind: error.kind)
            for part in TerminalText.wrap("error \(error.kind): \(error.message)", width: width) {
                lines.append(StyledLine(part, role))
            }
            for (label, text) in [("why", explanation.explanation), ("fix", explanation.remedy)] {
                for (index, part) in TerminalText.wrap(text, width: max(10, width - 7)).enumerated() {
                    lines.append(StyledLine(segments: [(text: index == 0 ? "  \(label): " : "       ", role: .dim),
                                                       (text: part, role: label == "fix" ? .ok : .normal)]))
                }
            }
            lines.append(.blank)
        }
        lines += TerminalText.lines(row.stdout).map { StyledLine($0) }
        if showStderr && !row.stderr.isEmpty {
            lines.append(StyledLine("── stderr ──", .dim))
            lines += TerminalText.lines(row.stderr).map { StyledLine($0, .stderr) }
        }
        return lines
    }
}

enum OutputView {
    static func draw(_ frame: inout ScreenFrame, state: ConsoleState, snapshot: FleetSnapshot) {
        let size = frame.size
        frame.fill(row: 1, role: .columnHeader)
        guard let host = state.outputHost else { return }
        guard let row = state.outputRow(snapshot) else {
            frame.put(" \(host)", row: 1, col: 0, role: .columnHeader)
            frame.put("  \(host) is not in the \(state.outputFromHistory ? "opened" : "current") run; "
                + "its output shows once a run targets it", row: 2, col: 0, role: .dim)
            return
        }
        let route = snapshot.routes.first { $0.name == row.route }
        let lines = OutputContent.lines(row, showStderr: state.outputShowsStderr, route: route, width: size.cols)
        let stdoutCount = TerminalText.lines(row.stdout).count
        let stderrCount = TerminalText.lines(row.stderr).count
        var header = " \(host) · route \(row.route) · \(row.state.label)"
        if let code = row.exitCode { header += " · exit \(code)" }
        if row.duration != nil { header += " · \(Format.duration(row.duration))" }
        header += " · stdout \(Format.plural(stdoutCount, "line")) · stderr \(Format.plural(stderrCount, "line"))"
        if !state.outputShowsStderr && stderrCount > 0 { header += " (hidden: e)" }
        frame.put(header, row: 1, col: 0, role: .columnHeader)
        let position = state.resolvedPosition(.output, snapshot, size: size)
        let bodyRows = ConsoleLayout.bodyRows(.output, size: size)
        if lines.isEmpty {
            frame.put(row.state.isFinished ? "  (no output)" : "  (no output yet)", row: 2, col: 0, role: .dim)
            return
        }
        for (offset, line) in lines.dropFirst(position.top).prefix(bodyRows).enumerated() {
            line.draw(into: &frame, row: 2 + offset, col: 0, width: size.cols)
        }
    }
}
