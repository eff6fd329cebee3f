// The fleet table's rows, derived from the snapshot: filtered, sorted within each route, with a header row
// per route. With 10,000 hosts this runs on every keystroke and every engine update, so it is incremental:
// the per-host match text and the name order are rebuilt only when the inventory changes, a host's match
// result only when its text (session state, error) changes, everything only when the filter changes.
// The result is the same as a fresh computation (tested); the cache is a memo, not state.

/// One row of the fleet table.
public enum FleetItem: Hashable, Sendable {
    /// A route header row: index into `FleetRows.routeNames`.
    case route(Int)
    /// A host row: index into `FleetSnapshot.hosts`.
    case host(Int)
}

public struct FleetRows: Sendable {
    public var items: [FleetItem] = []
    public var routeNames: [String] = []
    /// Per route (parallel to `routeNames`): hosts shown and hosts in the inventory.
    public var shownPerRoute: [Int] = []
    public var totalPerRoute: [Int] = []
    public var visibleHosts = 0
    /// Host indexes in display order (what "the filtered hosts" means for a run target).
    public var hostOrder: [Int] = []
    /// The widest host name, for the column width.
    public var nameWidth = 4
}

final class FleetIndex {
    private var baseHosts: [HostRow] = []
    private var staticTexts: [String] = []
    private var matchTexts: [String] = []
    private var nameRank: [Int] = []
    private var byName: [Int] = []
    private var routeNames: [String] = []
    private var routeOfHost: [Int] = []
    private var nameWidth = 4
    private var filterRaw: String?
    private var matches: [Bool] = []
    private var staticSortCache: [FleetColumn: [Int]] = [:]

    private var lastVersion: UInt64?
    private var lastFilter = ""
    private var lastFaultsOnly = false
    private var lastSort = SortOrder(FleetColumn.host)
    private var lastRows = FleetRows()

    func rows(_ snapshot: FleetSnapshot, filter: RowFilter, faultsOnly: Bool, sort: SortOrder<FleetColumn>) -> FleetRows {
        if lastVersion == snapshot.version, lastFilter == filter.raw, lastFaultsOnly == faultsOnly, lastSort == sort {
            return lastRows
        }
        let changed = refresh(snapshot)
        updateMatches(filter: filter, changed: changed)
        let rows = build(snapshot, faultsOnly: faultsOnly, sort: sort)
        lastVersion = snapshot.version
        lastFilter = filter.raw
        lastFaultsOnly = faultsOnly
        lastSort = sort
        lastRows = rows
        return rows
    }

    // MARK: inventory

    private static func sameInventoryEntry(_ a: HostRow, _ b: HostRow) -> Bool {
        a.name == b.name && a.route == b.route && a.address == b.address && a.port == b.port && a.groups == b.groups
            && a.transport == b.transport && a.auth == b.auth && a.mechanism == b.mechanism
    }

    private static func staticText(_ host: HostRow) -> String {
        var text = host.name + " " + host.address + " " + host.groups.joined(separator: ",") + " " + host.route
        text += " " + host.transport + "/" + host.auth
        if let mechanism = host.mechanism { text += "/" + mechanism }
        return text
    }

    private static func matchText(_ host: HostRow, staticText: String) -> String {
        var text = staticText + " " + host.session.rawValue
        if let error = host.lastError { text += " " + error.kind + " " + error.message }
        return text
    }

    /// Brings the per-host caches up to date. Returns the hosts whose match text changed, or nil when
    /// everything was rebuilt.
    private func refresh(_ snapshot: FleetSnapshot) -> [Int]? {
        let hosts = snapshot.hosts
        var inventoryChanged = hosts.count != baseHosts.count
        if !inventoryChanged {
            for index in hosts.indices where !Self.sameInventoryEntry(hosts[index], baseHosts[index]) {
                inventoryChanged = true
                break
            }
        }
        var routes = snapshot.routes.map(\.name)
        if inventoryChanged || routes != Array(routeNames.prefix(routes.count)) {
            rebuild(snapshot, routes: &routes)
            return nil
        }
        var changed: [Int] = []
        for index in hosts.indices {
            let old = baseHosts[index]
            let new = hosts[index]
            if old.session != new.session || old.lastError != new.lastError {
                matchTexts[index] = Self.matchText(new, staticText: staticTexts[index])
                changed.append(index)
            }
        }
        baseHosts = hosts
        return changed
    }

    private func rebuild(_ snapshot: FleetSnapshot, routes: inout [String]) {
        let hosts = snapshot.hosts
        baseHosts = hosts
        staticTexts = hosts.map(Self.staticText)
        matchTexts = hosts.indices.map { Self.matchText(hosts[$0], staticText: staticTexts[$0]) }
        byName = Array(hosts.indices).sorted { NaturalOrder.less(hosts[$0].name, hosts[$1].name) }
        nameRank = Array(repeating: 0, count: hosts.count)
        for (rank, index) in byName.enumerated() { nameRank[index] = rank }
        var routeIndex: [String: Int] = [:]
        for (index, name) in routes.enumerated() where routeIndex[name] == nil { routeIndex[name] = index }
        routeOfHost = hosts.map { host in
            if let index = routeIndex[host.route] { return index }
            routes.append(host.route)
            routeIndex[host.route] = routes.count - 1
            return routes.count - 1
        }
        routeNames = routes
        nameWidth = max(4, hosts.lazy.map { DisplayWidth.of($0.name) }.max() ?? 4)
        staticSortCache = [:]
        filterRaw = nil
    }

    // MARK: filter

    private func updateMatches(filter: RowFilter, changed: [Int]?) {
        if filterRaw != filter.raw || changed == nil || matches.count != matchTexts.count {
            if filter.isActive {
                matches = matchTexts.map(filter.matches)
            } else {
                matches = Array(repeating: true, count: matchTexts.count)
            }
            filterRaw = filter.raw
            return
        }
        guard filter.isActive, let changed else { return }
        for index in changed { matches[index] = filter.matches(matchTexts[index]) }
    }

    // MARK: order

    private func order(_ hosts: [HostRow], sort: SortOrder<FleetColumn>) -> [Int] {
        let rank = nameRank
        func byKey<K: Comparable>(_ key: (HostRow) -> K) -> [Int] {
            let keys = hosts.map(key)
            return Array(hosts.indices).sorted { keys[$0] != keys[$1] ? keys[$0] < keys[$1] : rank[$0] < rank[$1] }
        }
        var result: [Int]
        switch sort.column {
        case .host:
            result = byName
        case .address, .groups, .transport:
            if let cached = staticSortCache[sort.column] {
                result = cached
            } else {
                switch sort.column {
                case .address: result = byKey { AddressKey($0.address) }
                case .groups: result = byKey { $0.groups.joined(separator: ",").lowercased() }
                default: result = byKey { $0.transport + "/" + ($0.mechanism ?? $0.auth) }
                }
                staticSortCache[sort.column] = result
            }
        case .session:
            result = byKey { FleetIndex.sessionRank($0.session) }
        case .rtt:
            // Unknown RTT sorts last.
            result = byKey { $0.lastRTTms ?? Double.greatestFiniteMagnitude }
        case .error:
            // Hosts with errors first, grouped by kind.
            result = byKey { $0.lastError.map { "0" + $0.kind + " " + $0.message } ?? "1" }
        }
        return sort.ascending ? result : result.reversed()
    }

    static func sessionRank(_ state: SessionState) -> Int {
        switch state {
        case .broken: return 0
        case .reconnecting: return 1
        case .connecting: return 2
        case .busy: return 3
        case .authenticated: return 4
        case .idle: return 5
        case .none: return 6
        }
    }

    private func build(_ snapshot: FleetSnapshot, faultsOnly: Bool, sort: SortOrder<FleetColumn>) -> FleetRows {
        let hosts = snapshot.hosts
        let ordered = order(hosts, sort: sort)
        var buckets = Array(repeating: [Int](), count: routeNames.count)
        var totals = Array(repeating: 0, count: routeNames.count)
        for index in ordered {
            let route = routeOfHost[index]
            totals[route] += 1
            if matches[index] && (!faultsOnly || hosts[index].isFaulty) { buckets[route].append(index) }
        }
        var rows = FleetRows()
        rows.routeNames = routeNames
        rows.totalPerRoute = totals
        rows.shownPerRoute = buckets.map(\.count)
        rows.nameWidth = nameWidth
        rows.items.reserveCapacity(hosts.count + routeNames.count)
        rows.hostOrder.reserveCapacity(hosts.count)
        for (route, bucket) in buckets.enumerated() {
            // Routes with no host left after filtering are not shown; an empty inventory route still is.
            if bucket.isEmpty && totals[route] > 0 { continue }
            rows.items.append(.route(route))
            for index in bucket {
                rows.items.append(.host(index))
                rows.hostOrder.append(index)
            }
        }
        rows.visibleHosts = rows.hostOrder.count
        return rows
    }
}

/// Sorts IPv4 addresses numerically, anything else as text after them.
struct AddressKey: Comparable {
    let numeric: [Int]
    let text: String

    init(_ address: String) {
        let parts = address.split(separator: ".")
        let numbers = parts.compactMap { Int($0) }
        numeric = parts.count == 4 && numbers.count == 4 ? numbers : []
        text = address.lowercased()
    }

    static func < (lhs: AddressKey, rhs: AddressKey) -> Bool {
        if lhs.numeric.isEmpty != rhs.numeric.isEmpty { return !lhs.numeric.isEmpty }
        if lhs.numeric != rhs.numeric { return lhs.numeric.lexicographicallyPrecedes(rhs.numeric) }
        return lhs.text < rhs.text
    }
}
