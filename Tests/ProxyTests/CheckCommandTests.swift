import Foundation
import WinRMSim
import XCTest

/// `winfleet check` through the binary against real proxies: every stage passes where the route
/// works, and each broken route fails at the stage that is broken. Addresses 127.1.28.x.
final class CheckCommandTests: ProxyTestCase {

    private func check(_ inventory: String, _ extra: [String] = []) throws -> (FinishedProcess, [String: [String: Any]], [String: Any]) {
        let finished = try winfleet(["check", "--inventory", inventory, "--format", "json"] + extra)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(finished.stdout.utf8)) as? [String: Any],
                                   "not JSON: \(finished.stdout)\n\(finished.stderr)")
        var hosts: [String: [String: Any]] = [:]
        for host in report["hosts"] as? [[String: Any]] ?? [] { hosts[host["host"] as! String] = host }
        return (finished, hosts, report)
    }

    private func stage(_ host: [String: Any]?, _ name: String) -> String? {
        ((host?["stages"] as? [String: Any])?[name] as? [String: Any])?["status"] as? String
    }

    func testEveryStagePassesOnWorkingRoutes() throws {
        let authSquid = try startSquidWithBasicAuth()
        let authFront = try relayInFront(of: authSquid.port, name: "client→squid(auth)")
        let squid = try startSquid()
        let front = try relayInFront(of: squid.port, name: "client→squid")
        let httpsBasic = try startHost("OKBASIC", address: ProxyTestAddresses.host(28, 1), https: true, auth: .basic)
        let httpsNTLM = try startHost("OKNTLMS", address: ProxyTestAddresses.host(28, 2), https: true)
        let tunnel = try startHost("OKTUN", address: ProxyTestAddresses.host(28, 3))
        let forward = try startHost("OKFWD", address: ProxyTestAddresses.host(28, 4))
        let direct = try startHost("OKDIRECT", address: ProxyTestAddresses.host(28, 5))
        markers = ["winfleet-check-1", "winfleet-check-5"]   // the echo commands of the check
        let inventory = try writeInventory(
            routes: ["squid-auth": ["proxy": authFront.url, "proxy_auth": "basic", "proxy_credential": "proxy"],
                     "squid": ["proxy": front.url],
                     "squid-fwd": ["proxy": front.url, "mode": "forward"],
                     "direct": [:]],
            hosts: [hostEntry(httpsBasic, route: "squid-auth"), hostEntry(httpsNTLM, route: "squid-auth"),
                    hostEntry(tunnel, route: "squid"), hostEntry(forward, route: "squid-fwd"),
                    hostEntry(direct, route: "direct")])

        let (finished, hosts, report) = try check(inventory)

        XCTAssertEqual(finished.status, 0, finished.stdout + finished.stderr)
        XCTAssertEqual(report["passed"] as? Bool, true)
        for name in ["OKBASIC", "OKNTLMS", "OKTUN", "OKFWD", "OKDIRECT"] {
            XCTAssertEqual(hosts[name]?["passed"] as? Bool, true, "\(name): \(hosts[name] ?? [:])")
            XCTAssertEqual(stage(hosts[name], "host_auth"), "passed", name)
            XCTAssertEqual(hosts[name]?["commands"] as? Int, 5, name)
        }
        XCTAssertEqual(stage(hosts["OKBASIC"], "proxy_reachable"), "passed")
        XCTAssertEqual(stage(hosts["OKBASIC"], "proxy_auth"), "passed")
        XCTAssertEqual(stage(hosts["OKBASIC"], "connect"), "passed")
        XCTAssertEqual(stage(hosts["OKBASIC"], "affinity"), "n/a", "Basic authenticates every request")
        XCTAssertEqual(stage(hosts["OKTUN"], "proxy_auth"), "n/a")
        XCTAssertEqual(stage(hosts["OKDIRECT"], "proxy_reachable"), "n/a")
        for name in ["OKNTLMS", "OKTUN", "OKFWD", "OKDIRECT"] {
            XCTAssertEqual(stage(hosts[name], "affinity"), "passed", name)
            XCTAssertEqual(hosts[name]?["authentications"] as? Int, 1, "\(name): one handshake for five commands")
        }
        for host in [httpsNTLM, tunnel, forward, direct] {
            XCTAssertEqual(host.fleet.counters.authenticationsCompleted, 1, host.name)
            XCTAssertEqual(host.fleet.counters.commandsStarted, 5, host.name)
        }
        // The rule-4 warning is reported, and does not fail the check.
        let policy = try XCTUnwrap(hosts["OKFWD"]?["policy"] as? [[String: Any]])
        XCTAssertEqual(policy.first?["rule"] as? Int, 4)
        XCTAssertEqual(policy.first?["severity"] as? String, "warn")
        let routes = try XCTUnwrap(report["routes"] as? [[String: Any]])
        XCTAssertEqual(routes.first { $0["route"] as? String == "squid-auth" }?["hosts_ok"] as? Int, 2)

        let text = try winfleet(["check", "--inventory", inventory])
        XCTAssertEqual(text.status, 0, text.stdout)
        XCTAssertTrue(text.stdout.contains("passed: 5 of 5 host(s) passed every check"), text.stdout)
        XCTAssertTrue(text.stdout.contains("warn OKFWD (rule 4)"), text.stdout)
        XCTAssertTrue(text.stdout.contains("AFFINITY (5 CMD)"), text.stdout)
    }

    func testEachBrokenRouteFailsAtItsStage() throws {
        let authSquid = try startSquidWithBasicAuth()
        let authFront = try relayInFront(of: authSquid.port, name: "client→squid(auth)")
        let squid = try startSquid()
        let front = try relayInFront(of: squid.port, name: "client→squid")
        let tiny = try startTinyproxy()
        let tinyFront = try relayInFront(of: tiny.port, name: "client→tinyproxy")
        let https = try startHost("HTTPS", address: ProxyTestAddresses.host(28, 11), https: true, auth: .basic)
        let http = try startHost("HTTP", address: ProxyTestAddresses.host(28, 12))
        // Closes the connection after every third request: commands still work after
        // re-authenticating, but the session did not keep one connection.
        let flaky = try startHost("FLAKY", address: ProxyTestAddresses.host(28, 13)) { $0.faults.dropConnectionEvery = 3 }
        let deadPort = try Ports.free()
        let inventory = try writeInventory(
            routes: ["squid-auth": ["proxy": authFront.url, "proxy_auth": "basic", "proxy_credential": "proxy"],
                     "squid-wrong": ["proxy": authFront.url, "proxy_auth": "basic", "proxy_credential": "wrong"],
                     "squid": ["proxy": front.url],
                     "tiny-fwd": ["proxy": tinyFront.url, "mode": "forward"],
                     "dead": ["proxy": "http://127.0.0.1:\(deadPort)"]],
            hosts: [hostEntry(https, route: "squid-wrong", extra: ["name": "PROXYAUTH"]),
                    hostEntry(https, route: "dead", extra: ["name": "DEADPROXY"]),
                    hostEntry(https, route: "squid-auth", extra: ["name": "BADPORT", "port": 5999]),
                    hostEntry(http, route: "squid", extra: ["name": "HOSTAUTH", "credential": "wronghost"]),
                    hostEntry(http, route: "tiny-fwd", extra: ["name": "NOAFFINITY"]),
                    hostEntry(flaky, route: "squid", extra: ["name": "FLAKY"]),
                    hostEntry(http, route: "squid", auth: "basic", extra: ["name": "REFUSED"]),
                    hostEntry(http, route: "squid", extra: ["name": "GOOD"])],
            extraCredentials: ["wrong": ["username": Self.proxyUser, "password_env": "WRONG_PASS"],
                               "wronghost": ["username": Self.hostUser, "password_env": "WRONG_PASS"]])

        let (finished, hosts, report) = try check(inventory)

        XCTAssertEqual(finished.status, 1, finished.stdout + finished.stderr)
        XCTAssertEqual(report["passed"] as? Bool, false)
        XCTAssertEqual(stage(hosts["PROXYAUTH"], "proxy_reachable"), "passed")
        XCTAssertEqual(stage(hosts["PROXYAUTH"], "proxy_auth"), "failed", "\(hosts["PROXYAUTH"] ?? [:])")
        XCTAssertEqual(stage(hosts["DEADPROXY"], "proxy_reachable"), "failed", "\(hosts["DEADPROXY"] ?? [:])")
        XCTAssertEqual(stage(hosts["DEADPROXY"], "connect"), "not_reached")
        XCTAssertEqual(stage(hosts["BADPORT"], "connect"), "failed", "\(hosts["BADPORT"] ?? [:])")
        XCTAssertEqual(stage(hosts["HOSTAUTH"], "connect"), "passed")
        XCTAssertEqual(stage(hosts["HOSTAUTH"], "host_auth"), "failed", "\(hosts["HOSTAUTH"] ?? [:])")
        XCTAssertEqual(stage(hosts["NOAFFINITY"], "connect"), "passed")
        XCTAssertEqual(stage(hosts["NOAFFINITY"], "affinity"), "failed", "\(hosts["NOAFFINITY"] ?? [:])")
        XCTAssertEqual((hosts["NOAFFINITY"]?["error"] as? [String: Any])?["kind"] as? String, "affinity")
        XCTAssertEqual(stage(hosts["FLAKY"], "host_auth"), "passed")
        XCTAssertEqual(stage(hosts["FLAKY"], "affinity"), "failed", "\(hosts["FLAKY"] ?? [:])")
        XCTAssertGreaterThan(hosts["FLAKY"]?["authentications"] as? Int ?? 0, 1)
        XCTAssertEqual((hosts["REFUSED"]?["refusal"] as? [String: Any])?["kind"] as? String, "policy")
        XCTAssertEqual(hosts["GOOD"]?["passed"] as? Bool, true, "\(hosts["GOOD"] ?? [:])")
        XCTAssertEqual(https.fleet.counters.connectionsAccepted, 0, "no failing route reached the https host")

        let routes = try XCTUnwrap(report["routes"] as? [[String: Any]])
        let tinyRoute = try XCTUnwrap(routes.first { $0["route"] as? String == "tiny-fwd" })
        XCTAssertEqual(tinyRoute["affinity_errors"] as? Int, 1)
        let squidRoute = try XCTUnwrap(routes.first { $0["route"] as? String == "squid" })
        XCTAssertEqual(squidRoute["auth_errors"] as? Int, 1)
        XCTAssertEqual(squidRoute["affinity_errors"] as? Int, 1)
        XCTAssertEqual(squidRoute["hosts_ok"] as? Int, 1)

        let text = try winfleet(["check", "--inventory", inventory])
        XCTAssertEqual(text.status, 1)
        XCTAssertTrue(text.stdout.contains("FAILED: 1 of 8 host(s) passed every check, 1 refused before anything was sent"), text.stdout)
        XCTAssertTrue(text.stdout.contains("NOAFFINITY: affinity:"), text.stdout)
        XCTAssertTrue(text.stdout.contains("use mode tunnel"), text.stdout)
        XCTAssertFalse(text.stdout.contains(Self.proxyPassword) || text.stdout.contains(Self.hostPassword) || text.stdout.contains("Wrong-Pass-0"))
    }

    func testOfflineCheckSendsNothing() throws {
        let squid = try startSquid()
        let front = try relayInFront(of: squid.port, name: "client→squid")
        let host = try startHost("OFF1", address: ProxyTestAddresses.host(28, 21))
        let inventory = try writeInventory(routes: ["squid": ["proxy": front.url]], hosts: [hostEntry(host, route: "squid")])

        let finished = try winfleet(["check", "--inventory", inventory, "--offline"])

        XCTAssertEqual(finished.status, 0, finished.stdout)
        XCTAssertTrue(finished.stdout.contains("(rules only, no network)"), finished.stdout)
        XCTAssertTrue(finished.stdout.contains("passed: the rules allow 1 of 1 host(s)"), finished.stdout)
        XCTAssertEqual(front.connectionCount, 0)
        XCTAssertEqual(host.relay.connectionCount, 0)
    }
}
