import Foundation
import XCTest
@testable import Inventory

final class EnvironmentProxyTests: XCTestCase {
    private let squid = ProxyURL(scheme: .http, host: "127.0.0.1", port: 3128)

    private func decide(_ host: String, port: Int = 5985, scheme: Transport = .http, _ environment: [String: String]) -> ProxyDecision {
        EnvironmentProxy.resolve(scheme: scheme, host: host, port: port, environment: environment)
    }

    func testProxyVariableFollowsTheTargetScheme() {
        let environment = ["HTTP_PROXY": "http://127.0.0.1:3128", "HTTPS_PROXY": "http://127.0.0.1:3129"]
        XCTAssertEqual(decide("web01", environment), .proxy(squid, from: "HTTP_PROXY"))
        XCTAssertEqual(decide("web01", port: 5986, scheme: .https, environment),
                       .proxy(ProxyURL(scheme: .http, host: "127.0.0.1", port: 3129), from: "HTTPS_PROXY"))
    }

    func testLowerCaseVariablesWinAndEmptyValuesAreUnset() {
        XCTAssertEqual(decide("web01", ["http_proxy": "http://127.0.0.1:3128", "HTTP_PROXY": "http://10.9.9.9:1"]),
                       .proxy(squid, from: "http_proxy"))
        XCTAssertEqual(decide("web01", ["http_proxy": "", "HTTP_PROXY": "http://127.0.0.1:3128"]),
                       .proxy(squid, from: "HTTP_PROXY"))
        XCTAssertEqual(decide("web01", port: 5986, scheme: .https, ["https_proxy": "127.0.0.1:3128"]),
                       .proxy(squid, from: "https_proxy"))
    }

    func testNoVariableMeansDirect() {
        XCTAssertEqual(decide("web01", [:]), .direct(reason: "HTTP_PROXY is not set"))
        XCTAssertEqual(decide("web01", scheme: .https, ["HTTP_PROXY": "http://127.0.0.1:3128"]), .direct(reason: "HTTPS_PROXY is not set"),
                       "an http proxy is not used for https targets")
        XCTAssertEqual(decide("web01", ["ALL_PROXY": "socks5://127.0.0.1:1080"]), .direct(reason: "HTTP_PROXY is not set"),
                       "ALL_PROXY is not used")
    }

    func testEnvironmentValueDefaults() {
        XCTAssertEqual(decide("web01", ["HTTP_PROXY": "proxy.corp"]), .proxy(ProxyURL(scheme: .http, host: "proxy.corp", port: 80), from: "HTTP_PROXY"))
        XCTAssertEqual(decide("web01", ["HTTP_PROXY": "https://proxy.corp/"]), .proxy(ProxyURL(scheme: .https, host: "proxy.corp", port: 443), from: "HTTP_PROXY"))
        XCTAssertEqual(decide("web01", ["HTTP_PROXY": "http://[::1]:3128"]), .proxy(ProxyURL(scheme: .http, host: "::1", port: 3128), from: "HTTP_PROXY"))
    }

    func testMalformedOrCredentialBearingValuesAreInvalidNotDirect() {
        guard case .invalid(let variable, let reason) = decide("web01", ["HTTP_PROXY": "http://bob:s3cr3t@127.0.0.1:3128"]) else {
            return XCTFail("expected invalid")
        }
        XCTAssertEqual(variable, "HTTP_PROXY")
        XCTAssertTrue(reason.contains("user:password@"))
        XCTAssertFalse(reason.contains("s3cr3t"))
        guard case .invalid = decide("web01", ["HTTP_PROXY": "socks5://127.0.0.1:1080"]) else { return XCTFail("socks is not an http proxy") }
        guard case .invalid = decide("web01", ["HTTP_PROXY": "http://127.0.0.1:notaport"]) else { return XCTFail("bad port") }
    }

    // MARK: - NO_PROXY

    private func bypasses(_ noProxy: String, _ host: String, port: Int = 5985, variable: String = "NO_PROXY") -> Bool {
        if case .direct = decide(host, port: port, ["HTTP_PROXY": "http://127.0.0.1:3128", variable: noProxy]) { return true }
        return false
    }

    func testNoProxyExactHost() {
        XCTAssertTrue(bypasses("web01", "web01"))
        XCTAssertTrue(bypasses("WEB01.corp.example.com", "web01.CORP.example.com."), "case-insensitive, trailing dot ignored")
        XCTAssertFalse(bypasses("web01", "web02"))
        XCTAssertFalse(bypasses("web0", "web01"))
    }

    func testNoProxyDomainSuffixes() {
        for entry in [".lab", "lab", "*.lab"] {
            XCTAssertTrue(bypasses(entry, "dc01.lab"), entry)
            XCTAssertTrue(bypasses(entry, "a.b.lab"), entry)
            XCTAssertTrue(bypasses(entry, "lab"), entry)
            XCTAssertFalse(bypasses(entry, "dc01.mylab"), "\(entry) matches only at a label boundary")
            XCTAssertFalse(bypasses(entry, "lab.example.com"), entry)
        }
    }

    func testNoProxyStarMeansEverything() {
        XCTAssertTrue(bypasses("*", "anything.example.com"))
        XCTAssertTrue(bypasses("*", "10.1.2.3"))
        XCTAssertTrue(bypasses("*", "::1"))
    }

    func testNoProxyHostAndPort() {
        XCTAssertTrue(bypasses("web01:5985", "web01", port: 5985))
        XCTAssertFalse(bypasses("web01:5986", "web01", port: 5985))
        XCTAssertTrue(bypasses(".lab:5985", "dc01.lab", port: 5985))
        XCTAssertTrue(bypasses("10.0.0.5:5985", "10.0.0.5", port: 5985))
        XCTAssertFalse(bypasses("10.0.0.5:5986", "10.0.0.5", port: 5985))
        XCTAssertTrue(bypasses("[::1]:5985", "::1", port: 5985))
        XCTAssertFalse(bypasses("[::1]:5986", "::1", port: 5985))
    }

    func testNoProxyIPv4AndCIDR() {
        XCTAssertTrue(bypasses("127.0.0.1", "127.0.0.1"))
        XCTAssertFalse(bypasses("127.0.0.1", "127.0.0.2"))
        XCTAssertTrue(bypasses("127.1.0.0/16", "127.1.200.3"))
        XCTAssertFalse(bypasses("127.1.0.0/16", "127.2.0.1"))
        XCTAssertTrue(bypasses("10.0.0.0/8", "10.255.255.255"))
        XCTAssertTrue(bypasses("192.168.1.128/25", "192.168.1.200"))
        XCTAssertFalse(bypasses("192.168.1.128/25", "192.168.1.100"))
        XCTAssertTrue(bypasses("0.0.0.0/0", "8.8.8.8"))
        XCTAssertFalse(bypasses("10.0.0.0/8", "ten.example.com"), "CIDR entries never match names (no DNS lookups)")
        XCTAssertFalse(bypasses("10.0.0.0/33", "10.0.0.1"), "an invalid prefix length matches nothing")
        XCTAssertFalse(bypasses("10", "10.0.0.1"), "a domain entry does not match IP literals")
    }

    func testNoProxyIPv6() {
        XCTAssertTrue(bypasses("::1", "::1"))
        XCTAssertTrue(bypasses("::1", "[::1]"))
        XCTAssertTrue(bypasses("[::1]", "::1"))
        XCTAssertTrue(bypasses("0:0:0:0:0:0:0:1", "::1"), "compared as addresses, not text")
        XCTAssertFalse(bypasses("::1", "::2"))
        XCTAssertTrue(bypasses("fd00::/8", "fd12:3456::1"))
        XCTAssertFalse(bypasses("fd00::/8", "fe80::1"))
        XCTAssertFalse(bypasses("::1", "127.0.0.1"))
    }

    func testNoProxyListsAndVariableNames() {
        XCTAssertTrue(bypasses("localhost, .lab ,10.0.0.0/8", "dc01.lab"))
        XCTAssertTrue(bypasses("localhost .lab", "dc01.lab"), "spaces separate too")
        XCTAssertTrue(bypasses(".lab", "dc01.lab", variable: "no_proxy"))
        XCTAssertEqual(decide("dc01.lab", ["HTTP_PROXY": "http://127.0.0.1:3128", "no_proxy": "web01,.lab"]),
                       .direct(reason: "no_proxy matches .lab"))
        XCTAssertEqual(decide("dc01.lab", ["HTTP_PROXY": "http://127.0.0.1:3128", "NO_PROXY": ""]), .proxy(squid, from: "HTTP_PROXY"))
        XCTAssertEqual(EnvironmentProxy.matchingNoProxyEntry("a,,b", host: "b", port: 1), "b")
    }

    // MARK: - IP parsing

    func testIPAddressParsing() {
        XCTAssertEqual(IPAddress.parseIPv4("10.0.0.5"), [10, 0, 0, 5])
        for bad in ["10.0.0", "10.0.0.256", "10.0.0.5.1", "a.b.c.d", "10..0.5", "1234.0.0.1"] { XCTAssertNil(IPAddress.parseIPv4(bad), bad) }
        XCTAssertEqual(IPAddress.parseIPv6("::1"), [UInt8](repeating: 0, count: 15) + [1])
        XCTAssertEqual(IPAddress.parseIPv6("::"), [UInt8](repeating: 0, count: 16))
        XCTAssertEqual(IPAddress.parseIPv6("::ffff:10.0.0.1"), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1])
        XCTAssertEqual(IPAddress.parseIPv6("fe80::1%eth0"), IPAddress.parseIPv6("fe80::1"))
        for bad in ["1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::1", "1:2:3:4:5:6:7", ":::"] { XCTAssertNil(IPAddress.parseIPv6(bad), bad) }
        XCTAssertEqual(IPAddress.parseIPv6("1:2:3:4:5:6:7:8")?.count, 16)
        XCTAssertNil(CIDRRange("10.0.0.0"))
        XCTAssertNil(CIDRRange("10.0.0.0/x"))
        XCTAssertEqual(CIDRRange("::/0")?.contains(IPAddress.parse("::1")!), true)
        XCTAssertEqual(CIDRRange("::/0")?.contains(IPAddress.parse("10.0.0.1")!), false, "families never mix")
    }
}
