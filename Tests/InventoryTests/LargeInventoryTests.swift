import Foundation
import XCTest
@testable import Inventory

/// A fleet of thousands of hosts must load, select and fold without quadratic blow-ups.
final class LargeInventoryTests: XCTestCase {
    func testTwentyThousandHosts() throws {
        let hosts = (0..<20_000).map { index -> String in
            let route = index % 2 == 1 ? "squid" : "direct"
            return #"{"name":"win\#(String(format: "%05d", index))","groups":["g\#(index % 50)"],"route":"\#(route)"}"#
        }
        let json = #"{"routes":{"squid":{"proxy":"http://127.0.0.1:3128"}},"hosts":["# + hosts.joined(separator: ",") + "]}"
        let started = Date()
        let inventory = try parseInventory(json)
        XCTAssertEqual(inventory.hosts.count, 20_000)

        let selected = try TargetExpression.parse("win[00000-09999]&group:g2,!route:squid").select(from: inventory)
        XCTAssertEqual(selected.count, 200)
        XCTAssertEqual(HostSet.fold(selected.map(\.name)).split(separator: ",").count, 200, "every 50th host: nothing contiguous")

        let everything = try TargetExpression.parse("all").select(from: inventory)
        XCTAssertEqual(HostSet.fold(everything.map(\.name)), "win[00000-19999]")
        // Generous bound (debug build, shared 2-core machine); quadratic code would take minutes.
        XCTAssertLessThan(Date().timeIntervalSince(started), 30)
    }
}
