import Foundation

public struct FakeEngineError: Error, CustomStringConvertible {
    public var description: String
}

/// A deterministic engine for tests, demos and benchmarks: a fleet of N hosts (`win0001` …) across four
/// routes with auth, affinity, proxy, policy and network errors, a run that advances when told
/// (`advance(results:)`) or on a timer (`startAutoAdvance`), and three past runs.
/// Everything derives from the host index, so the same N always gives the same screens.
public final class FakeEngine: ConsoleEngine, @unchecked Sendable {
    public static let defaultNow = Date(timeIntervalSince1970: 1_767_225_600) // 2026-01-01 00:00:00 UTC

    private let lock = NSLock()
    private var current: FleetSnapshot
    private var handler: (@Sendable () -> Void)?
    private var historyRows: [Int64: [RunHostRow]] = [:]
    private var nextRunID: Int64 = 4
    private var throttle = 32
    private let now: Date
    private var timer: DispatchSourceTimer?
    /// Every intent the console sent, in order ("startRun hostname 3", "cancel win0002" …), for tests.
    public private(set) var calls: [String] = []

    public init(hostCount: Int, now: Date = FakeEngine.defaultNow) {
        self.now = now
        current = Self.makeFleet(hostCount: hostCount, now: now)
        for entry in current.history { historyRows[entry.id] = Self.pastRows(entry, hosts: current.hosts) }
    }

    // MARK: fleet

    static let routes: [(name: String, proxy: String, mode: String)] = [
        ("direct", "direct", "direct"),
        ("dmz-squid", "http://127.0.0.1:3128", "forward"),
        ("branch-tunnel", "http://127.0.0.1:3129", "tunnel"),
        ("lab", "direct", "direct"),
    ]

    static func name(_ index: Int, count: Int) -> String {
        let width = max(4, String(count).count)
        let digits = String(index)
        return "win" + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    public static func makeFleet(hostCount: Int, now: Date) -> FleetSnapshot {
        var hosts: [HostRow] = []
        hosts.reserveCapacity(hostCount)
        for i in 1...max(1, hostCount) where hostCount > 0 {
            let routeIndex = i % routes.count
            let route = routes[routeIndex]
            let transport = i % 3 == 0 ? "http" : "https"
            let auth = i % 11 == 0 ? "kerberos" : i % 5 == 0 ? "ntlm" : "negotiate"
            let mechanism: String? = auth == "negotiate" ? (i % 2 == 0 ? "kerberos" : "ntlm") : nil
            var groups = ["all", i % 4 == 1 ? "iis" : i % 4 == 2 ? "sql" : "web"]
            if i % 7 == 0 { groups.append("東京") }
            var session: SessionState = i % 13 == 0 ? .authenticated : i % 17 == 0 ? .busy : i % 29 == 0 ? .connecting : .idle
            var error: ErrorInfo?
            if i % 97 == 3 {
                error = ErrorInfo(kind: "auth", message: "HTTP 401 after the NTLM authenticate message", code: "401")
            } else if route.mode == "forward" && i % 61 == 1 {
                error = ErrorInfo(kind: "affinity",
                                  message: "401 on a new TCP connection between NTLM legs (proxy switched connections)")
            } else if route.mode != "direct" && i % 89 == 5 {
                error = ErrorInfo(kind: "proxy_auth", message: "407 Proxy Authentication Required", code: "407")
            } else if route.mode != "direct" && i % 151 == 7 {
                error = ErrorInfo(kind: "proxy", message: "CONNECT refused: 403 Forbidden", code: "403")
            } else if transport == "http" && i % 173 == 0 {
                error = ErrorInfo(kind: "policy", message: "Basic authentication over plain HTTP is refused")
            } else if i % 199 == 13 {
                error = ErrorInfo(kind: "network", message: "connection refused (port \(transport == "http" ? 5985 : 5986))")
            }
            if error != nil { session = error?.kind == "affinity" ? .reconnecting : .broken }
            let rtt: Double? = error == nil && session != .connecting ? Double((i * 37) % 90 + 3) + 0.5 : nil
            hosts.append(HostRow(name: name(i, count: hostCount), address: "10.\(routeIndex).\(i / 250).\(i % 250 + 1)",
                                 port: transport == "http" ? 5985 : 5986, groups: groups, transport: transport,
                                 auth: auth, mechanism: mechanism, route: route.name, session: session,
                                 lastRTTms: rtt, lastError: error))
        }
        let events = hosts.filter { $0.lastError != nil }.prefix(40).enumerated().map { offset, host in
            HealthEvent(at: now.addingTimeInterval(-Double(offset * 7 + 5)), host: host.name, route: host.route,
                        kind: host.lastError!.kind, message: host.lastError!.message)
        }
        let history = [
            HistoryEntry(id: 1, command: "ipconfig /all", target: "@all", startedAt: now.addingTimeInterval(-7200),
                         status: "done", hostCount: min(hostCount, 40), ok: min(hostCount, 40) - 2, failed: 1, errors: 1),
            HistoryEntry(id: 2, command: "Get-Service WinRM", target: "@iis", startedAt: now.addingTimeInterval(-3600),
                         status: "done", hostCount: min(hostCount, 12), ok: min(hostCount, 12), failed: 0, errors: 0),
            HistoryEntry(id: 3, command: "hostname", target: "route:dmz-squid", startedAt: now.addingTimeInterval(-600),
                         status: "cancelled", hostCount: min(hostCount, 8), ok: min(hostCount, 8) / 2, failed: 0,
                         errors: 0),
        ]
        var snapshot = FleetSnapshot(routes: [], hosts: hosts, run: nil, history: history, events: Array(events), version: 1)
        snapshot.routes = summarizeRoutes(hosts)
        return snapshot
    }

    static func summarizeRoutes(_ hosts: [HostRow]) -> [RouteSummary] {
        routes.map { route in
            var summary = RouteSummary(name: route.name, proxy: route.proxy, mode: route.mode)
            var rttTotal = 0.0
            var rttCount = 0
            for host in hosts where host.route == route.name {
                switch host.lastError?.kind {
                case nil: summary.ok += 1
                case "auth": summary.authErrors += 1
                case "affinity": summary.affinityErrors += 1
                case "proxy", "proxy_auth": summary.proxyErrors += 1
                default: break
                }
                if let rtt = host.lastRTTms {
                    rttTotal += rtt
                    rttCount += 1
                }
            }
            summary.lastRTTms = rttCount > 0 ? (rttTotal / Double(rttCount) * 10).rounded() / 10 : nil
            return summary
        }
    }

    static func pastRows(_ entry: HistoryEntry, hosts: [HostRow]) -> [RunHostRow] {
        let chosen = hosts.prefix(entry.hostCount)
        return chosen.enumerated().map { offset, host in
            if entry.status == "cancelled" && offset >= entry.ok {
                return RunHostRow(name: host.name, route: host.route, state: .cancelled)
            }
            return result(for: host, position: offset, command: entry.command)
        }
    }

    /// The deterministic outcome of a command on a host.
    static func result(for host: HostRow, position j: Int, command: String) -> RunHostRow {
        let duration = 0.3 + Double(j % 17) * 0.11
        if let error = host.lastError, ["auth", "affinity", "proxy_auth", "proxy", "policy", "network"].contains(error.kind) {
            return RunHostRow(name: host.name, route: host.route, state: .error, duration: duration, error: error)
        }
        if j % 41 == 7 {
            return RunHostRow(name: host.name, route: host.route, state: .timedOut, duration: 60,
                              error: ErrorInfo(kind: "timeout", message: "no answer within 60 s"))
        }
        if j % 23 == 5 {
            return RunHostRow(name: host.name, route: host.route, state: .failed, exitCode: 1, duration: duration,
                              stdout: "", stderr: "Access is denied.\r\n")
        }
        let stdout: String
        if command == "hostname" {
            stdout = host.name + "\r\n"
        } else if command.lowercased().hasPrefix("ipconfig") {
            stdout = "\r\nWindows IP Configuration\r\n\r\n   Primary Dns Suffix  . . . . . . . : corp.example\r\n"
                + "   Node Type . . . . . . . . . . . . : " + (j % 19 == 0 ? "Peer-Peer" : "Hybrid") + "\r\n"
                + "   IP Routing Enabled. . . . . . . . : No\r\n"
        } else {
            stdout = j % 19 == 0 ? "Status: Stopped\r\n" : "Status: Running\r\n"
        }
        return RunHostRow(name: host.name, route: host.route, state: .done, exitCode: 0, duration: duration, stdout: stdout)
    }

    // MARK: ConsoleEngine

    public func snapshot() -> FleetSnapshot {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    public func setUpdateHandler(_ handler: @escaping @Sendable () -> Void) {
        lock.lock()
        self.handler = handler
        lock.unlock()
    }

    private func update(_ change: () -> Void) {
        lock.lock()
        change()
        current.version &+= 1
        let handler = self.handler
        lock.unlock()
        handler?()
    }

    public func startRun(command: String, powershell: Bool, hosts names: [String]) {
        update {
            calls.append("startRun\(powershell ? " ps" : "") \(command) \(names.count)")
            var routeOf: [String: String] = [:]
            for host in current.hosts { routeOf[host.name] = host.route }
            let rows = names.map { RunHostRow(name: $0, route: routeOf[$0] ?? "direct", state: .queued) }
            current.run = RunProgress(id: nextRunID, command: command, isPowerShell: powershell, startedAt: now,
                                      hosts: rows, throttle: throttle, isActive: !rows.isEmpty)
            nextRunID += 1
            scheduleRunning()
        }
    }

    /// Moves the first `throttle` unfinished hosts to connecting/running (and their sessions to busy).
    private func scheduleRunning() {
        guard var run = current.run else { return }
        var slots = run.throttle
        var busy: Set<String> = []
        for index in run.hosts.indices where !run.hosts[index].state.isFinished {
            guard slots > 0 else { break }
            if run.hosts[index].state == .queued {
                run.hosts[index].state = index % 3 == 0 ? .connecting : .running
            }
            busy.insert(run.hosts[index].name)
            slots -= 1
        }
        current.run = run
        setSessions(busy: busy)
    }

    private var busyHosts: Set<String> = []
    private var hostIndex: [String: Int] = [:]

    private func setSessions(busy: Set<String>) {
        if hostIndex.isEmpty { for (index, host) in current.hosts.enumerated() { hostIndex[host.name] = index } }
        for name in busyHosts.subtracting(busy) {
            if let index = hostIndex[name], current.hosts[index].session == .busy, current.hosts[index].lastError == nil {
                current.hosts[index].session = .idle
            }
        }
        for name in busy.subtracting(busyHosts) {
            if let index = hostIndex[name], current.hosts[index].lastError == nil { current.hosts[index].session = .busy }
        }
        busyHosts = busy
    }

    /// Finishes the next `n` unfinished hosts of the run (in order), with deterministic results.
    public func advance(results n: Int) {
        update {
            guard var run = current.run, run.isActive else { return }
            var remaining = n
            if hostIndex.isEmpty { for (index, host) in current.hosts.enumerated() { hostIndex[host.name] = index } }
            for index in run.hosts.indices where !run.hosts[index].state.isFinished {
                guard remaining > 0 else { break }
                let row = run.hosts[index]
                let host = hostIndex[row.name].map { current.hosts[$0] } ?? HostRow(name: row.name, address: "", port: 5985, groups: [],
                                                       transport: "http", auth: "negotiate", route: row.route,
                                                       session: .idle)
                run.hosts[index] = Self.result(for: host, position: index, command: run.command)
                remaining -= 1
            }
            if run.hosts.allSatisfy(\.state.isFinished) { finish(&run, status: "done") }
            current.run = run
            scheduleRunning()
        }
    }

    private func finish(_ run: inout RunProgress, status: String) {
        run.isActive = false
        let summary = RunSummary(run.hosts)
        let id = run.id ?? 0
        historyRows[id] = run.hosts
        current.history.append(HistoryEntry(id: id, command: run.command, target: "\(run.hosts.count) hosts",
                                            startedAt: run.startedAt, status: status, hostCount: run.hosts.count,
                                            ok: summary.ok, failed: summary.perState[.failed] ?? 0,
                                            errors: summary.failed - (summary.perState[.failed] ?? 0)))
    }

    /// Advances the run on a timer (for demos): `perTick` results every `interval` seconds.
    public func startAutoAdvance(every interval: TimeInterval, results perTick: Int) {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "FakeEngine.autoAdvance"))
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.advance(results: perTick) }
        timer.resume()
        lock.lock()
        self.timer?.cancel()
        self.timer = timer
        lock.unlock()
    }

    public func resolveTarget(_ expression: String) throws -> [String] {
        let names = snapshot().hosts
        var result: [String] = []
        var seen: Set<String> = []
        for term in Self.splitTerms(expression) {
            let matches: [String]
            if term.hasPrefix("@") {
                let group = String(term.dropFirst())
                matches = names.filter { $0.groups.contains(group) }.map(\.name)
            } else if term.hasPrefix("route:") {
                let route = String(term.dropFirst(6))
                matches = names.filter { $0.route == route }.map(\.name)
            } else {
                let patterns = Self.expandBrackets(term)
                matches = names.filter { host in patterns.contains { Self.glob($0, host.name) } }.map(\.name)
            }
            if matches.isEmpty {
                throw FakeEngineError(description: "\"\(term)\" matches no host (use NAME, NAME[01-20], @GROUP or route:NAME)")
            }
            for name in matches where seen.insert(name).inserted { result.append(name) }
        }
        lock.lock()
        calls.append("resolveTarget \(expression)")
        lock.unlock()
        return result
    }

    static func splitTerms(_ expression: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var depth = 0
        for character in expression {
            if character == "[" { depth += 1 }
            if character == "]" { depth -= 1 }
            if character == "," && depth == 0 {
                if !current.isEmpty { terms.append(current) }
                current = ""
            } else if character != " " {
                current.append(character)
            }
        }
        if !current.isEmpty { terms.append(current) }
        return terms
    }

    /// `win[0001-0003,0005]` → win0001, win0002, win0003, win0005 (one bracket).
    static func expandBrackets(_ term: String) -> [String] {
        guard let open = term.firstIndex(of: "["), let close = term.firstIndex(of: "]"), open < close else { return [term] }
        let prefix = String(term[..<open])
        let suffix = String(term[term.index(after: close)...])
        var names: [String] = []
        for part in term[term.index(after: open)..<close].split(separator: ",") {
            let bounds = part.split(separator: "-")
            if bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]), low <= high, high - low < 100_000 {
                let width = bounds[0].count
                for value in low...high {
                    let digits = String(value)
                    names.append(prefix + String(repeating: "0", count: max(0, width - digits.count)) + digits + suffix)
                }
            } else {
                names.append(String(prefix) + String(part) + String(suffix))
            }
        }
        return names
    }

    static func glob(_ pattern: String, _ text: String) -> Bool {
        if !pattern.contains("*") && !pattern.contains("?") { return pattern == text }
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                pi += 1
                ti += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    public func cancel(host: String) {
        update {
            calls.append("cancel \(host)")
            guard var run = current.run, run.isActive,
                  let index = run.hosts.firstIndex(where: { $0.name == host && !$0.state.isFinished }) else { return }
            run.hosts[index].state = .cancelled
            if run.hosts.allSatisfy(\.state.isFinished) { finish(&run, status: "done") }
            current.run = run
            scheduleRunning()
        }
    }

    public func cancelRun() {
        update {
            calls.append("cancelRun")
            guard var run = current.run, run.isActive else { return }
            for index in run.hosts.indices where !run.hosts[index].state.isFinished { run.hosts[index].state = .cancelled }
            finish(&run, status: "cancelled")
            current.run = run
            setSessions(busy: [])
        }
    }

    public func setThrottle(_ n: Int) {
        update {
            calls.append("setThrottle \(n)")
            throttle = n
            current.run?.throttle = n
            scheduleRunning()
        }
    }

    public func openHistoryRun(id: Int64) -> [RunHostRow] {
        lock.lock()
        defer { lock.unlock() }
        calls.append("openHistoryRun \(id)")
        return historyRows[id] ?? []
    }

    public func pendingSummary() -> String {
        let run = snapshot().run
        guard let run, run.isActive else { return "nothing pending" }
        let running = run.hosts.filter { $0.state == .running || $0.state == .connecting }.map(\.name)
        let queued = run.hosts.filter { $0.state == .queued }.count
        return "pending: \(running.count) running (\(DisplayWidth.truncate(HostSetFolding.fold(running), to: 40))), "
            + "\(queued) queued"
    }
}
