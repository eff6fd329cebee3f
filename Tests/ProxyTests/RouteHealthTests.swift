@testable import Fleet
import Foundation
import WinRMTransport
import XCTest

/// The pure `RouteHealth` reducer: engine updates in, per-route figures out.
final class RouteHealthTests: XCTestCase {
    private let start = Date(timeIntervalSince1970: 1_800_000_000)

    private func result(_ host: String, _ route: String, _ status: HostStatus, _ kind: WinRMErrorKind? = nil,
                        exit: Int32? = nil) -> HostResult {
        HostResult(host: host, route: route, status: status, exitCode: exit,
                   error: kind.map { WinRMError($0, "\(host) failed with \($0.rawValue)") },
                   startedAt: start, duration: 0.5)
    }

    private func affinityLost(_ host: String, _ route: String) -> RunUpdate {
        .sessionEvent(SessionEvent(host: host, route: route, at: start, kind: .affinityLost, detail: "local port 1 → 2"))
    }

    func testStartsWithEveryRouteAndItsHostCountAtZero() {
        let health = RouteHealth(hostRoutes: ["web1": "squid", "web2": "squid", "db1": "direct"])
        XCTAssertEqual(health.sortedRoutes.map(\.route), ["direct", "squid"])
        XCTAssertEqual(health["squid"]?.hostCount, 2)
        XCTAssertEqual(health["squid"]?.hostsOK, 0)
        XCTAssertEqual(health["squid"]?.verdict, "unknown")
        XCTAssertNil(health["squid"]?.latestRTT)
    }

    func testCountsEachErrorKindOnItsRoute() {
        var health = RouteHealth(hostRoutes: ["a": "squid", "b": "squid", "c": "squid", "d": "squid", "e": "squid", "f": "squid", "g": "tiny"])
        health.apply(.result(result("a", "squid", .ok, exit: 0)), roundTrip: 0.004)
        health.apply(.result(result("b", "squid", .failed, exit: 3)))
        health.apply(.result(result("c", "squid", .error, .auth)))
        health.apply(.result(result("d", "squid", .error, .affinity)))
        health.apply(.result(result("e", "squid", .error, .proxy)))
        health.apply(.result(result("f", "squid", .error, .proxyAuth)))
        health.apply(.result(result("g", "tiny", .timeout, .timeout)))
        let squid = try! XCTUnwrap(health["squid"])
        XCTAssertEqual(squid.hostsOK, 2, "a command that ran and exited non-zero still proves the route works")
        XCTAssertEqual(squid.authErrors, 1)
        XCTAssertEqual(squid.affinityErrors, 1)
        XCTAssertEqual(squid.proxyErrors, 2, "proxy errors include proxy authentication refusals")
        XCTAssertEqual(squid.proxyAuthErrors, 1)
        XCTAssertEqual(squid.latestRTT, 0.004)
        XCTAssertEqual(squid.verdict, "degraded")
        XCTAssertEqual(squid.lastError, "f: proxy_auth: f failed with proxy_auth")
        XCTAssertEqual(health["tiny"]?.otherErrors, 1)
        XCTAssertEqual(health["tiny"]?.verdict, "failing")
    }

    func testAHostCountsOnceUnderItsLatestOutcome() {
        var health = RouteHealth(hostRoutes: ["a": "squid"])
        health.apply(.result(result("a", "squid", .error, .affinity)), roundTrip: 0.010)
        XCTAssertEqual(health["squid"]?.affinityErrors, 1)
        health.apply(.result(result("a", "squid", .ok, exit: 0)), roundTrip: 0.002)
        XCTAssertEqual(health["squid"]?.affinityErrors, 0)
        XCTAssertEqual(health["squid"]?.hostsOK, 1)
        XCTAssertEqual(health["squid"]?.latestRTT, 0.002)
        XCTAssertEqual(health["squid"]?.verdict, "ok")
        // A result without a round trip keeps the last known one.
        health.apply(.result(result("a", "squid", .ok, exit: 0)), roundTrip: nil)
        XCTAssertEqual(health["squid"]?.latestRTT, 0.002)
    }

    func testCancelledRunDoesNotEraseWhatAHostShowed() {
        var health = RouteHealth(hostRoutes: ["a": "squid", "b": "squid"])
        health.apply(.result(result("a", "squid", .error, .auth)))
        health.apply(.result(result("a", "squid", .cancelled)))
        health.apply(.result(result("b", "squid", .cancelled)))
        XCTAssertEqual(health["squid"]?.authErrors, 1)
        XCTAssertEqual(health["squid"]?.failingHosts, 1)
        XCTAssertEqual(health["squid"]?.outcomes["b"], .cancelled)
    }

    func testAffinityLostEventsAreCountedEvenWhenRecovered() {
        var health = RouteHealth(hostRoutes: ["a": "fwd"])
        health.apply(affinityLost("a", "fwd"))
        health.apply(affinityLost("a", "fwd"))
        health.apply(.result(result("a", "fwd", .ok, exit: 0)))
        XCTAssertEqual(health["fwd"]?.affinityLostEvents, 2)
        XCTAssertEqual(health["fwd"]?.affinityErrors, 0)
        XCTAssertEqual(health["fwd"]?.hostsOK, 1)
    }

    func testOtherUpdatesChangeNothing() {
        var health = RouteHealth(hostRoutes: ["a": "squid"])
        let before = health
        health.apply(.runStarted(runID: 1, hosts: ["a"], iteration: 1))
        health.apply(.hostState(host: "a", state: .running))
        health.apply(.sessionState(host: "a", state: .busy))
        health.apply(.output(host: "a", stdout: Data("x".utf8), stderr: Data()))
        health.apply(.storeProblem("disk full"))
        health.apply(.sessionEvent(SessionEvent(host: "a", route: "squid", at: start, kind: .authOK, detail: "ntlm")))
        health.apply(.runFinished(runID: 1, results: [], cancelled: false))
        XCTAssertEqual(health, before)
    }

    func testHostsUnknownAtTheStartAreAddedAndMovedBetweenRoutes() {
        var health = RouteHealth()
        health.apply(.result(result("a", "squid", .ok, exit: 0)))
        XCTAssertEqual(health["squid"]?.hostCount, 1)
        // The inventory was reloaded with the host on another route.
        health.apply(.result(result("a", "tiny", .error, .affinity)))
        XCTAssertEqual(health["squid"]?.hostCount, 0)
        XCTAssertEqual(health["squid"]?.hostsOK, 0)
        XCTAssertEqual(health["tiny"]?.hostCount, 1)
        XCTAssertEqual(health["tiny"]?.affinityErrors, 1)
    }
}
