import Foundation
import TestSupport
import XCTest
@testable import WinRMTransport

/// The loop keeps a kept connection's socket registered with epoll between requests and learns of
/// every close from libcurl's close-socket callback; it is also the executor of the tasks that
/// prefer it. Addresses: 127.1.59.16, 127.1.59.17.
final class CurlEventLoopTests: XCTestCase {
    /// Each answer closes the connection, so every request opens a new socket, which mostly gets the
    /// number the closed one had: a registration the loop failed to forget would leave the new
    /// socket unwatched and the request hanging until its timeout.
    func testSocketNumbersReusedAfterACloseAreWatchedAgain() async throws {
        let loop = CurlEventLoop()
        let connection = try connectionToAServer(at: "127.1.59.16", closingAfterEachAnswer: true, loop: loop)
        var ports: Set<Int> = []
        for _ in 0..<30 {
            let response = try await connection.post(body: Data("x".utf8), headers: ["Content-Type: text/plain"])
            XCTAssertEqual(response.status, 200)
            ports.insert(response.localPort)
        }
        XCTAssertEqual(ports.count, 30, "a new TCP connection for every request")
    }

    /// A task that prefers the loop runs on the loop thread, before and after each answer: the
    /// answer resumes it there, and its next request starts without a hop to another thread.
    func testATaskThatPrefersTheLoopRunsOnItAcrossRequests() async throws {
        let loop = CurlEventLoop()
        let connection = try connectionToAServer(at: "127.1.59.17", closingAfterEachAnswer: false, loop: loop)
        XCTAssertFalse(loop.isCurrent, "the test's own task runs elsewhere")
        let onLoop = await Task(executorPreference: loop) { () -> [Bool] in
            var seen = [loop.isCurrent]
            for _ in 0..<5 {
                let response = try? await connection.post(body: Data("x".utf8), headers: ["Content-Type: text/plain"])
                seen.append(response?.status == 200 && loop.isCurrent)
            }
            return seen
        }.value
        XCTAssertEqual(onLoop, Array(repeating: true, count: 6))
        XCTAssertFalse(loop.isCurrent)
    }

    /// A connection on `loop` to a server that answers every POST with 200 "ok".
    private func connectionToAServer(at address: String, closingAfterEachAnswer close: Bool,
                                     loop: CurlEventLoop) throws -> HTTPConnection {
        let server = try RawHTTPServer(address: address) { _ in
            RawHTTPServer.Response(status: 200, headers: [("Content-Type", "text/plain")], body: Data("ok".utf8), close: close)
        }
        addTeardownBlock { server.stop() }
        var options = HTTPConnectionOptions(url: server.url)
        options.transferTimeout = 5
        return HTTPConnection(options: options, loop: loop)
    }
}
