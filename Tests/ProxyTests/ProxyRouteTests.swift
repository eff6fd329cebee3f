@testable import Fleet
import Foundation
import WinRMSim
import WinRMTransport
import XCTest

/// Commands through real proxies (squid, tinyproxy) to simulated hosts, through the fleet engine,
/// with every hop recorded and audited (see `ProxyTestCase`).
///
/// Addresses: 127.1.20.x (https + proxy auth), 127.1.21.x (tunnel), 127.1.22.x (forward, squid
/// pinning), 127.1.23.x (forward without affinity), 127.1.24.x (error kinds).
final class ProxyRouteTests: ProxyTestCase {

    func testHTTPSViaConnectThroughSquidWithBasicProxyAuth() async throws {
        let squid = try startSquidWithBasicAuth()
        let front = try relayInFront(of: squid.port, name: "client→squid")
        let basicHost = try startHost("BASIC1", address: ProxyTestAddresses.host(20, 1), https: true, auth: .basic)
        let ntlmHost = try startHost("NTLM1", address: ProxyTestAddresses.host(20, 2), https: true, auth: .ntlm)
        let marker = "marker-https-7Qz"
        markers = [marker]
        let inventory = try writeInventory(
            routes: ["squid-auth": ["proxy": front.url, "proxy_auth": "basic", "proxy_credential": "proxy"]],
            hosts: [hostEntry(basicHost, route: "squid-auth"), hostEntry(ntlmHost, route: "squid-auth")])

        let run = try await runEngine(inventory: inventory, command: "echo \(marker)")

        for host in ["BASIC1", "NTLM1"] {
            let result = try run.result(host)
            XCTAssertEqual(result.status, .ok, "\(host): \(result.error?.description ?? "")")
            XCTAssertEqual(result.stdout, "\(marker)\r\n")
        }
        // The proxy saw authenticated CONNECTs and nothing else.
        XCTAssertTrue(squid.waitForAccessLog(containing: "CONNECT \(basicHost.address):5986 \(Self.proxyUser)"), squid.accessLog())
        XCTAssertTrue(squid.waitForAccessLog(containing: "CONNECT \(ntlmHost.address):5986 \(Self.proxyUser)"), squid.accessLog())
        XCTAssertFalse(squid.accessLog().contains("POST"), squid.accessLog())
        let clientHop = front.allBytes
        XCTAssertTrue(clientHop.contains("CONNECT \(basicHost.address):5986 HTTP/1.1"))
        XCTAssertTrue(clientHop.contains("Proxy-Authorization: Basic"), "proxy credentials go to the proxy only")
        XCTAssertGreaterThan(basicHost.relay.connectionCount, 0)
        XCTAssertEqual(run.health["squid-auth"]?.hostsOK, 2)
        XCTAssertEqual(run.health["squid-auth"]?.proxyErrors, 0)
        XCTAssertNotNil(run.health["squid-auth"]?.latestRTT)
    }

    func testHTTPSThroughAnHTTPSProxyWithDigestProxyAuth() async throws {
        var options = SquidProxy.Options()
        options.tls = true
        options.digestUsers = [Self.proxyUser: Self.proxyPassword]
        let squid = try startSquid(options)
        let front = try relayInFront(of: squid.port, name: "client→squid(tls)")
        let host = try startHost("TLSPX1", address: ProxyTestAddresses.host(20, 3), https: true)
        let marker = "marker-tlsproxy-6Rm"
        markers = [marker]
        let proxyURL = "https://127.0.0.1:\(front.listenPort)"
        let inventory = try writeInventory(
            routes: ["tls-digest": ["proxy": proxyURL, "proxy_auth": "digest", "proxy_credential": "proxy",
                                    "proxy_tls": ["ca_file": squid.certificatePath]],
                     "tls-untrusted": ["proxy": proxyURL, "proxy_auth": "digest", "proxy_credential": "proxy"],
                     "tls-basic": ["proxy": proxyURL, "proxy_auth": "basic", "proxy_credential": "proxy",
                                   "proxy_tls": ["ca_file": squid.certificatePath]]],
            hosts: [hostEntry(host, route: "tls-digest"),
                    hostEntry(host, route: "tls-untrusted", extra: ["name": "UNTRUSTED"]),
                    hostEntry(host, route: "tls-basic", extra: ["name": "WRONGSCHEME"])])

        let run = try await runEngine(inventory: inventory, command: "echo \(marker)")

        let result = try run.result("TLSPX1")
        XCTAssertEqual(result.status, .ok, result.error?.description ?? "")
        XCTAssertEqual(result.stdout, "\(marker)\r\n")
        XCTAssertTrue(squid.waitForAccessLog(containing: "CONNECT \(host.address):5986 \(Self.proxyUser)"), squid.accessLog())
        // Even the CONNECT and the proxy credentials travelled inside TLS to the proxy.
        XCTAssertFalse(front.allBytes.contains("CONNECT "))
        XCTAssertFalse(front.allBytes.contains("Proxy-Authorization"))

        let untrusted = try run.result("UNTRUSTED")
        XCTAssertEqual(untrusted.error?.kind, .proxy, untrusted.error?.description ?? "")
        XCTAssertTrue(untrusted.error?.message.contains("TLS with proxy \(proxyURL) failed") ?? false, untrusted.error?.message ?? "")
        XCTAssertTrue(untrusted.error?.message.contains("proxy_tls.ca_file") ?? false)
        let wrongScheme = try run.result("WRONGSCHEME")
        XCTAssertEqual(wrongScheme.error?.kind, .proxyAuth, wrongScheme.error?.description ?? "")
        XCTAssertTrue(wrongScheme.error?.message.contains("set the route's proxy_auth to digest") ?? false, wrongScheme.error?.message ?? "")
        XCTAssertEqual(host.fleet.counters.authenticationsCompleted, 1, "only the working route reached the host")
    }

    func testNTLMToTheProxyIsIndependentOfNTLMToTheHost() async throws {
        var options = SquidProxy.Options()
        options.ntlmFakeAuth = true
        let squid = try startSquid(options)
        let front = try relayInFront(of: squid.port, name: "client→squid(ntlm)")
        let host = try startHost("PXNTLM1", address: ProxyTestAddresses.host(20, 4), https: true)
        let inventory = try writeInventory(
            routes: ["squid-ntlm": ["proxy": front.url, "proxy_auth": "ntlm", "proxy_credential": "proxy"]],
            hosts: [hostEntry(host, route: "squid-ntlm")])

        let run = try await runEngine(inventory: inventory, command: "hostname", repeatCount: 2)

        XCTAssertEqual(run.results.map(\.status), [.ok, .ok], run.results.map { $0.error?.description ?? "" }.joined())
        XCTAssertTrue(front.allBytes.contains("Proxy-Authorization: NTLM "), "the proxy got its own NTLM handshake")
        XCTAssertTrue(squid.waitForAccessLog(containing: "TCP_TUNNEL/200"), squid.accessLog())
        XCTAssertEqual(host.fleet.counters.authenticationsCompleted, 1, "one host handshake inside the tunnel, for both commands")
    }

    func testHTTPWithNTLMSealedThroughSquidTunnel() async throws {
        let squid = try startSquid()
        let front = try relayInFront(of: squid.port, name: "client→squid")
        let host = try startHost("TUN1", address: ProxyTestAddresses.host(21, 1))
        let marker = "marker-tunnel-4Kp"
        markers = [marker]
        let inventory = try writeInventory(routes: ["squid": ["proxy": front.url]],   // mode tunnel is the default
                                           hosts: [hostEntry(host, route: "squid")])

        let run = try await runEngine(inventory: inventory, command: "echo \(marker)", repeatCount: 2)

        XCTAssertEqual(run.results.map(\.status), [.ok, .ok], run.results.map { $0.error?.description ?? "" }.joined())
        XCTAssertEqual(run.results.first?.stdout, "\(marker)\r\n")
        XCTAssertTrue(squid.waitForAccessLog(containing: "TCP_TUNNEL/200"), squid.accessLog())
        XCTAssertTrue(squid.accessLog().contains("CONNECT \(host.address):5985"), squid.accessLog())
        // Sealed bodies crossed both hops (the audit in tearDown proves none was readable).
        XCTAssertTrue(front.allBytes.contains("multipart/encrypted"))
        XCTAssertTrue(host.relay.allBytes.contains("multipart/encrypted"))
        XCTAssertEqual(host.fleet.counters.authenticationsCompleted, 1, "both commands ran on the one authenticated connection")
        XCTAssertEqual(host.relay.connectionCount, 1)
        XCTAssertEqual(run.health["squid"]?.hostsOK, 1)
    }

    func testHTTPWithNTLMSealedInForwardModeThroughSquidThatPinsConnections() async throws {
        // squid pins the client connection to the server connection when the host asks for a
        // connection-based scheme: connection-auth on, persistent connections on both sides.
        var options = SquidProxy.Options()
        options.connectionAuth = true
        options.clientPersistentConnections = true
        options.serverPersistentConnections = true
        let squid = try startSquid(options)
        let front = try relayInFront(of: squid.port, name: "client→squid")
        let host = try startHost("FWD1", address: ProxyTestAddresses.host(22, 1))
        let marker = "marker-forward-9Vb"
        markers = [marker]
        let inventory = try writeInventory(routes: ["squid-fwd": ["proxy": front.url, "mode": "forward"]],
                                           hosts: [hostEntry(host, route: "squid-fwd")])

        let run = try await runEngine(inventory: inventory, command: "echo \(marker)", repeatCount: 2)

        XCTAssertEqual(run.results.map(\.status), [.ok, .ok], run.results.map { $0.error?.description ?? "" }.joined())
        XCTAssertEqual(run.results.first?.stdout, "\(marker)\r\n")
        // Forwarded, not tunnelled: absolute-URI POSTs, and squid announced that it pins.
        XCTAssertTrue(front.allBytes.contains("POST http://\(host.address):5985/wsman HTTP/1.1"))
        XCTAssertTrue(front.allBytes.contains("Proxy-support: Session-Based-Authentication"))
        XCTAssertTrue(squid.waitForAccessLog(containing: "POST http://\(host.address):5985/wsman"), squid.accessLog())
        XCTAssertFalse(squid.accessLog().contains("CONNECT"), squid.accessLog())
        XCTAssertEqual(host.fleet.counters.authenticationsCompleted, 1, "squid kept one connection to the host for the whole session")
        XCTAssertEqual(host.relay.connectionCount, 1)
        XCTAssertTrue(run.events.allSatisfy { $0.kind != .affinityLost }, "\(run.events)")
        XCTAssertEqual(run.health["squid-fwd"]?.hostsOK, 1)
        XCTAssertEqual(run.health["squid-fwd"]?.affinityLostEvents, 0)
    }

    func testForwardModeThroughTinyproxyIsReportedAsAffinityWithTheRemedy() async throws {
        let tiny = try startTinyproxy()
        let front = try relayInFront(of: tiny.port, name: "client→tinyproxy")
        let host = try startHost("NOAFF1", address: ProxyTestAddresses.host(23, 1))
        markers = ["marker-tiny-2Hd"]
        let inventory = try writeInventory(routes: ["tiny-fwd": ["proxy": front.url, "mode": "forward"]],
                                           hosts: [hostEntry(host, route: "tiny-fwd")])

        let run = try await runEngine(inventory: inventory, command: "echo marker-tiny-2Hd")

        let result = try run.result("NOAFF1")
        XCTAssertEqual(result.status, .error)
        XCTAssertEqual(result.error?.kind, .affinity, result.error?.description ?? "")
        let message = result.error?.message ?? ""
        XCTAssertTrue(message.contains("connection affinity lost"), message)
        XCTAssertTrue(message.contains("use mode tunnel"), "the remedy is named: \(message)")
        XCTAssertEqual(host.fleet.counters.commandsStarted, 0, "nothing ran on an unauthenticated connection")
        XCTAssertGreaterThan(front.connectionCount, 1, "tinyproxy closed our connection between the NTLM legs")
        XCTAssertTrue(run.events.contains { $0.kind == .affinityLost })
        XCTAssertEqual(run.health["tiny-fwd"]?.affinityErrors, 1)
        XCTAssertGreaterThan(run.health["tiny-fwd"]?.affinityLostEvents ?? 0, 0)
    }

    func testForwardModeThroughSquidWithoutConnectionAuthIsAffinity() async throws {
        var options = SquidProxy.Options()
        options.connectionAuth = false
        let squid = try startSquid(options)
        let front = try relayInFront(of: squid.port, name: "client→squid(connection-auth=off)")
        let host = try startHost("NOAFF2", address: ProxyTestAddresses.host(23, 2))
        let inventory = try writeInventory(routes: ["squid-fwd": ["proxy": front.url, "mode": "forward"]],
                                           hosts: [hostEntry(host, route: "squid-fwd")])

        let run = try await runEngine(inventory: inventory, command: "hostname")

        let result = try run.result("NOAFF2")
        XCTAssertEqual(result.error?.kind, .affinity, result.error?.description ?? "")
        XCTAssertTrue(result.error?.message.contains("does not pass connection-based authentication") ?? false, result.error?.message ?? "")
        XCTAssertTrue(result.error?.message.contains("use mode tunnel") ?? false)
        XCTAssertEqual(host.fleet.counters.commandsStarted, 0)
    }

    func testForwardModeThroughSquidWithoutServerPersistenceIsAffinity() async throws {
        var options = SquidProxy.Options()
        options.serverPersistentConnections = false
        let squid = try startSquid(options)
        let front = try relayInFront(of: squid.port, name: "client→squid(server_persistent_connections off)")
        let host = try startHost("NOAFF3", address: ProxyTestAddresses.host(23, 3))
        let inventory = try writeInventory(routes: ["squid-fwd": ["proxy": front.url, "mode": "forward"]],
                                           hosts: [hostEntry(host, route: "squid-fwd")])

        let run = try await runEngine(inventory: inventory, command: "hostname")

        let result = try run.result("NOAFF3")
        XCTAssertEqual(result.error?.kind, .affinity, result.error?.description ?? "")
        XCTAssertTrue(result.error?.message.contains("use mode tunnel") ?? false)
        XCTAssertEqual(host.fleet.counters.commandsStarted, 0)
    }

    func testWrongProxyPasswordIsProxyAuthNamingTheScheme() async throws {
        let squid = try startSquidWithBasicAuth()
        let front = try relayInFront(of: squid.port, name: "client→squid")
        let host = try startHost("PXAUTH1", address: ProxyTestAddresses.host(24, 1), https: true, auth: .basic)
        let inventory = try writeInventory(
            routes: ["squid-auth": ["proxy": front.url, "proxy_auth": "basic", "proxy_credential": "wrong"],
                     "squid-none": ["proxy": front.url]],
            hosts: [hostEntry(host, route: "squid-auth"),
                    hostEntry(host, route: "squid-none", extra: ["name": "PXAUTH2"])],
            extraCredentials: ["wrong": ["username": Self.proxyUser, "password_env": "WRONG_PASS"]])

        let run = try await runEngine(inventory: inventory, command: "hostname")

        let wrong = try run.result("PXAUTH1")
        XCTAssertEqual(wrong.error?.kind, .proxyAuth, wrong.error?.description ?? "")
        XCTAssertEqual(wrong.error?.code, "407")
        XCTAssertTrue(wrong.error?.message.contains("it asks for Basic") ?? false, wrong.error?.message ?? "")
        XCTAssertTrue(wrong.error?.message.contains("proxy_credential") ?? false)
        let none = try run.result("PXAUTH2")
        XCTAssertEqual(none.error?.kind, .proxyAuth)
        XCTAssertTrue(none.error?.message.contains("the route sends none") ?? false, none.error?.message ?? "")
        XCTAssertEqual(host.fleet.counters.connectionsAccepted, 0, "nothing reached the host")
        XCTAssertTrue(squid.waitForAccessLog(containing: "TCP_DENIED/407"), squid.accessLog())
        XCTAssertEqual(run.health["squid-auth"]?.proxyAuthErrors, 1)
        XCTAssertFalse(front.allBytes.contains("Wrong-Pass-0"), "the wrong password went base64-encoded, never readable")
    }

    func testWrongHostPasswordIsAuthThroughTunnelAndThroughAPinningForwardProxy() async throws {
        let squid = try startSquid()
        let front = try relayInFront(of: squid.port, name: "client→squid")
        let tunnelHost = try startHost("HAUTH1", address: ProxyTestAddresses.host(24, 11))
        let forwardHost = try startHost("HAUTH2", address: ProxyTestAddresses.host(24, 12))
        let inventory = try writeInventory(
            routes: ["squid": ["proxy": front.url], "squid-fwd": ["proxy": front.url, "mode": "forward"]],
            hosts: [hostEntry(tunnelHost, route: "squid", extra: ["credential": "wronghost"]),
                    hostEntry(forwardHost, route: "squid-fwd", extra: ["credential": "wronghost"])],
            extraCredentials: ["wronghost": ["username": Self.hostUser, "password_env": "WRONG_PASS"]])

        let run = try await runEngine(inventory: inventory, command: "hostname")

        for host in ["HAUTH1", "HAUTH2"] {
            let result = try run.result(host)
            XCTAssertEqual(result.error?.kind, .auth, "\(host): \(result.error?.description ?? "")")
            XCTAssertTrue(result.error?.message.contains("refused the credentials") ?? false)
        }
        XCTAssertEqual(run.health["squid"]?.authErrors, 1)
        XCTAssertEqual(run.health["squid-fwd"]?.authErrors, 1)
        XCTAssertEqual(run.health["squid-fwd"]?.affinityErrors, 0)
    }

    func testProxyClosingAfterTheHandshakeIsAffinity() async throws {
        let squid = try startSquid()
        let front = try relayInFront(of: squid.port, name: "client→squid")
        let host = try startHost("DROP1", address: ProxyTestAddresses.host(24, 21)) { $0.dropAfterAuth = true }
        let inventory = try writeInventory(routes: ["squid": ["proxy": front.url]], hosts: [hostEntry(host, route: "squid")])

        let run = try await runEngine(inventory: inventory, command: "hostname")

        let result = try run.result("DROP1")
        XCTAssertEqual(result.error?.kind, .affinity, result.error?.description ?? "")
        XCTAssertTrue(result.error?.message.contains("closed right after the 200") ?? false, result.error?.message ?? "")
        XCTAssertEqual(host.fleet.counters.commandsStarted, 0)
        XCTAssertEqual(host.fleet.counters.requestsByAction["Create"] ?? 0, 0, "no sealed request went into the dead connection")
    }

    func testUnreachableProxyRefusedConnectAndProxyErrorPagesAreProxyErrors() async throws {
        let tiny = try startTinyproxy()   // CONNECT only to 5985 and 5986
        let front = try relayInFront(of: tiny.port, name: "client→tinyproxy")
        let host = try startHost("PX1", address: ProxyTestAddresses.host(24, 31))
        let deadProxyPort = try Ports.free()
        let inventory = try writeInventory(
            routes: ["dead": ["proxy": "http://127.0.0.1:\(deadProxyPort)"],
                     "tiny": ["proxy": front.url],
                     "tiny-fwd": ["proxy": front.url, "mode": "forward"]],
            hosts: [hostEntry(host, route: "dead", extra: ["name": "UNREACHABLE"]),
                    hostEntry(host, route: "tiny", extra: ["name": "BADPORT", "port": 5999]),
                    // Nothing listens at .32: tinyproxy answers with its own HTML error page.
                    hostEntry(host, route: "tiny-fwd", extra: ["name": "NOHOST", "address": ProxyTestAddresses.host(24, 32)])])

        let run = try await runEngine(inventory: inventory, command: "hostname")

        let unreachable = try run.result("UNREACHABLE")
        XCTAssertEqual(unreachable.error?.kind, .proxy, unreachable.error?.description ?? "")
        XCTAssertTrue(unreachable.error?.message.contains("is unreachable") ?? false)
        let badPort = try run.result("BADPORT")
        XCTAssertEqual(badPort.error?.kind, .proxy, badPort.error?.description ?? "")
        XCTAssertTrue(badPort.error?.message.contains("refuses CONNECT to port 5999") ?? false, badPort.error?.message ?? "")
        XCTAssertTrue(badPort.error?.message.contains("or use mode forward") ?? false)
        let noHost = try run.result("NOHOST")
        XCTAssertEqual(noHost.error?.kind, .proxy, noHost.error?.description ?? "")
        XCTAssertTrue(noHost.error?.message.contains("Unable to connect") ?? false, "the page title is quoted: \(noHost.error?.message ?? "")")
        XCTAssertEqual(host.fleet.counters.connectionsAccepted, 0)
        XCTAssertEqual(run.health["dead"]?.proxyErrors, 1)
        XCTAssertEqual(run.health["tiny"]?.proxyErrors, 1)
        XCTAssertEqual(run.health["tiny-fwd"]?.proxyErrors, 1)
    }
}
