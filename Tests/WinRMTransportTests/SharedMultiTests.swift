import Foundation
import TestSupport
import XCTest
@testable import WinRMTransport

/// Connections on the loop's shared multi handle share libcurl's connection cache; these tests hold
/// the line that makes that safe: no connection is ever handed another one's TCP connection, and a
/// dropped connection is really gone. Each test uses a loop of its own.
///
/// Address slice: 127.1.59.6-127.1.59.15 (raw servers; .11 and .12 are targets behind the proxy).
final class SharedMultiTests: XCTestCase {
    private func server(_ address: String) throws -> RawHTTPServer {
        let server = try RawHTTPServer(address: address) { _ in .text(200, "OK", contentType: "text/plain", "ok") }
        addTeardownBlock { server.stop() }
        return server
    }

    private func post(_ connection: HTTPConnection) async throws -> HTTPResponse {
        try await connection.post(body: Data("x".utf8), headers: ["Content-Type: text/plain"])
    }

    func testTwoConnectionsToOneHostNeverShareATCPConnection() async throws {
        let loop = CurlEventLoop()
        let host = try server("127.1.59.6")
        let first = HTTPConnection(options: HTTPConnectionOptions(url: host.url), loop: loop)
        let second = HTTPConnection(options: HTTPConnectionOptions(url: host.url), loop: loop)
        var firstPorts: Set<Int> = [], secondPorts: Set<Int> = []
        for _ in 0..<5 {
            async let a = post(first)
            async let b = post(second)
            let (ra, rb) = try await (a, b)
            firstPorts.insert(ra.localPort)
            secondPorts.insert(rb.localPort)
        }
        XCTAssertEqual(firstPorts.count, 1, "one TCP connection for all of the first's requests")
        XCTAssertEqual(secondPorts.count, 1, "one TCP connection for all of the second's requests")
        XCTAssertTrue(firstPorts.isDisjoint(with: secondPorts), "never each other's connection")
        let keys = await loop.sharedMultiKeys()
        XCTAssertEqual(keys, [[host.url]], "the second connection with the same key got a multi handle of its own")
    }

    func testHostsWithDistinctKeysShareOneMultiHandle() async throws {
        let loop = CurlEventLoop()
        let hosts = try ["127.1.59.7", "127.1.59.8"].map(server)
        let connections = hosts.map { HTTPConnection(options: HTTPConnectionOptions(url: $0.url), loop: loop) }
        for connection in connections { _ = try await post(connection) }
        let keys = await loop.sharedMultiKeys()
        XCTAssertEqual(keys, [Set(hosts.map(\.url))])
    }

    /// libcurl's per-request work walks its multi handle's whole connection and DNS caches, so a
    /// shared handle is filled only up to its size; one left without connections is closed.
    func testSharedMultiHandlesHoldAtMostTheirSizeAndCloseWhenEmpty() async throws {
        let loop = CurlEventLoop(connectionsPerSharedMulti: 2)
        let hosts = try ["127.1.59.13", "127.1.59.14", "127.1.59.15"].map(server)
        let connections = hosts.map { HTTPConnection(options: HTTPConnectionOptions(url: $0.url), loop: loop) }
        for connection in connections { _ = try await post(connection) }
        var keys = await loop.sharedMultiKeys()
        XCTAssertEqual(keys, [Set(hosts[0...1].map(\.url)), [hosts[2].url]])

        for connection in connections[0...1] { await connection.reset() }
        keys = await loop.sharedMultiKeys()
        XCTAssertEqual(keys, [[hosts[2].url]], "the emptied handle was closed, the one being filled kept")

        // Reset connections come back on the handle being filled, then on a new one.
        for connection in connections[0...1] { _ = try await post(connection) }
        keys = await loop.sharedMultiKeys()
        XCTAssertEqual(keys, [Set([hosts[2].url, hosts[0].url]), [hosts[1].url]])
    }

    func testResetDropsTheConnectionThatStaysInTheSharedCache() async throws {
        let loop = CurlEventLoop()
        let host = try server("127.1.59.9")
        let connection = HTTPConnection(options: HTTPConnectionOptions(url: host.url), loop: loop)
        let before = try await post(connection)
        let again = try await post(connection)
        XCTAssertEqual(again.localPort, before.localPort)
        XCTAssertEqual(again.newConnections, 0)
        await connection.reset()
        let after = try await post(connection)
        XCTAssertNotEqual(after.localPort, before.localPort, "reset opened a new TCP connection")
        XCTAssertEqual(after.newConnections, 1)

        // A connection given up for good leaves nothing the next one for the same host could pick up.
        var released: HTTPConnection? = connection
        let lastPort = after.localPort
        released = nil
        _ = released
        let successor = HTTPConnection(options: HTTPConnectionOptions(url: host.url), loop: loop)
        let fresh = try await post(successor)
        XCTAssertNotEqual(fresh.localPort, lastPort, "not the released connection's TCP connection")
        XCTAssertEqual(fresh.newConnections, 1)
    }

    /// libcurl sends requests for any target down a forwarding proxy's connection: two hosts behind
    /// one forwarding proxy must not share a cache, or the second would be handed the first's connection.
    func testHostsBehindOneForwardingProxyGetConnectionsOfTheirOwn() async throws {
        let loop = CurlEventLoop()
        let proxy = try server("127.1.59.10")
        func connection(to target: String) -> HTTPConnection {
            var options = HTTPConnectionOptions(url: "http://\(target):5985/wsman")
            options.proxy = ProxyOptions(url: "http://\(proxy.address):\(proxy.port)", tunnel: false)
            return HTTPConnection(options: options, loop: loop)
        }
        let first = connection(to: "127.1.59.11")
        let second = connection(to: "127.1.59.12")
        let a = try await post(first)
        let b = try await post(second)
        XCTAssertNotEqual(a.localPort, b.localPort, "the second host was handed the first's proxy connection")
        XCTAssertEqual(b.newConnections, 1)
        XCTAssertEqual(proxy.requests.map(\.path), ["http://127.1.59.11:5985/wsman", "http://127.1.59.12:5985/wsman"])
        let keys = await loop.sharedMultiKeys()
        XCTAssertEqual(keys.map(\.count), [1], "one forwarded connection per proxy on the shared handle: \(keys)")
    }
}
