import Foundation
import XCTest
@testable import Inventory

final class EffectiveRouteTests: XCTestCase {
    private var inventory: Inventory!

    override func setUpWithError() throws {
        inventory = try parseInventory(#"""
        { "credentials": { "p": { "username": "proxyuser", "password_env": "P" } },
          "routes": {
            "lan": {},
            "env": { "proxy": "env" },
            "envauth": { "proxy": "env", "proxy_auth": "negotiate", "proxy_credential": "p" },
            "squid": { "proxy": "http://127.0.0.1:3128", "proxy_auth": "basic", "proxy_credential": "p" },
            "fwd": { "proxy": "http://127.0.0.1:3129", "mode": "forward" },
            "secure": { "proxy": "https://127.0.0.1:3130", "proxy_tls": { "ca_file": "/ca.pem" } }
          },
          "hosts": [
            { "name": "plain" },
            { "name": "onlan", "route": "lan" },
            { "name": "viaenv", "route": "env", "address": "dc01.lab" },
            { "name": "viaenvs", "route": "envauth", "transport": "https" },
            { "name": "viasquid", "route": "squid", "transport": "https" },
            { "name": "viafwd", "route": "fwd" },
            { "name": "viafwds", "route": "fwd", "transport": "https" },
            { "name": "viasecure", "route": "secure", "transport": "https" }
          ] }
        """#)
    }

    private func route(_ name: String, _ environment: [String: String] = [:]) -> EffectiveRoute {
        inventory.effectiveRoute(for: inventory.host(named: name)!, environment: environment)
    }

    func testDirectRoutes() {
        XCTAssertEqual(route("plain"), EffectiveRoute(routeName: "direct", explanation: "direct"))
        XCTAssertEqual(route("onlan").explanation, "direct")
        XCTAssertTrue(route("onlan").isDirect)
        XCTAssertEqual(route("onlan").routeName, "lan")
    }

    func testFixedProxyWithAuth() {
        let effective = route("viasquid")
        XCTAssertEqual(effective.proxy, ProxyURL(scheme: .http, host: "127.0.0.1", port: 3128))
        XCTAssertNil(effective.proxySource)
        XCTAssertEqual(effective.mode, .tunnel)
        XCTAssertEqual(effective.proxyAuth, .basic)
        XCTAssertEqual(effective.proxyCredential, "p")
        XCTAssertEqual(effective.explanation, "via squid 127.0.0.1:3128 (tunnel, basic auth)")
        XCTAssertNil(effective.problem)
    }

    func testForwardModeOnlyForHTTPTargets() {
        XCTAssertEqual(route("viafwd").mode, .forward)
        XCTAssertEqual(route("viafwd").explanation, "via fwd 127.0.0.1:3129 (forward)")
        XCTAssertEqual(route("viafwds").mode, .tunnel, "TLS to the host must be end to end, so https is always tunnelled")
    }

    func testHTTPSProxyShowsItsScheme() {
        let effective = route("viasecure")
        XCTAssertEqual(effective.explanation, "via secure https://127.0.0.1:3130 (tunnel)")
        XCTAssertEqual(effective.proxyTLS.caFile, "/ca.pem")
    }

    func testEnvironmentRoute() {
        XCTAssertEqual(route("viaenv").explanation, "direct (HTTP_PROXY is not set)")
        XCTAssertNil(route("viaenv").proxy)
        let proxied = route("viaenv", ["HTTP_PROXY": "http://127.0.0.1:3128"])
        XCTAssertEqual(proxied.proxy, ProxyURL(scheme: .http, host: "127.0.0.1", port: 3128))
        XCTAssertEqual(proxied.proxySource, "HTTP_PROXY")
        XCTAssertEqual(proxied.explanation, "via env 127.0.0.1:3128 from HTTP_PROXY (tunnel)")
        let bypassed = route("viaenv", ["HTTP_PROXY": "http://127.0.0.1:3128", "NO_PROXY": "localhost,.lab"])
        XCTAssertEqual(bypassed.explanation, "direct (NO_PROXY matches .lab)")
        XCTAssertNil(bypassed.proxy)
        XCTAssertEqual(bypassed.proxyAuth, .none)
    }

    func testEnvironmentRouteWithProxyAuthUsesHTTPSVariable() {
        let proxied = route("viaenvs", ["HTTPS_PROXY": "http://127.0.0.1:3128"])
        XCTAssertEqual(proxied.explanation, "via envauth 127.0.0.1:3128 from HTTPS_PROXY (tunnel, negotiate auth)")
        XCTAssertEqual(proxied.proxyCredential, "p")
        let direct = route("viaenvs", ["HTTPS_PROXY": "http://127.0.0.1:3128", "NO_PROXY": "*"])
        XCTAssertEqual(direct.proxyAuth, .none, "no proxy, so no proxy authentication")
        XCTAssertNil(direct.proxyCredential)
    }

    func testMalformedEnvironmentProxyIsAProblem() {
        let broken = route("viaenv", ["HTTP_PROXY": "http://u:hunter2@127.0.0.1:3128"])
        XCTAssertNotNil(broken.problem)
        XCTAssertNil(broken.proxy)
        XCTAssertFalse(broken.problem!.contains("hunter2"))
        XCTAssertFalse(broken.explanation.contains("hunter2"))
    }

    func testUnknownRouteIsAProblem() {
        let stray = InventoryHost(name: "stray", routeName: "ghost")
        XCTAssertEqual(inventory.effectiveRoute(for: stray, environment: [:]).problem, "route ghost is not defined in inventory.json")
    }
}
