import Foundation
import XCTest
@testable import WinRMSim
#if canImport(Glibc)
import Glibc
#endif

final class SimulatedFleetTests: XCTestCase {
    func testAddressPlanSkipsNetworkAndBroadcastOctets() throws {
        let plan = try HostAddressPlan.plan(count: 300, firstAddress: "127.1.0.1", prefix: "WIN")
        XCTAssertEqual(plan[0], .init(name: "WIN0001", address: "127.1.0.1"))
        XCTAssertEqual(plan[253], .init(name: "WIN0254", address: "127.1.0.254"))
        XCTAssertEqual(plan[254], .init(name: "WIN0255", address: "127.1.1.1"))
        XCTAssertEqual(Set(plan.map(\.address)).count, 300)
        XCTAssertThrowsError(try HostAddressPlan.plan(count: 1, firstAddress: "10.0.0.1", prefix: "WIN"))
        XCTAssertThrowsError(try HostAddressPlan.plan(count: 1, firstAddress: "127.1.0", prefix: "WIN"))
        XCTAssertEqual(try HostAddressPlan.plan(count: 10_000, firstAddress: "127.1.0.1", prefix: "WIN").last?.name, "WIN10000")
    }

    func testThousandHostsStartQuicklyAndAllAcceptConnections() throws {
        let started = Date()
        let fleet = try TestFleet.start { $0.hostCount = 1000; $0.auth = .ntlm }
        defer { fleet.shutdown() }
        let startup = Date().timeIntervalSince(started)
        XCTAssertLessThan(startup, 5, "1000 listeners must come up fast")
        XCTAssertEqual(fleet.hosts.count, 1000)
        XCTAssertEqual(fleet.hosts.last?.name, "WIN1000")
        for host in fleet.hosts {
            XCTAssertTrue(Self.tcpConnects(host.address, host.port), "\(host.name) \(host.address) does not accept")
        }
        // Give the event loops a moment to register every accept.
        let deadline = Date().addingTimeInterval(3)
        while fleet.counters.connectionsAccepted < 1000 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertEqual(fleet.counters.connectionsAccepted, 1000)
        XCTAssertEqual(fleet.counters.connectionsAcceptedPerHost.count, 1000)
    }

    func testInventoryDescribesTheFleet() throws {
        let fleet = try TestFleet.start { $0.hostCount = 3; $0.auth = .basic; $0.allowUnencrypted = true }
        defer { fleet.shutdown() }
        let object = try JSONSerialization.jsonObject(with: fleet.inventoryJSON()) as? [String: Any]
        let credentials = object?["credentials"] as? [String: [String: String]]
        XCTAssertEqual(credentials?["demo"], ["username": "WINFLEET\\operator", "password_env": "WINFLEET_DEMO_PASSWORD"])
        let defaults = object?["defaults"] as? [String: Any]
        XCTAssertEqual(defaults?["transport"] as? String, "http")
        XCTAssertEqual(defaults?["auth"] as? String, "basic")
        XCTAssertEqual(defaults?["allow_unencrypted"] as? Bool, true)
        XCTAssertNotNil(object?["routes"] as? [String: Any])
        let hosts = object?["hosts"] as? [[String: Any]]
        XCTAssertEqual(hosts?.count, 3)
        XCTAssertEqual(hosts?[1]["name"] as? String, "WIN0002")
        XCTAssertEqual(hosts?[1]["address"] as? String, fleet.hosts[1].address)
        XCTAssertEqual(hosts?[1]["port"] as? Int, fleet.hosts[1].port)
        XCTAssertEqual(hosts?[1]["groups"] as? [String], ["sim"])
    }

    func testHTTPSInventoryPointsAtTheWrittenCertificate() throws {
        let fleet = try TestFleet.start { $0.hostCount = 2; $0.https = true }
        defer { fleet.shutdown() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("winrmsim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("inventory.json").path
        let written = try fleet.writeInventory(to: path)
        XCTAssertEqual(written, [path, path + ".ca.pem"])
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let defaults = object?["defaults"] as? [String: Any]
        XCTAssertEqual(defaults?["transport"] as? String, "https")
        XCTAssertEqual(defaults?["auth"] as? String, "ntlm")
        XCTAssertEqual((defaults?["tls"] as? [String: String])?["ca_file"], path + ".ca.pem")
        XCTAssertNil(defaults?["allow_unencrypted"])
        let pem = try String(contentsOfFile: path + ".ca.pem", encoding: .utf8)
        XCTAssertTrue(pem.hasPrefix("-----BEGIN CERTIFICATE-----"))

        // curl verifies the chain and the IP SAN of every host address against the written CA file.
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            throw MissingPeer(description: "the curl command is not installed: apt-get install curl (scripts/setup does)")
        }
        for host in fleet.hosts {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", path + ".ca.pem", "--noproxy", "*",
                                 "-X", "POST", "https://\(host.address):\(host.port)/wsman"]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            process.waitUntilExit()
            let code = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(code, "401", "TLS verification against \(host.address) failed (curl exit \(process.terminationStatus))")
        }
    }

    static func tcpConnects(_ address: String, _ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, address, &addr.sin_addr)
        let result = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }
}

final class SimulatedHTTPTests: XCTestCase {
    /// What does not parse as HTTP gets HTTP.sys's answer: 400, and the connection closed.
    func testARequestThatIsNotHTTPGets400AndAClose() throws {
        let fleet = try TestFleet.start { $0.auth = .ntlm }
        defer { fleet.shutdown() }
        let host = fleet.hosts[0]
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(socket, 0)
        defer { Glibc.close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(host.port).bigEndian)
        inet_pton(AF_INET, host.address, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(connected, 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let garbage = Array("THIS IS NOT HTTP\r\n\r\n".utf8)
        XCTAssertEqual(Glibc.send(socket, garbage, garbage.count, 0), garbage.count)
        var received = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = Glibc.recv(socket, &chunk, chunk.count, 0)
            if count <= 0 { break }
            received += chunk[0..<count]
        }
        let answer = String(decoding: received, as: UTF8.self)
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), answer)
        XCTAssertTrue(answer.contains("Connection: close\r\n"), answer)
        XCTAssertTrue(answer.hasSuffix("\r\n\r\n"), "no body, and then the close: \(answer)")
    }
}

final class CurlInteropTests: XCTestCase {
    /// libcurl (our transport) sends `Expect: 100-continue` for larger bodies and waits up to a second for
    /// the interim answer; HTTP.sys answers at once, and so must the simulator.
    func testExpectContinueIsAnsweredAtOnce() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            throw MissingPeer(description: "the curl command is not installed: apt-get install curl (scripts/setup does)")
        }
        let fleet = try TestFleet.start { $0.auth = .basic; $0.allowUnencrypted = true }
        defer { fleet.shutdown() }
        let host = fleet.hosts[0]
        let body = FileManager.default.temporaryDirectory.appendingPathComponent("winrmsim-\(UUID().uuidString).xml")
        try Data(repeating: UInt8(ascii: "x"), count: 4096).write(to: body)
        defer { try? FileManager.default.removeItem(at: body) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--noproxy", "*", "-u", "operator:winfleet-demo",
                             "-H", "Content-Type: application/soap+xml;charset=UTF-8", "-H", "Expect: 100-continue",
                             "--data-binary", "@" + body.path, "http://\(host.address):\(host.port)/wsman"]
        let pipe = Pipe()
        process.standardOutput = pipe
        let started = Date()
        try process.run()
        process.waitUntilExit()
        let code = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(code, "500", "the garbage body is a SOAP fault, not a hang")
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.8)
    }
}
