import Foundation
import XCTest
@testable import Inventory

final class PolicyTests: XCTestCase {
    private let direct = EffectiveRoute(routeName: "direct")
    private let proxy = EffectiveRoute(routeName: "squid", proxy: ProxyURL(scheme: .http, host: "127.0.0.1", port: 3128),
                                       explanation: "via squid 127.0.0.1:3128 (tunnel)")
    private let authenticatedProxy = EffectiveRoute(routeName: "squid", proxy: ProxyURL(scheme: .http, host: "127.0.0.1", port: 3128),
                                                    proxyAuth: .basic, proxyCredential: "p",
                                                    explanation: "via squid 127.0.0.1:3128 (tunnel, basic auth)")
    private let forwardProxy = EffectiveRoute(routeName: "fwd", proxy: ProxyURL(scheme: .http, host: "127.0.0.1", port: 3129),
                                              mode: .forward, explanation: "via fwd 127.0.0.1:3129 (forward)")

    private func host(_ auth: HostAuth, _ transport: Transport = .http, encryption: EncryptionMode = .auto,
                      allowUnencrypted: Bool = false) -> InventoryHost {
        InventoryHost(name: "web01", transport: transport, auth: auth, credentialName: "c", encryption: encryption,
             allowUnencrypted: allowUnencrypted)
    }

    private func rules(_ host: InventoryHost, _ route: EffectiveRoute, _ severity: PolicyFinding.Severity = .refuse) -> [Int] {
        Policy.evaluate(host: host, route: route).filter { $0.severity == severity }.map(\.rule)
    }

    // MARK: Rule 1 — no unencrypted HTTP through a proxy

    func testRule1RefusesBasicOverHTTPThroughAProxyEvenWithAllowUnencrypted() throws {
        for allow in [false, true] {
            let findings = Policy.evaluate(host: host(.basic, allowUnencrypted: allow), route: proxy)
            let finding = try XCTUnwrap(findings.first { $0.rule == 1 })
            XCTAssertEqual(finding.severity, .refuse)
            XCTAssertEqual(finding.quote, "Under no circumstances should unencrypted HTTP requests be sent through proxy servers.")
            XCTAssertTrue(finding.message.hasPrefix("web01 (rule 1): basic auth over http through proxy squid (127.0.0.1:3128)"), finding.message)
            XCTAssertEqual(finding.fix, "use transport https, or auth ntlm/negotiate with encryption auto")
            XCTAssertFalse(Policy.allows(findings))
        }
    }

    func testRule1RefusesEncryptionNeverOverHTTPThroughAProxy() {
        for auth in [HostAuth.ntlm, .kerberos, .negotiate] {
            for allow in [false, true] {
                XCTAssertEqual(rules(host(auth, encryption: .never, allowUnencrypted: allow), proxy), [1], "\(auth)")
            }
        }
        let finding = Policy.evaluate(host: host(.ntlm, encryption: .never), route: proxy)[0]
        XCTAssertTrue(finding.fix.contains("encryption auto"))
    }

    func testRule1AllowsSealedConnectionBasedAuthThroughAProxy() {
        for auth in [HostAuth.ntlm, .kerberos, .negotiate] {
            for encryption in [EncryptionMode.auto, .always] {
                XCTAssertEqual(Policy.evaluate(host: host(auth, encryption: encryption), route: proxy), [], "\(auth) \(encryption)")
            }
        }
    }

    func testRule1AllowsAnythingOverHTTPSThroughAnUnauthenticatedProxy() {
        XCTAssertEqual(Policy.evaluate(host: host(.basic, .https), route: proxy), [])
        XCTAssertEqual(Policy.evaluate(host: host(.basic, .https, encryption: .never), route: proxy), [],
                       "encryption never + basic over https is fine: TLS protects it")
        XCTAssertEqual(Policy.evaluate(host: host(.ntlm, .https, encryption: .never), route: proxy), [])
    }

    // MARK: Rule 2 — proxy authentication requires HTTPS

    func testRule2RefusesHTTPThroughAnAuthenticatingProxy() throws {
        for auth in HostAuth.allCases {
            XCTAssertTrue(rules(host(auth), authenticatedProxy).contains(2), "\(auth)")
        }
        let finding = try XCTUnwrap(Policy.evaluate(host: host(.negotiate), route: authenticatedProxy).first)
        XCTAssertEqual(finding.rule, 2)
        XCTAssertEqual(finding.quote, "If the proxy server requires authentication, the WinRM clients and servers must use HTTPS.")
        XCTAssertTrue(finding.message.contains("web01 (rule 2)"))
        XCTAssertTrue(finding.fix.contains("transport https"))
    }

    func testRule2AllowsHTTPSThroughAnAuthenticatingProxy() {
        for auth in HostAuth.allCases {
            XCTAssertEqual(Policy.evaluate(host: host(auth, .https), route: authenticatedProxy), [], "\(auth)")
        }
    }

    func testRule2DoesNotApplyWhenTheEnvironmentSendsTheHostDirect() throws {
        let inventory = try parseInventory(#"""
        { "credentials": { "p": { "username": "u", "password_env": "P" } },
          "routes": { "envauth": { "proxy": "env", "proxy_auth": "basic", "proxy_credential": "p" } },
          "hosts": [ { "name": "dc01.lab", "route": "envauth" } ] }
        """#)
        let host = inventory.hosts[0]
        XCTAssertEqual(inventory.policyFindings(for: host, environment: ["HTTP_PROXY": "http://127.0.0.1:3128", "NO_PROXY": ".lab"]), [])
        XCTAssertEqual(inventory.policyFindings(for: host, environment: ["HTTP_PROXY": "http://127.0.0.1:3128"]).map(\.rule), [2])
    }

    // MARK: Rule 3 — clear text only on a direct route with allow_unencrypted

    func testRule3RefusesBasicOverHTTPWithoutAllowUnencrypted() throws {
        let finding = try XCTUnwrap(Policy.evaluate(host: host(.basic), route: direct).first)
        XCTAssertEqual(finding.rule, 3)
        XCTAssertEqual(finding.severity, .refuse)
        XCTAssertTrue(finding.message.contains("web01 (rule 3)"))
        XCTAssertTrue(finding.fix.contains("allow_unencrypted: true"))
        XCTAssertEqual(finding.quote, Policy.rule3Quote)
    }

    func testRule3AllowsBasicOverHTTPOnADirectRouteWithAllowUnencrypted() {
        XCTAssertEqual(Policy.evaluate(host: host(.basic, allowUnencrypted: true), route: direct), [])
    }

    func testRule3RefusesEncryptionNeverOverHTTPWithoutAllowUnencrypted() {
        XCTAssertEqual(rules(host(.ntlm, encryption: .never), direct), [3])
        XCTAssertEqual(Policy.evaluate(host: host(.ntlm, encryption: .never, allowUnencrypted: true), route: direct), [])
    }

    func testRule3AllowUnencryptedDoesNotHelpThroughAProxy() {
        XCTAssertEqual(rules(host(.basic, allowUnencrypted: true), proxy), [1])
        XCTAssertEqual(rules(host(.kerberos, encryption: .never, allowUnencrypted: true), proxy), [1])
    }

    func testRule3DoesNotApplyToSealedOrHTTPSHosts() {
        XCTAssertEqual(Policy.evaluate(host: host(.ntlm), route: direct), [])
        XCTAssertEqual(Policy.evaluate(host: host(.basic, .https), route: direct), [])
        XCTAssertEqual(Policy.evaluate(host: host(.kerberos, .https, encryption: .never), route: direct), [])
    }

    // MARK: Rule 4 — forward mode with connection-based auth over HTTP

    func testRule4WarnsAboutAffinityInForwardMode() throws {
        for auth in [HostAuth.ntlm, .kerberos, .negotiate] {
            let findings = Policy.evaluate(host: host(auth), route: forwardProxy)
            XCTAssertEqual(findings.map(\.rule), [4])
            XCTAssertEqual(findings.first?.severity, .warn)
            XCTAssertTrue(Policy.allows(findings), "a warning does not block")
        }
        let finding = try XCTUnwrap(Policy.evaluate(host: host(.negotiate), route: forwardProxy).first)
        XCTAssertEqual(finding.quote, "HTTP-based proxy servers might not support the ability to maintain the associated client-based and server-based connections.")
        XCTAssertTrue(finding.fix.contains("mode tunnel"))
    }

    func testRule4SilentForTunnelAndForHTTPS() throws {
        XCTAssertEqual(Policy.evaluate(host: host(.ntlm), route: proxy), [])
        let inventory = try parseInventory(#"""
        { "routes": { "fwd": { "proxy": "http://127.0.0.1:3129", "mode": "forward" } },
          "hosts": [ { "name": "a", "route": "fwd", "transport": "https" } ] }
        """#)
        XCTAssertEqual(inventory.policyFindings(for: inventory.hosts[0], environment: [:]), [],
                       "https targets are tunnelled even on a forward route")
    }

    func testBasicInForwardModeIsRefusedByRule1NotWarnedByRule4() {
        XCTAssertEqual(Policy.evaluate(host: host(.basic), route: forwardProxy).map(\.rule), [1])
    }

    // MARK: Rule 5 — encryption always needs a sealing scheme

    func testRule5RefusesEncryptionAlwaysWithBasic() throws {
        for transport in Transport.allCases {
            XCTAssertTrue(rules(host(.basic, transport, encryption: .always, allowUnencrypted: true), direct).contains(5), "\(transport)")
        }
        let finding = try XCTUnwrap(Policy.evaluate(host: host(.basic, .https, encryption: .always), route: direct).first)
        XCTAssertTrue(finding.message.contains("basic auth cannot"))
        XCTAssertTrue(finding.fix.contains("ntlm"))
    }

    func testRule5AllowsEncryptionAlwaysWithSealingSchemes() {
        for auth in [HostAuth.ntlm, .kerberos, .negotiate] {
            XCTAssertEqual(Policy.evaluate(host: host(auth, .https, encryption: .always), route: direct), [])
        }
    }

    // MARK: Rule 6 and combinations

    func testRule6RefusesAnUnresolvableRoute() {
        let broken = EffectiveRoute(routeName: "env", explanation: "unusable", problem: "route env: HTTP_PROXY has no host")
        let findings = Policy.evaluate(host: host(.ntlm), route: broken)
        XCTAssertEqual(findings.map(\.rule), [6])
        XCTAssertTrue(findings[0].message.contains("HTTP_PROXY has no host"))
    }

    func testSeveralRulesAreAllReportedRefusalsFirst() {
        let findings = Policy.evaluate(host: host(.basic, encryption: .always), route: authenticatedProxy)
        XCTAssertEqual(findings.map(\.rule), [1, 2, 5])
        let mixed = Policy.evaluate(host: host(.ntlm, encryption: .never),
                                    route: EffectiveRoute(routeName: "fwd", proxy: forwardProxy.proxy, mode: .forward, proxyAuth: .ntlm, proxyCredential: "p"))
        XCTAssertEqual(mixed.map(\.rule), [1, 2, 4])
        XCTAssertEqual(mixed.map(\.severity), [.refuse, .refuse, .warn])
        XCTAssertTrue(mixed[0].description.hasPrefix("refuse web01 (rule 1)"))
    }

    func testMessageEncryptionModel() {
        XCTAssertTrue(host(.ntlm).usesMessageEncryption)
        XCTAssertFalse(host(.ntlm, .https).usesMessageEncryption, "auto relies on TLS over https")
        XCTAssertTrue(host(.ntlm, .https, encryption: .always).usesMessageEncryption)
        XCTAssertFalse(host(.basic).usesMessageEncryption)
        XCTAssertFalse(host(.basic).isProtectedOnTheWire)
        XCTAssertTrue(host(.basic, .https).isProtectedOnTheWire)
    }
}
