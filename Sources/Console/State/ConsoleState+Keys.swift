import Foundation

extension ConsoleState {
    /// The context keys are interpreted in right now.
    public var keyContext: KeyContext {
        if helpVisible { return .helpOverlay }
        switch mode {
        case .normal: return .normal(view)
        case .filter, .command: return .prompt
        case .confirmQuit: return .confirm
        }
    }

    /// Interprets one key. Pure: changes the state and returns what the app must do.
    public mutating func handle(_ key: Key, snapshot: FleetSnapshot) -> [ConsoleEffect] {
        if key == .resize { return [] }
        if key != .ctrl("c") { interruptArmed = false }
        if case .normal = mode, !helpVisible { status = nil }
        let context = keyContext
        guard let binding = KeyTable.binding(for: key, in: context) else {
            if context == .prompt, case .char(let character) = key {
                editPrompt { $0.insert(character) }
            }
            return []
        }
        return perform(binding.action, snapshot: snapshot)
    }

    /// Carries out a key table action.
    mutating func perform(_ action: KeyAction, snapshot: FleetSnapshot) -> [ConsoleEffect] {
        if helpVisible {
            switch action {
            case .back: helpVisible = false
            case .moveUp: helpScroll = max(0, helpScroll - 1)
            case .moveDown: helpScroll += 1
            case .pageUp: helpScroll = max(0, helpScroll - max(1, screenSize.rows - 4))
            case .pageDown: helpScroll += max(1, screenSize.rows - 4)
            case .interrupt: return interrupt(snapshot)
            default: break
            }
            return []
        }
        switch action {
        case .moveUp: move(by: -1, snapshot)
        case .moveDown: move(by: 1, snapshot)
        case .pageUp: move(by: -page, snapshot)
        case .pageDown: move(by: page, snapshot)
        case .moveTop: move(to: 0, snapshot)
        case .moveBottom:
            move(to: Int.max, snapshot)
            if view == .output { outputFollow = true }
        case .nextView: cycleView(by: 1)
        case .previousView: cycleView(by: -1)
        case .showFleet: show(.fleet)
        case .showRun: show(.run)
        case .showGroups:
            groupsFromHistory = false
            show(.groups)
        case .showHealth: show(.health)
        case .showHistory: show(.history)
        case .open: return open(snapshot)
        case .back: back()
        case .help:
            helpVisible = true
            helpScroll = 0
        case .filter:
            filterBeforeEdit = filter
            mode = .filter(PromptLine(filter))
        case .command:
            commandHistoryIndex = nil
            mode = .command(PromptLine())
        case .quit: return quit(snapshot)
        case .toggleMark: toggleMark(snapshot)
        case .markAllVisible: markAllVisible(snapshot)
        case .clearMarks:
            status = StatusMessage(marks.isEmpty ? "no marks to clear" : "cleared \(marks.count) mark(s)")
            marks = []
        case .rerunFailed: return rerunFailed(snapshot)
        case .cancelHost: return cancelSelectedHost(snapshot)
        case .interrupt: return interrupt(snapshot)
        case .toggleGrouped: toggleGrouped()
        case .nextSort:
            if view == .fleet { fleetSort = fleetSort.next() } else { runSort = runSort.next() }
            status = StatusMessage("sorted by \(view == .fleet ? fleetSort.column.rawValue : runSort.column.rawValue)")
        case .reverseSort:
            if view == .fleet { fleetSort.ascending.toggle() } else { runSort.ascending.toggle() }
        case .toggleFaultsOnly:
            faultsOnly.toggle()
            status = StatusMessage(faultsOnly ? "showing faulty hosts only (f shows all)" : "showing all hosts")
        case .toggleStderr:
            if view == .groups { groupsIncludeStderr.toggle() } else { outputShowsStderr.toggle() }
        case .nextTheme:
            let names = availableThemes.isEmpty ? ThemeCatalog.builtinNames : availableThemes
            let index = names.firstIndex(of: themeName).map { ($0 + 1) % names.count } ?? 0
            return [.loadTheme(names[index])]
        case .promptSubmit: return submitPrompt(snapshot)
        case .promptCancel: cancelPrompt()
        case .promptHistoryUp: browseHistory(by: -1)
        case .promptHistoryDown: browseHistory(by: 1)
        case .promptDeleteBack:
            var leave = false
            editPrompt { line in
                if line.text.isEmpty { leave = true } else { line.deleteBack() }
            }
            if leave { cancelPrompt() }
        case .promptCursorLeft: editPrompt { $0.cursor = max(0, $0.cursor - 1) }
        case .promptCursorRight: editPrompt { $0.cursor = min($0.text.count, $0.cursor + 1) }
        case .confirmYes:
            mode = .normal
            return [.cancelRun, .quit]
        case .confirmNo:
            mode = .normal
            status = StatusMessage("not quitting")
        }
        return []
    }

    private var page: Int { max(1, ConsoleLayout.bodyRows(view, size: screenSize) - 1) }

    // MARK: movement

    private mutating func move(by delta: Int, _ snapshot: FleetSnapshot) {
        let current = resolvedPosition(view, snapshot, size: screenSize)
        if view == .output && delta < 0 { outputFollow = false }
        move(to: current.cursor + delta, snapshot)
    }

    private mutating func move(to target: Int, _ snapshot: FleetSnapshot) {
        var position = resolvedPosition(view, snapshot, size: screenSize)
        let count = listLength(view, snapshot)
        let pageRows = max(1, ConsoleLayout.bodyRows(view, size: screenSize))
        if Self.isScrollView(view) {
            if view == .output && target < position.top { outputFollow = false }
            position.top = min(max(0, target), max(0, count - pageRows))
            if view == .output && position.top < max(0, count - pageRows) { outputFollow = false }
            position.cursor = position.top
            positions[view] = position
            return
        }
        position.cursor = count == 0 ? 0 : min(max(0, target), count - 1)
        if position.cursor < position.top { position.top = position.cursor }
        if position.cursor >= position.top + pageRows { position.top = position.cursor - pageRows + 1 }
        position.selectedKey = rowKey(view, position.cursor, snapshot)
        positions[view] = position
    }

    // MARK: views

    private mutating func show(_ target: ConsoleView) {
        view = target
    }

    private mutating func cycleView(by step: Int) {
        let order = ConsoleView.tabOrder
        let from: ConsoleView
        switch view {
        case .output: from = returnView
        case .historyRun: from = .history
        default: from = view
        }
        let index = order.firstIndex(of: from) ?? 0
        view = order[(index + step + order.count) % order.count]
        if view == .groups { groupsFromHistory = false }
    }

    private mutating func toggleGrouped() {
        switch view {
        case .run:
            groupsFromHistory = false
            view = .groups
        case .historyRun:
            groupsFromHistory = true
            view = .groups
        case .groups:
            view = groupsFromHistory ? .historyRun : .run
        default:
            break
        }
    }

    private mutating func back() {
        switch view {
        case .output:
            view = returnView
        case .historyRun:
            view = .history
        default:
            if !filter.isEmpty {
                filter = ""
                status = StatusMessage("filter cleared")
            } else if faultsOnly {
                faultsOnly = false
                status = StatusMessage("showing all hosts")
            }
        }
    }

    private mutating func openOutput(_ host: String, fromHistory: Bool) {
        returnView = view
        outputHost = host
        outputFromHistory = fromHistory
        outputFollow = true
        positions[.output] = ListPosition()
        view = .output
    }

    /// The host under the cursor in a host list (fleet, run, past run), if any.
    public func selectedHost(_ snapshot: FleetSnapshot) -> String? {
        let position = resolvedPosition(view, snapshot, size: screenSize)
        switch view {
        case .fleet:
            let rows = fleetRows(snapshot)
            guard position.cursor < rows.items.count, case .host(let index) = rows.items[position.cursor] else {
                return nil
            }
            return snapshot.hosts[index].name
        case .run, .historyRun:
            let history = view == .historyRun
            let order = runOrder(snapshot, history: history)
            guard position.cursor < order.count else { return nil }
            return runSource(snapshot, history: history).rows[order[position.cursor]].name
        case .groups:
            let groups = groupsData(snapshot).groups
            return position.cursor < groups.count ? groups[position.cursor].hosts.first : nil
        case .output:
            return outputHost
        case .health, .history:
            return nil
        }
    }

    private mutating func open(_ snapshot: FleetSnapshot) -> [ConsoleEffect] {
        switch view {
        case .history:
            let order = historyOrder(snapshot)
            let position = resolvedPosition(.history, snapshot, size: screenSize)
            guard position.cursor < order.count else {
                status = StatusMessage("no run in the history yet")
                return []
            }
            return [.openHistoryRun(snapshot.history[order[position.cursor]].id)]
        case .fleet:
            guard let host = selectedHost(snapshot) else {
                status = StatusMessage("a route row: space marks its hosts")
                return []
            }
            if snapshot.run?.hosts.contains(where: { $0.name == host }) != true {
                status = StatusMessage("\(host) is not in the current run; its output shows once a run targets it")
            }
            openOutput(host, fromHistory: false)
        case .run, .historyRun, .groups:
            guard let host = selectedHost(snapshot) else { return [] }
            let fromHistory = view == .historyRun || (view == .groups && groupsFromHistory)
            openOutput(host, fromHistory: fromHistory)
        case .health, .output:
            break
        }
        return []
    }

    // MARK: marks

    private mutating func toggleMark(_ snapshot: FleetSnapshot) {
        if view == .fleet {
            let rows = fleetRows(snapshot)
            let position = resolvedPosition(.fleet, snapshot, size: screenSize)
            guard position.cursor < rows.items.count else { return }
            if case .route(let route) = rows.items[position.cursor] {
                // A route row marks (or unmarks) the route's visible hosts.
                let names = rows.items.compactMap { item -> String? in
                    if case .host(let index) = item, snapshot.hosts[index].route == rows.routeNames[route] {
                        return snapshot.hosts[index].name
                    }
                    return nil
                }
                if names.allSatisfy(marks.contains) {
                    marks.subtract(names)
                } else {
                    marks.formUnion(names)
                }
                status = StatusMessage("\(marks.count) marked")
                move(by: 1, snapshot)
                return
            }
        }
        guard let host = selectedHost(snapshot) else { return }
        if marks.contains(host) { marks.remove(host) } else { marks.insert(host) }
        move(by: 1, snapshot)
    }

    private mutating func markAllVisible(_ snapshot: FleetSnapshot) {
        var names: [String] = []
        switch view {
        case .fleet:
            names = fleetRows(snapshot).hostOrder.map { snapshot.hosts[$0].name }
        case .run, .historyRun:
            let history = view == .historyRun
            let rows = runSource(snapshot, history: history).rows
            names = runOrder(snapshot, history: history).map { rows[$0].name }
        default:
            return
        }
        marks.formUnion(names)
        status = StatusMessage("marked \(names.count) visible host(s); \(marks.count) marked in all")
    }

    // MARK: runs

    /// Which hosts a new run targets: the marked ones, else the filtered ones, else the `:target` hosts.
    public func chooseRunTarget(_ snapshot: FleetSnapshot) -> (hosts: [String], source: String)? {
        if !marks.isEmpty {
            var hosts = snapshot.hosts.map(\.name).filter { marks.contains($0) }
            let known = Set(hosts)
            hosts += marks.subtracting(known).sorted(by: NaturalOrder.less)
            return (hosts, "marked")
        }
        if filterIsActive || faultsOnly {
            let rows = fleetRows(snapshot)
            return (rows.hostOrder.map { snapshot.hosts[$0].name }, "filtered")
        }
        if let runTarget { return (runTarget.hosts, "target " + runTarget.expression) }
        return nil
    }

    mutating func startRun(command: String, powershell: Bool, snapshot: FleetSnapshot) -> [ConsoleEffect] {
        if snapshot.run?.isActive == true {
            status = StatusMessage("a run is active; wait for it or cancel it (ctrl-c twice) first", isError: true)
            return []
        }
        guard let target = chooseRunTarget(snapshot) else {
            status = StatusMessage("no target: mark hosts (space), filter them (/), or set :target EXPR", isError: true)
            return []
        }
        guard !target.hosts.isEmpty else {
            status = StatusMessage("the \(target.source) hosts are none; nothing to run on", isError: true)
            return []
        }
        view = .run
        positions[.run] = ListPosition()
        status = StatusMessage("\(powershell ? "PowerShell" : "command") on \(target.hosts.count) \(target.source) host(s)")
        return [.startRun(command: command, powershell: powershell, hosts: target.hosts)]
    }

    private mutating func rerunFailed(_ snapshot: FleetSnapshot) -> [ConsoleEffect] {
        guard let run = snapshot.run else {
            status = StatusMessage("no run yet", isError: true)
            return []
        }
        if run.isActive {
            status = StatusMessage("the run is still active; r reruns its failed hosts once it is over", isError: true)
            return []
        }
        let failed = run.hosts.filter(\.needsRerun).map(\.name)
        guard !failed.isEmpty else {
            status = StatusMessage("no failed hosts in the last run")
            return []
        }
        view = .run
        positions[.run] = ListPosition()
        status = StatusMessage("rerunning on \(failed.count) failed host(s): \(DisplayWidth.truncate(HostSetFolding.fold(failed), to: 50))")
        return [.startRun(command: run.command, powershell: run.isPowerShell, hosts: failed)]
    }

    private mutating func cancelSelectedHost(_ snapshot: FleetSnapshot) -> [ConsoleEffect] {
        guard let host = selectedHost(snapshot) else { return [] }
        guard let run = snapshot.run, run.isActive,
              let row = run.hosts.first(where: { $0.name == host }), !row.state.isFinished else {
            status = StatusMessage("\(host) has nothing running to cancel")
            return []
        }
        status = StatusMessage("cancelling \(host)")
        return [.cancelHost(host)]
    }

    private mutating func interrupt(_ snapshot: FleetSnapshot) -> [ConsoleEffect] {
        guard let run = snapshot.run, run.isActive else {
            interruptArmed = false
            status = StatusMessage("no run is active (q quits)")
            return []
        }
        if interruptArmed {
            interruptArmed = false
            status = StatusMessage("cancelling the run; finished results stay")
            return [.cancelRun]
        }
        interruptArmed = true
        let summary = RunSummary(run.hosts)
        let pending = summary.total - summary.finished
        status = StatusMessage("\(pending) host(s) pending — ctrl-c again cancels the run")
        return [.showPendingSummary]
    }

    private mutating func quit(_ snapshot: FleetSnapshot) -> [ConsoleEffect] {
        if snapshot.run?.isActive == true {
            mode = .confirmQuit
            return []
        }
        return [.quit]
    }

    // MARK: prompt

    private mutating func editPrompt(_ edit: (inout PromptLine) -> Void) {
        switch mode {
        case .filter(var line):
            edit(&line)
            mode = .filter(line)
            filter = line.text
        case .command(var line):
            edit(&line)
            mode = .command(line)
        default:
            break
        }
    }

    private mutating func cancelPrompt() {
        if case .filter = mode { filter = filterBeforeEdit }
        mode = .normal
    }

    private mutating func browseHistory(by step: Int) {
        guard case .command = mode, !commandHistory.isEmpty else { return }
        var index = commandHistoryIndex ?? commandHistory.count
        index = min(max(0, index + step), commandHistory.count)
        commandHistoryIndex = index
        mode = .command(PromptLine(index < commandHistory.count ? commandHistory[index] : ""))
    }

    private mutating func submitPrompt(_ snapshot: FleetSnapshot) -> [ConsoleEffect] {
        switch mode {
        case .filter(let line):
            mode = .normal
            filter = line.text
            if let problem = rowFilter.problem { status = StatusMessage(problem, isError: true) }
            return []
        case .command(let line):
            mode = .normal
            let text = line.text.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { return [] }
            if commandHistory.last != text { commandHistory.append(text) }
            if commandHistory.count > 100 { commandHistory.removeFirst(commandHistory.count - 100) }
            return execute(command: text, snapshot: snapshot)
        default:
            return []
        }
    }
}
