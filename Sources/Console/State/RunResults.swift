import Foundation

// Derived views of a run's per-host rows: the filtered and sorted table, the exit-code / error-kind summary
// and the clush -b style groups. All pure; `DerivedCache` memoizes them per snapshot version.

public struct RunSummary: Equatable, Sendable {
    public var total = 0
    public var finished = 0
    public var ok = 0
    /// Finished without success: non-zero exit, error, time-out, cancelled.
    public var failed = 0
    public var perState: [RunHostState: Int] = [:]
    /// Exit code → hosts, for hosts that returned one.
    public var perExitCode: [Int32: Int] = [:]
    /// Error kind → hosts ("timeout" and "cancelled" included for timed-out / cancelled hosts).
    public var perErrorKind: [String: Int] = [:]

    public init(_ rows: [RunHostRow]) {
        total = rows.count
        for row in rows {
            perState[row.state, default: 0] += 1
            if row.state.isFinished { finished += 1 }
            if let code = row.exitCode, row.state == .done || row.state == .failed { perExitCode[code, default: 0] += 1 }
            if let error = row.error {
                perErrorKind[error.kind, default: 0] += 1
            } else if row.state == .timedOut {
                perErrorKind["timeout", default: 0] += 1
            } else if row.state == .cancelled {
                perErrorKind["cancelled", default: 0] += 1
            }
            if row.state.isFinished {
                if row.needsRerun { failed += 1 } else { ok += 1 }
            }
        }
    }

    /// "0×400  1×10  5×2".
    public var exitCodeText: String {
        perExitCode.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: "  ")
    }

    /// "auth 2  timeout 1", in the standard kind order.
    public var errorKindText: String {
        let order = ErrorExplanation.kindOrder + ["cancelled"]
        return perErrorKind.sorted { a, b in
            let ia = order.firstIndex(of: a.key) ?? order.count
            let ib = order.firstIndex(of: b.key) ?? order.count
            return ia != ib ? ia < ib : a.key < b.key
        }.map { "\($0.key) \($0.value)" }.joined(separator: "  ")
    }
}

/// One group of identical results (clush -b): same state and exit code and same output.
public struct ResultGroup: Equatable, Sendable {
    public var hosts: [String]
    public var state: RunHostState
    public var exitCode: Int32?
    public var stdout: String
    /// Only when stderr takes part in the comparison.
    public var stderr: String?
    public var error: ErrorInfo?

    /// `win[0001-0040,0042] (41)`.
    public var hostSet: String { HostSetFolding.foldWithCount(hosts) }
}

public enum RunResults {
    /// The text the `/` filter sees for a run row.
    public static func matchText(_ row: RunHostRow) -> String {
        var text = row.name + " " + row.route + " " + row.state.label
        if let code = row.exitCode { text += " rc=\(code)" }
        if let error = row.error { text += " " + error.kind + " " + error.message }
        text += " " + firstLine(row)
        return text
    }

    /// The line the run table shows: the error, else the first stdout line, else the first stderr line.
    public static func firstLine(_ row: RunHostRow) -> String {
        if let error = row.error { return error.kind + ": " + error.message }
        let out = TerminalText.firstLine(row.stdout)
        if !out.isEmpty { return out }
        return TerminalText.firstLine(row.stderr)
    }

    public static func filtered(_ rows: [RunHostRow], filter: RowFilter, faultsOnly: Bool, sort: SortOrder<RunColumn>) -> [Int] {
        var indexes = rows.indices.filter { index in
            let row = rows[index]
            if faultsOnly && !(row.needsRerun || row.error != nil) { return false }
            return !filter.isActive || filter.matches(matchText(row))
        }
        func compare(_ a: Int, _ b: Int) -> Bool {
            let x = rows[a], y = rows[b]
            switch sort.column {
            case .host: break
            case .route: if x.route != y.route { return x.route < y.route }
            case .state:
                let rx = stateRank(x.state), ry = stateRank(y.state)
                if rx != ry { return rx < ry }
            case .exit:
                let cx = x.exitCode.map(Int.init) ?? Int.max, cy = y.exitCode.map(Int.init) ?? Int.max
                if cx != cy { return cx < cy }
            case .duration:
                let dx = x.duration ?? -1, dy = y.duration ?? -1
                if dx != dy { return dx > dy }
            case .output:
                let ox = firstLine(x), oy = firstLine(y)
                if ox != oy { return ox < oy }
            }
            return NaturalOrder.less(x.name, y.name)
        }
        indexes.sort(by: compare)
        return sort.ascending ? indexes : indexes.reversed()
    }

    static func stateRank(_ state: RunHostState) -> Int {
        switch state {
        case .error: return 0
        case .failed: return 1
        case .timedOut: return 2
        case .cancelled: return 3
        case .running: return 4
        case .connecting: return 5
        case .queued: return 6
        case .done: return 7
        }
    }

    /// Groups finished rows with identical results; unfinished rows are returned apart.
    /// Largest group first; ties by first host name.
    public static func groups(_ rows: [RunHostRow], includeStderr: Bool) -> (groups: [ResultGroup], pending: [String]) {
        struct GroupKey: Hashable {
            let state: RunHostState
            let exitCode: Int32?
            let stdout: String
            let stderr: String?
            let error: ErrorInfo?
        }
        var order: [GroupKey] = []
        var members: [GroupKey: [String]] = [:]
        var pending: [String] = []
        for row in rows {
            guard row.state.isFinished else {
                pending.append(row.name)
                continue
            }
            let key: GroupKey
            switch row.state {
            case .done, .failed:
                key = GroupKey(state: row.state, exitCode: row.exitCode, stdout: row.stdout,
                               stderr: includeStderr ? row.stderr : nil, error: nil)
            case .timedOut, .cancelled:
                key = GroupKey(state: row.state, exitCode: nil, stdout: "", stderr: nil, error: nil)
            default:
                key = GroupKey(state: row.state, exitCode: nil, stdout: "", stderr: nil, error: row.error)
            }
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(row.name)
        }
        var groups = order.map { key in
            ResultGroup(hosts: members[key]!.sorted(by: NaturalOrder.less), state: key.state, exitCode: key.exitCode,
                        stdout: key.stdout, stderr: key.stderr, error: key.error)
        }
        groups.sort { a, b in
            a.hosts.count != b.hosts.count ? a.hosts.count > b.hosts.count : NaturalOrder.less(a.hosts[0], b.hosts[0])
        }
        return (groups, pending.sorted(by: NaturalOrder.less))
    }
}

/// Memo of derivations the renderers and the key handler both need. Keyed by everything they depend on,
/// so a hit returns exactly what a fresh computation would.
public final class DerivedCache: @unchecked Sendable {
    let fleet = FleetIndex()
    var lastFilter: RowFilter?

    private struct RunKey: Equatable {
        let source: UInt64
        let version: UInt64
        let filter: String
        let faultsOnly: Bool
        let sort: SortOrder<RunColumn>
    }
    private var runKey: RunKey?
    private var runValue: [Int] = []

    private struct GroupsKey: Equatable {
        let source: UInt64
        let version: UInt64
        let filter: String
        let includeStderr: Bool
    }
    private var groupsKey: GroupsKey?
    private var groupsValue: (groups: [ResultGroup], pending: [String]) = ([], [])

    private struct SummaryKey: Equatable {
        let source: UInt64
        let version: UInt64
    }
    private var summaryKey: SummaryKey?
    private var summaryValue = RunSummary([])

    public init() {}

    func runRows(_ rows: [RunHostRow], source: UInt64, version: UInt64, filter: RowFilter, faultsOnly: Bool,
                 sort: SortOrder<RunColumn>) -> [Int] {
        let key = RunKey(source: source, version: version, filter: filter.raw, faultsOnly: faultsOnly, sort: sort)
        if key == runKey { return runValue }
        runValue = RunResults.filtered(rows, filter: filter, faultsOnly: faultsOnly, sort: sort)
        runKey = key
        return runValue
    }

    func groups(_ rows: [RunHostRow], source: UInt64, version: UInt64, filter: RowFilter, includeStderr: Bool)
        -> (groups: [ResultGroup], pending: [String]) {
        let key = GroupsKey(source: source, version: version, filter: filter.raw, includeStderr: includeStderr)
        if key == groupsKey { return groupsValue }
        let shown = filter.isActive ? rows.filter { filter.matches(RunResults.matchText($0)) } : rows
        groupsValue = RunResults.groups(shown, includeStderr: includeStderr)
        groupsKey = key
        return groupsValue
    }

    func summary(_ rows: [RunHostRow], source: UInt64, version: UInt64) -> RunSummary {
        let key = SummaryKey(source: source, version: version)
        if key == summaryKey { return summaryValue }
        summaryValue = RunSummary(rows)
        summaryKey = key
        return summaryValue
    }
}
