import Foundation
import Inventory
import WinRMSim
import XCTest

/// Every configuration the seed's rules refuse, through the `winfleet` binary: exit 64 before
/// anything is sent, the rule quoted, the fix named, and nothing reached the proxy or the host.
/// Addresses 127.1.27.x.
final class PolicyRefusalCLITests: ProxyTestCase {
    private var squid: SquidProxy!
    private var front: RecordingRelay!
    private var httpHost: RelayedHost!
    private var httpsHost: RelayedHost!
    private var inventory: String!

    /// One inventory with a host per refused configuration, all aimed at hosts that must never see a
    /// connection, plus one allowed host.
    override func setUpWithError() throws {
        try super.setUpWithError()
        squid = try startSquidWithBasicAuth()
        front = try relayInFront(of: squid.port, name: "client→squid")
        httpHost = try startHost("HTTP1", address: ProxyTestAddresses.host(27, 1), auth: .basic, allowUnencrypted: true)
        httpsHost = try startHost("HTTPS1", address: ProxyTestAddresses.host(27, 2), https: true, auth: .basic)
        let routes: [String: [String: Any]] = [
            "squid": ["proxy": front.url],
            "squid-auth": ["proxy": front.url, "proxy_auth": "basic", "proxy_credential": "proxy"],
            "env": ["proxy": "env"],
            "direct": [:],
        ]
        inventory = try writeInventory(routes: routes, hosts: [
            // Rule 1: Basic over http through a proxy, even with allow_unencrypted.
            hostEntry(httpHost, route: "squid", auth: "basic", extra: ["name": "R1BASIC", "allow_unencrypted": true]),
            // Rule 1: a connection-based scheme with encryption never, through a proxy.
            hostEntry(httpHost, route: "squid", auth: "ntlm", extra: ["name": "R1NEVER", "encryption": "never"]),
            // Rule 2: an authenticating proxy with an http host.
            hostEntry(httpHost, route: "squid-auth", auth: "ntlm", extra: ["name": "R2AUTH"]),
            // Rule 3: Basic over http, direct, without allow_unencrypted.
            hostEntry(httpHost, route: "direct", auth: "basic", extra: ["name": "R3BASIC"]),
            // Rule 3: encryption never over http, direct, without allow_unencrypted.
            hostEntry(httpHost, route: "direct", auth: "ntlm", extra: ["name": "R3NEVER", "encryption": "never"]),
            // Rule 5: encryption always with Basic (cannot seal), here over https through the proxy.
            hostEntry(httpsHost, route: "squid-auth", auth: "basic", extra: ["name": "R5ALWAYS", "encryption": "always"]),
            // Rule 6: an env route whose HTTP_PROXY is malformed (set per test).
            hostEntry(httpHost, route: "env", auth: "ntlm", extra: ["name": "R6ENV"]),
            // Allowed: https Basic through the authenticating proxy.
            hostEntry(httpsHost, route: "squid-auth", auth: "basic", extra: ["name": "GOOD"]),
        ])
    }

    /// The malformed proxy variable for rule 6 (a password in it must never be echoed).
    private let malformedProxy = ["HTTP_PROXY": "http://pxuser:\(ProxyTestCase.proxyPassword)@127.0.0.1:3128"]

    private func assertNothingSent(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(front.connectionCount, 0, "a refused host's request reached the proxy", file: file, line: line)
        XCTAssertEqual(squid.requestLog(), "", file: file, line: line)
        XCTAssertEqual(httpHost.fleet.counters.connectionsAccepted, 0, "a refused host was contacted", file: file, line: line)
        XCTAssertEqual(httpsHost.fleet.counters.connectionsAccepted, 0, file: file, line: line)
    }

    private func assertRefused(_ host: String, rule: Int, quote: String, fix: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let finished = try winfleet(["run", "--inventory", inventory, "--target", host, "--format", "jsonl", "--", "hostname"],
                                    environment: malformedProxy)
        XCTAssertEqual(finished.status, 64, "\(host): \(finished.stderr)", file: file, line: line)
        XCTAssertEqual(finished.stdout, "", "no result line: nothing ran", file: file, line: line)
        XCTAssertTrue(finished.stderr.contains("\(host) (rule \(rule))"), "\(host): \(finished.stderr)", file: file, line: line)
        XCTAssertTrue(finished.stderr.contains("(rule \(rule): \"\(quote)\")"), "the rule is quoted: \(finished.stderr)", file: file, line: line)
        XCTAssertTrue(finished.stderr.contains("fix: \(fix)"), "the fix is named: \(finished.stderr)", file: file, line: line)
        XCTAssertFalse(finished.stderr.contains(Self.proxyPassword), "a password was echoed", file: file, line: line)
        assertNothingSent(file: file, line: line)
    }

    func testBasicOverHTTPThroughAProxyIsRefusedEvenWithAllowUnencrypted() throws {
        try assertRefused("R1BASIC", rule: 1, quote: Policy.rule1Quote, fix: "use transport https")
    }

    func testEncryptionNeverOverHTTPThroughAProxyIsRefused() throws {
        try assertRefused("R1NEVER", rule: 1, quote: Policy.rule1Quote, fix: "use encryption auto")
    }

    func testAnAuthenticatingProxyWithAnHTTPHostIsRefused() throws {
        try assertRefused("R2AUTH", rule: 2, quote: Policy.rule2Quote, fix: "use transport https")
    }

    func testBasicOverDirectHTTPWithoutAllowUnencryptedIsRefused() throws {
        try assertRefused("R3BASIC", rule: 3, quote: Policy.rule3Quote, fix: "use transport https")
    }

    func testEncryptionNeverOverDirectHTTPWithoutAllowUnencryptedIsRefused() throws {
        try assertRefused("R3NEVER", rule: 3, quote: Policy.rule3Quote, fix: "use encryption auto")
    }

    func testEncryptionAlwaysWithBasicIsRefused() throws {
        try assertRefused("R5ALWAYS", rule: 5, quote: Policy.rule5Quote, fix: "use auth ntlm")
    }

    func testAMalformedProxyVariableIsRefusedRatherThanGoingDirect() throws {
        try assertRefused("R6ENV", rule: 6, quote: Policy.rule6Quote, fix: "fix the proxy environment variable")
    }

    func testOneRefusedHostStopsTheWholeRunBeforeAnyByteIsSent() throws {
        let finished = try winfleet(["run", "--inventory", inventory, "--target", "GOOD,R2AUTH", "--", "hostname"],
                                    environment: malformedProxy)
        XCTAssertEqual(finished.status, 64, finished.stderr)
        XCTAssertTrue(finished.stderr.contains("R2AUTH (rule 2)"), finished.stderr)
        assertNothingSent()
    }

    func testCheckListsEveryRefusalAndProbesOnlyTheAllowedHost() throws {
        let offline = try winfleet(["check", "--inventory", inventory, "--offline"], environment: malformedProxy)
        XCTAssertEqual(offline.status, 1, offline.stdout + offline.stderr)
        for (host, rule) in [("R1BASIC", 1), ("R1NEVER", 1), ("R2AUTH", 2), ("R3BASIC", 3), ("R3NEVER", 3), ("R5ALWAYS", 5), ("R6ENV", 6)] {
            XCTAssertTrue(offline.stdout.contains("refuse \(host) (rule \(rule))"), "\(host) missing from:\n\(offline.stdout)")
        }
        XCTAssertTrue(offline.stdout.contains(Policy.rule2Quote), offline.stdout)
        XCTAssertTrue(offline.stdout.contains("(rules only, no network)"), offline.stdout)
        XCTAssertFalse(offline.stdout.contains(Self.proxyPassword))
        assertNothingSent()

        let probed = try winfleet(["check", "--inventory", inventory, "--format", "json"], environment: malformedProxy)
        XCTAssertEqual(probed.status, 1, probed.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(probed.stdout.utf8)) as? [String: Any])
        let hosts = try XCTUnwrap(report["hosts"] as? [[String: Any]])
        let good = try XCTUnwrap(hosts.first { $0["host"] as? String == "GOOD" })
        XCTAssertEqual(good["passed"] as? Bool, true, "\(good)")
        for refused in hosts where refused["host"] as? String != "GOOD" {
            XCTAssertEqual((refused["refusal"] as? [String: Any])?["kind"] as? String, "policy", "\(refused)")
            XCTAssertEqual(refused["requests"] as? Int, 0)
        }
        // Only the allowed host was probed: https through the proxy, never the http host.
        XCTAssertGreaterThan(front.connectionCount, 0)
        XCTAssertEqual(httpHost.fleet.counters.connectionsAccepted, 0)
        XCTAssertFalse(squid.accessLog().contains(httpHost.address), squid.accessLog())
    }
}
