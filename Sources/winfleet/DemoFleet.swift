import Foundation
import WinRMSim

/// The fleet `winfleet` opens when no inventory is configured: simulated hosts on loopback,
/// in three routes, with the failures an operator should learn to read — a few hosts that
/// refuse the credentials, and a route whose middlebox closes the connection right after the
/// NTLM handshake (no connection affinity).
final class DemoFleet {
    static let password = SimulatorConfig.demoUser.password
    static let passwordVariable = "WINFLEET_DEMO_PASSWORD"

    let directory: String
    let inventoryPath: String
    private var fleets: [SimulatedFleet] = []

    private struct Segment {
        var route: String
        var prefix: String
        var firstAddress: String
        var count: Int
        var https: Bool
        var auth: SimAuth
        var dropAfterAuth: Bool
        var authFail: Set<String>
        var groups: [String]
    }

    init() throws {
        directory = NSTemporaryDirectory() + "winfleet-demo-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        inventoryPath = directory + "/demo-inventory.json"
        let segments = [
            Segment(route: "datacenter", prefix: "DC", firstAddress: "127.3.0.1", count: 48, https: false, auth: .ntlm,
                    dropAfterAuth: false, authFail: ["DC0007", "DC0031"], groups: ["iis", "sql"]),
            Segment(route: "branch-https", prefix: "BR", firstAddress: "127.3.1.1", count: 16, https: true, auth: .ntlm,
                    dropAfterAuth: false, authFail: [], groups: ["branch"]),
            Segment(route: "legacy-lb", prefix: "LB", firstAddress: "127.3.2.1", count: 6, https: false, auth: .ntlm,
                    dropAfterAuth: true, authFail: [], groups: ["legacy"]),
        ]
        var routes: [String] = []
        var hosts: [String] = []
        for segment in segments {
            var config = SimulatorConfig(hostCount: segment.count, firstAddress: segment.firstAddress, https: segment.https,
                                         auth: segment.auth)
            config.hostNamePrefix = segment.prefix
            config.dropAfterAuth = segment.dropAfterAuth
            config.latencyMilliseconds = 5
            config.faults.authFailHosts = segment.authFail
            let fleet = SimulatedFleet(config: config)
            let started = try fleet.start()
            fleets.append(fleet)
            var tls = ""
            if segment.https, let pem = fleet.certificatePEM {
                let caPath = directory + "/\(segment.route).ca.pem"
                try Data(pem.utf8).write(to: URL(fileURLWithPath: caPath))
                tls = ", \"tls\": {\"ca_file\": \(Self.json(caPath))}"
            }
            routes.append("\(Self.json(segment.route)): {}")
            for host in started {
                let groups = (["demo"] + segment.groups).map(Self.json).joined(separator: ", ")
                hosts.append("""
                    {"name": \(Self.json(host.name)), "address": \(Self.json(host.address)), "port": \(host.port), \
                "transport": "\(segment.https ? "https" : "http")", "auth": "ntlm", "route": \(Self.json(segment.route)), \
                "groups": [\(groups)]\(tls)}
                """)
            }
        }
        let inventory = """
        {
          "credentials": {"demo": {"username": "WINFLEET\\\\operator", "password_env": "\(Self.passwordVariable)"}},
          "defaults": {"credential": "demo"},
          "routes": {\(routes.joined(separator: ", "))},
          "hosts": [
        \(hosts.joined(separator: ",\n"))
          ]
        }
        """
        try Data(inventory.utf8).write(to: URL(fileURLWithPath: inventoryPath))
    }

    func shutdown() {
        fleets.forEach { $0.shutdown() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func json(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
