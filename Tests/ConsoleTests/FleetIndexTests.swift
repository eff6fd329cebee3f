import XCTest
@testable import Console

/// The incremental fleet index must give exactly what a fresh computation gives.
final class FleetIndexTests: XCTestCase {
    private func fresh(_ state: ConsoleState, _ snapshot: FleetSnapshot) -> FleetRows {
        var copy = ConsoleState()
        copy.filter = state.filter
        copy.faultsOnly = state.faultsOnly
        copy.fleetSort = state.fleetSort
        return copy.fleetRows(snapshot)
    }

    func testCachedRowsEqualFreshRowsThroughUpdatesFiltersAndSorts() {
        let engine = FakeEngine(hostCount: 500)
        var state = ConsoleState()
        engine.startRun(command: "hostname", powershell: false, hosts: engine.snapshot().hosts.prefix(200).map(\.name))
        let filters = ["", "busy", "!idle", "dmz|東京", "auth"]
        for step in 0..<12 {
            engine.advance(results: 17)
            state.filter = filters[step % filters.count]
            state.faultsOnly = step % 3 == 0
            if step % 4 == 0 { state.fleetSort = state.fleetSort.next() }
            let snapshot = engine.snapshot()
            let cached = state.fleetRows(snapshot)
            let expected = fresh(state, snapshot)
            XCTAssertEqual(cached.items, expected.items, "step \(step)")
            XCTAssertEqual(cached.shownPerRoute, expected.shownPerRoute)
        }
    }

    func testFilterMatchesSessionStateChanges() {
        let engine = FakeEngine(hostCount: 100)
        var state = ConsoleState()
        state.filter = "busy"
        let before = state.fleetRows(engine.snapshot()).visibleHosts
        engine.startRun(command: "hostname", powershell: false, hosts: engine.snapshot().hosts.map(\.name))
        let after = state.fleetRows(engine.snapshot()).visibleHosts
        XCTAssertGreaterThan(after, before, "hosts that became busy now match")
    }

    func testSortsByEachColumn() {
        let engine = FakeEngine(hostCount: 60)
        var state = ConsoleState()
        let snapshot = engine.snapshot()
        for column in FleetColumn.allCases {
            state.fleetSort = SortOrder(column)
            let rows = state.fleetRows(snapshot)
            XCTAssertEqual(rows.visibleHosts, 60, "\(column)")
            if column == .session {
                let ranks = rows.hostOrder.filter { snapshot.hosts[$0].route == "dmz-squid" }
                    .map { FleetIndex.sessionRank(snapshot.hosts[$0].session) }
                XCTAssertEqual(ranks, ranks.sorted())
            }
        }
    }
}
