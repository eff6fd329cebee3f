import Foundation
import XCTest
@testable import WSMan

/// Rough throughput guard: the fleet parses thousands of messages per second on two cores.
/// Bounds are loose (debug build, shared machine); they catch accidental quadratic behaviour.
final class ThroughputTests: XCTestCase {
    func testSmallMessagesPerSecond() throws {
        let exchange = try Fixtures.exchange("winrs_standard", 3)
        let request = WSManRequest(messageID: try WinRSServer.parseRequest(exchange.request).messageID, xml: "",
                                   action: WSManAction.receive, commandID: "CF84C20A-0A35-43FA-AF78-0B4711DA5F30")
        let ctx = WSManEndpointContext(to: "https://win01:5986/wsman")
        let count = 2000
        let start = Date()
        for _ in 0..<count {
            let output = try WinRSResponse.parseReceive(exchange.response, request: request)
            XCTAssertEqual(output.stdout.count, 4)
            _ = WinRS.receive(ctx, shellID: "4283CBDC-3706-415B-88BD-B385F3E51A53", commandID: "CF84C20A-0A35-43FA-AF78-0B4711DA5F30")
        }
        let elapsed = Date().timeIntervalSince(start)
        print("parse+build of \(count) small Receive messages: \(String(format: "%.3f", elapsed)) s "
              + "(\(Int(Double(count) / elapsed)) per second)")
        XCTAssertLessThan(elapsed, 10, "far below the expected throughput")
    }

    func testLargeReceiveResponse() throws {
        // ~150 KB of base64 in 40 chunks, as a full Receive under the default MaxEnvelopeSize.
        let chunk = Data((0..<2800).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let request = WinRS.receive(WSManEndpointContext(to: "http://h:5985/wsman"), shellID: "S", commandID: "C")
        let xml = Data(WinRSServer.receiveResponse(relatesTo: request.messageID, commandID: "C",
                                                   stdout: Array(repeating: chunk, count: 40), done: true, exitCode: 0).utf8)
        XCTAssertGreaterThan(xml.count, 150_000)
        let count = 50
        let start = Date()
        for _ in 0..<count {
            let output = try WinRSResponse.parseReceive(xml, request: request)
            XCTAssertEqual(output.stdout.count, 2800 * 40)
        }
        let elapsed = Date().timeIntervalSince(start)
        print("parse of \(count) 150 KB Receive messages: \(String(format: "%.3f", elapsed)) s")
        XCTAssertLessThan(elapsed, 10)
    }

    /// Hosts are parsed on many threads at once; XMLParser must not share state between them.
    func testConcurrentParsing() throws {
        let exchanges = try Fixtures.winrsFolders.flatMap { try Fixtures.exchanges($0) }
        let failures = NSLock()
        var failed: [String] = []
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for round in 0..<40 {
                let exchange = exchanges[(worker * 7 + round) % exchanges.count]
                do {
                    let root = try XMLNode.parse(exchange.response)
                    let reparsed = try XMLNode.parse(exchange.response)
                    if canonicalTree(root) != canonicalTree(reparsed) { throw WSManError.unexpectedResponse("differs") }
                } catch {
                    failures.lock(); failed.append("\(exchange.name): \(error)"); failures.unlock()
                }
            }
        }
        XCTAssertEqual(failed, [])
    }
}
