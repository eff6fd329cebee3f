@testable import Fleet
import Foundation
import Inventory
import WinRMTransport
import XCTest

/// The pure part of `check`: which stage an error belongs to, what the stages around it show,
/// and how hosts fold into route lines and a verdict.
final class RouteCheckStageTests: XCTestCase {
    private let proxy = ProxyURL(scheme: .http, host: "127.0.0.1", port: 3128)
    private lazy var tunnel = EffectiveRoute(routeName: "squid", proxy: proxy, mode: .tunnel, explanation: "via squid 127.0.0.1:3128 (tunnel)")
    private lazy var tunnelWithAuth = EffectiveRoute(routeName: "squid-auth", proxy: proxy, mode: .tunnel, proxyAuth: .basic,
                                                     proxyCredential: "px", explanation: "via squid-auth 127.0.0.1:3128 (tunnel, basic auth)")
    private lazy var forward = EffectiveRoute(routeName: "fwd", proxy: proxy, mode: .forward, explanation: "via fwd 127.0.0.1:3128 (forward)")
    private let direct = EffectiveRoute(routeName: "direct")
    private let ntlmHost = InventoryHost(name: "web1", address: "127.1.20.1", transport: .http, auth: .ntlm)
    private let basicHost = InventoryHost(name: "web2", address: "127.1.20.2", transport: .https, auth: .basic)

    func testEachErrorKindFallsOnItsStage() {
        func stage(_ kind: WinRMErrorKind, code: String? = nil, authenticated: Bool = false, opened: Bool = false) -> RouteCheckStage {
            RouteCheck.stage(of: WinRMError(kind, "x", code: code), authenticated: authenticated, shellOpened: opened)
        }
        XCTAssertEqual(stage(.proxy, code: "curl:7"), .proxyReachable, "a curl code: the proxy itself was not reached")
        XCTAssertEqual(stage(.proxy, code: "tcp"), .proxyReachable)
        XCTAssertEqual(stage(.proxy, code: "403"), .connect, "an HTTP status: the proxy answered, the CONNECT was refused")
        XCTAssertEqual(stage(.proxy, code: "503"), .connect)
        XCTAssertEqual(stage(.proxyAuth, code: "407"), .proxyAuth)
        XCTAssertEqual(stage(.tls), .connect)
        XCTAssertEqual(stage(.network), .connect)
        XCTAssertEqual(stage(.auth, code: "401"), .hostAuth)
        XCTAssertEqual(stage(.affinity), .affinity)
        XCTAssertEqual(stage(.network, authenticated: true), .affinity, "after the handshake a lost connection is an affinity matter")
        XCTAssertEqual(stage(.protocol), .hostAuth)
        XCTAssertEqual(stage(.auth, opened: true), .affinity, "any failure during the sealed requests fails that stage")
    }

    func testStagesBeforeTheFailurePassAndAfterItAreNotReached() {
        let error = WinRMError(.auth, "refused", code: "401")
        let stages = RouteCheck.stages(after: error, at: .hostAuth, host: ntlmHost, route: tunnel, authenticated: false)
        XCTAssertTrue(stages[.proxyReachable]!.isPassed)
        XCTAssertEqual(stages[.proxyAuth]!.status, "n/a", "the route sends no proxy credentials")
        XCTAssertEqual(stages[.connect], .passed("CONNECT 127.1.20.1:5985 allowed"))
        XCTAssertEqual(stages[.hostAuth], .failed(error))
        XCTAssertEqual(stages[.affinity], .notReached)
    }

    func testDirectRoutesHaveNoProxyStages() {
        let error = WinRMError(.network, "cannot connect", code: "curl:7")
        let stages = RouteCheck.stages(after: error, at: .connect, host: ntlmHost, route: direct, authenticated: false)
        XCTAssertEqual(stages[.proxyReachable], .notApplicable("direct"))
        XCTAssertEqual(stages[.proxyAuth], .notApplicable("direct"))
        XCTAssertEqual(stages[.connect], .failed(error))
        XCTAssertEqual(stages[.hostAuth], .notReached)
    }

    func testA407WithoutProxyAuthConfiguredFailsTheProxyAuthStage() {
        let error = WinRMError(.proxyAuth, "requires authentication", code: "407")
        let stages = RouteCheck.stages(after: error, at: .proxyAuth, host: basicHost, route: tunnel, authenticated: false)
        XCTAssertEqual(stages[.proxyAuth], .failed(error))
        XCTAssertEqual(stages[.connect], .notReached)
    }

    func testARefusedConnectLeavesProxyAuthUnverified() {
        let error = WinRMError(.proxy, "refuses CONNECT to port 5987", code: "403")
        let stages = RouteCheck.stages(after: error, at: .connect, host: basicHost, route: tunnelWithAuth, authenticated: false)
        XCTAssertEqual(stages[.proxyAuth], .notReached, "a proxy may refuse the port before it checks credentials")
        let tunnelFailed = WinRMError(.proxy, "could not open a tunnel", code: "503")
        let after503 = RouteCheck.stages(after: tunnelFailed, at: .connect, host: basicHost, route: tunnelWithAuth, authenticated: false)
        XCTAssertEqual(after503[.proxyAuth], .passed("basic accepted"))
    }

    func testAffinityFailureDuringTheHandshakeLeavesHostAuthUnverified() {
        let error = WinRMError(.affinity, "changed between NEGOTIATE and AUTHENTICATE")
        let stages = RouteCheck.stages(after: error, at: .affinity, host: ntlmHost, route: forward, authenticated: false)
        XCTAssertEqual(stages[.connect], .passed("forwarded to 127.1.20.1:5985"))
        XCTAssertEqual(stages[.hostAuth], .notReached)
        XCTAssertEqual(stages[.affinity], .failed(error))
        let afterHandshake = RouteCheck.stages(after: error, at: .affinity, host: ntlmHost, route: forward, authenticated: true)
        XCTAssertTrue(afterHandshake[.hostAuth]!.isPassed)
    }

    func testAffinityNeedsExactlyOneAuthenticationAndNoLostConnection() {
        let held = RouteCheck.stagesAfterSuccess(host: ntlmHost, route: forward, authentications: 1, affinityLost: [],
                                                 commands: 5, requests: 19, sealed: true, localPort: 40000)
        XCTAssertNil(held.error)
        XCTAssertEqual(held.stages[.affinity], .passed("5 command(s), 19 request(s) sealed on one connection (local port 40000), 1 authentication"))

        let reauthenticated = RouteCheck.stagesAfterSuccess(host: ntlmHost, route: forward, authentications: 3,
                                                            affinityLost: ["the TCP connection changed after authentication"],
                                                            commands: 5, requests: 25, sealed: true, localPort: 40002)
        let error = try! XCTUnwrap(reauthenticated.error)
        XCTAssertEqual(error.kind, .affinity)
        XCTAssertTrue(error.message.contains("3 authentications"), error.message)
        XCTAssertTrue(error.message.contains("use mode tunnel"), error.message)
        XCTAssertEqual(reauthenticated.stages[.affinity], .failed(error))
        XCTAssertTrue(reauthenticated.stages[.hostAuth]!.isPassed)
    }

    func testBasicHasNoAffinityToHold() {
        let outcome = RouteCheck.stagesAfterSuccess(host: basicHost, route: tunnel, authentications: 0, affinityLost: [],
                                                    commands: 5, requests: 17, sealed: false, localPort: nil)
        XCTAssertNil(outcome.error)
        XCTAssertEqual(outcome.stages[.affinity]?.status, "n/a")
    }

    func testRoutesFoldTheirHostsAndTheReportPassesOnlyWhenEverythingDid() throws {
        var good = HostCheck(host: ntlmHost, route: tunnel, findings: [])
        good.stages = RouteCheck.stagesAfterSuccess(host: ntlmHost, route: tunnel, authentications: 1, affinityLost: [],
                                                    commands: 5, requests: 19, sealed: true, localPort: 1).stages
        good.authentications = 1
        good.roundTrip = 0.003
        var bad = HostCheck(host: basicHost, route: tunnel, findings: [])
        let error = WinRMError(.proxy, "refuses CONNECT to port 5986", code: "403")
        bad.error = error
        bad.stages = RouteCheck.stages(after: error, at: .connect, host: basicHost, route: tunnel, authenticated: false)
        XCTAssertTrue(good.passed)
        XCTAssertFalse(bad.passed)

        let routes = RouteCheck.summarize([good, bad])
        XCTAssertEqual(routes.count, 1)
        let route = routes[0]
        XCTAssertEqual(route.stages[.connect], .failed(error), "a route stage fails when any host failed it")
        XCTAssertTrue(route.stages[.proxyReachable]!.isPassed)
        XCTAssertEqual(route.health.hostsOK, 1)
        XCTAssertEqual(route.health.proxyErrors, 1)
        XCTAssertEqual(route.health.latestRTT, 0.003)

        let failing = RouteCheckReport(inventoryFile: "f.json", inventoryWarnings: [], hosts: [good, bad], routes: routes,
                                       probed: true, commandCount: 5)
        XCTAssertFalse(failing.passed)
        let passing = RouteCheckReport(inventoryFile: "f.json", inventoryWarnings: [], hosts: [good],
                                       routes: RouteCheck.summarize([good]), probed: true, commandCount: 5)
        XCTAssertTrue(passing.passed)
        XCTAssertTrue(passing.text().contains("passed: 1 of 1 host(s) passed every check"), passing.text())

        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(failing.json().utf8)) as? [String: Any])
        XCTAssertEqual(json["passed"] as? Bool, false)
        let hosts = try XCTUnwrap(json["hosts"] as? [[String: Any]])
        let badStages = try XCTUnwrap(hosts[1]["stages"] as? [String: [String: Any]])
        XCTAssertEqual(badStages["connect"]?["status"] as? String, "failed")
        XCTAssertEqual(badStages["host_auth"]?["status"] as? String, "not_reached")
        XCTAssertEqual((hosts[1]["error"] as? [String: Any])?["kind"] as? String, "proxy")
    }

    func testAHostRefusedByThePolicyFailsTheReportEvenWithoutProbing() {
        let finding = PolicyFinding(severity: .refuse, rule: 1, quote: Policy.rule1Quote, message: "web2 (rule 1): basic over http",
                                    fix: "use https")
        let refused = HostCheck(host: basicHost, route: tunnel, findings: [finding],
                                refusal: WinRMError(.policy, "basic over http", code: "rule-1"))
        let report = RouteCheckReport(inventoryFile: "f.json", inventoryWarnings: [], hosts: [refused],
                                      routes: RouteCheck.summarize([refused]), probed: false, commandCount: 5)
        XCTAssertFalse(report.passed)
        let text = report.text()
        XCTAssertTrue(text.contains("REFUSED (rule 1)"), text)
        XCTAssertTrue(text.contains(Policy.rule1Quote), text)
        XCTAssertTrue(text.contains("(rules only, no network)"), text)
    }
}
