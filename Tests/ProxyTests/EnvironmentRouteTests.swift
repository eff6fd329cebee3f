import Foundation
import XCTest

/// A `"proxy": "env"` route through the `winfleet` binary: HTTP_PROXY sends hosts through a real
/// squid, NO_PROXY (addresses, CIDR, domain suffixes, `*`) sends them straight to the host.
/// Addresses 127.1.26.x.
final class EnvironmentRouteTests: ProxyTestCase {
    private var squid: SquidProxy!
    private var front: RecordingRelay!
    private var hosts: [RelayedHost] = []
    private var inventory: String!

    override func setUpWithError() throws {
        try super.setUpWithError()
        squid = try startSquid()
        front = try relayInFront(of: squid.port, name: "client→squid")
        hosts = try (1...3).map { try startHost("ENV\($0)", address: ProxyTestAddresses.host(26, $0)) }
        inventory = try writeInventory(routes: ["env": ["proxy": "env"]], hosts: hosts.map { hostEntry($0, route: "env") })
    }

    private func hostsJSON(_ environment: [String: String]) throws -> [String: [String: Any]] {
        let listed = try winfleet(["hosts", "--inventory", inventory, "--format", "json"], environment: environment)
        XCTAssertEqual(listed.status, 0, listed.stderr)
        var byName: [String: [String: Any]] = [:]
        for line in listed.stdout.split(separator: "\n") {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            byName[object["name"] as! String] = object
        }
        return byName
    }

    func testNoProxyEntriesGoDirectAndTheRestThroughTheProxy() throws {
        let marker = "marker-env-3Lc"
        markers = [marker]
        let environment = ["HTTP_PROXY": front.url,
                           "NO_PROXY": "localhost, \(hosts[1].address),\(ProxyTestAddresses.host(26, 3))/32,.example.test"]

        let listed = try hostsJSON(environment)
        XCTAssertEqual(listed["ENV1"]?["mode"] as? String, "tunnel")
        XCTAssertEqual(listed["ENV1"]?["proxy"] as? String, front.url)
        XCTAssertTrue((listed["ENV1"]?["effective_route"] as? String ?? "").contains("from HTTP_PROXY"), "\(listed["ENV1"] ?? [:])")
        XCTAssertEqual(listed["ENV2"]?["mode"] as? String, "direct")
        XCTAssertEqual(listed["ENV2"]?["effective_route"] as? String, "direct (NO_PROXY matches \(hosts[1].address))")
        XCTAssertEqual(listed["ENV3"]?["effective_route"] as? String, "direct (NO_PROXY matches \(ProxyTestAddresses.host(26, 3))/32)")
        XCTAssertEqual(front.connectionCount, 0, "listing hosts sends nothing")

        let run = try winfleet(["run", "--inventory", inventory, "--format", "jsonl", "--", "echo", marker], environment: environment)
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        let lines = run.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines.allSatisfy { $0.contains("\"status\":\"ok\"") && $0.contains(marker) }, run.stdout)
        // Only ENV1 went through squid; ENV2 and ENV3 were reached directly.
        XCTAssertTrue(squid.waitForAccessLog(containing: "CONNECT \(hosts[0].address):5985"), squid.accessLog())
        XCTAssertFalse(squid.accessLog().contains(hosts[1].address), squid.accessLog())
        XCTAssertFalse(squid.accessLog().contains(hosts[2].address), squid.accessLog())
        XCTAssertFalse(front.allBytes.contains(hosts[1].address))
        XCTAssertGreaterThan(hosts[1].relay.connectionCount, 0)
        XCTAssertGreaterThan(hosts[2].relay.connectionCount, 0)
    }

    func testLowerCaseVariablesWinAndAStarBypassesEverything() throws {
        // curl's order: http_proxy before HTTP_PROXY; no_proxy before NO_PROXY.
        let deadEnd = try deadEndRelay(name: "client→nothing")
        let throughProxy = ["http_proxy": front.url, "HTTP_PROXY": deadEnd.url, "no_proxy": hosts[2].address, "NO_PROXY": "*"]
        let listed = try hostsJSON(throughProxy)
        XCTAssertEqual(listed["ENV1"]?["proxy"] as? String, front.url)
        XCTAssertEqual(listed["ENV3"]?["mode"] as? String, "direct")
        let run = try winfleet(["run", "--inventory", inventory, "--target", "ENV1,ENV3", "--format", "jsonl", "--", "hostname"],
                               environment: throughProxy)
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertEqual(deadEnd.connectionCount, 0)
        XCTAssertGreaterThan(front.connectionCount, 0)

        let bypass = ["HTTP_PROXY": deadEnd.url, "NO_PROXY": "*"]
        let direct = try winfleet(["run", "--inventory", inventory, "--format", "jsonl", "--", "hostname"], environment: bypass)
        XCTAssertEqual(direct.status, 0, direct.stdout + direct.stderr)
        XCTAssertEqual(deadEnd.connectionCount, 0, "NO_PROXY=* sends nothing to the proxy")
    }
}
