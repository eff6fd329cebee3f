import Foundation
import XCTest
@testable import Inventory

final class HostSetTests: XCTestCase {
    func testExpand() throws {
        XCTAssertEqual(try HostSet.expand("win[01-03]"), ["win01", "win02", "win03"])
        XCTAssertEqual(try HostSet.expand("win[1-3,7]"), ["win1", "win2", "win3", "win7"])
        XCTAssertEqual(try HostSet.expand("web[08-11]"), ["web08", "web09", "web10", "web11"])
        XCTAssertEqual(try HostSet.expand("web[98-101]"), ["web98", "web99", "web100", "web101"])
        XCTAssertEqual(try HostSet.expand("web[098-101]"), ["web098", "web099", "web100", "web101"])
        XCTAssertEqual(try HostSet.expand("web[01-100]").last, "web100")
        XCTAssertEqual(try HostSet.expand("web[01-100]").first, "web01")
        XCTAssertEqual(try HostSet.expand("r[1-2]n[1-2]"), ["r1n1", "r1n2", "r2n1", "r2n2"])
        XCTAssertEqual(try HostSet.expand("web[01-02]-eth0"), ["web01-eth0", "web02-eth0"])
        XCTAssertEqual(try HostSet.expand("web[01-02],db1"), ["web01", "web02", "db1"])
        XCTAssertEqual(try HostSet.expand("plain"), ["plain"])
        XCTAssertEqual(try HostSet.expand("x[0]"), ["x0"])
        XCTAssertEqual(try HostSet.expand("x[007]"), ["x007"])
    }

    func testExpandErrors() {
        XCTAssertThrowsError(try HostSet.expand("web[05-01]")) { XCTAssertTrue("\($0)".contains("runs backwards")) }
        XCTAssertThrowsError(try HostSet.expand("web[01-03")) { XCTAssertTrue("\($0)".contains("never closed")) }
        XCTAssertThrowsError(try HostSet.expand("web01]")) { XCTAssertTrue("\($0)".contains("without '['")) }
        XCTAssertThrowsError(try HostSet.expand("web[1-010]")) { XCTAssertTrue("\($0)".contains("mixes paddings")) }
        XCTAssertThrowsError(try HostSet.expand("web[x]")) { XCTAssertTrue("\($0)".contains("not a number")) }
        XCTAssertThrowsError(try HostSet.expand("a,,b")) { XCTAssertTrue("\($0)".contains("empty name")) }
        XCTAssertThrowsError(try HostSet.expand("w[1-1000000]")) { XCTAssertTrue("\($0)".contains("more than 100000")) }
        XCTAssertThrowsError(try HostSet.expand("a[1-1000]b[1-1000]")) { XCTAssertTrue("\($0)".contains("more than 100000")) }
    }

    func testFold() {
        let forty = (1...40).map { String(format: "win%04d", $0) } + ["win0042"]
        XCTAssertEqual(HostSet.fold(forty), "win[0001-0040,0042]")
        XCTAssertEqual(HostSet.fold(["web01", "web02", "web03", "db1"]), "db1,web[01-03]")
        XCTAssertEqual(HostSet.fold(["web03", "web01", "web02", "web01"]), "web[01-03]", "unordered input, duplicates")
        XCTAssertEqual(HostSet.fold(["web01"]), "web01")
        XCTAssertEqual(HostSet.fold([String]()), "")
        XCTAssertEqual(HostSet.fold(["mail", "dc", "web1"]), "dc,mail,web1")
        XCTAssertEqual(HostSet.fold(["web1", "web2", "web10"]), "web[1-2,10]")
        XCTAssertEqual(HostSet.fold(["web1", "web01"]), "web1,web01", "different padding never merges")
        XCTAssertEqual(HostSet.fold(["web08", "web09", "web10", "web11"]), "web[08-11]", "10 and 11 fit width 2")
        XCTAssertEqual(HostSet.fold((1...100).map { String(format: "web%02d", $0) }), "web[01-100]")
        XCTAssertEqual(HostSet.fold(["web01-eth0", "web02-eth0", "web01-eth1"]), "web01-eth[0-1],web02-eth0",
                       "folds on the last number")
        XCTAssertEqual(HostSet.fold(["a1.corp", "a2.corp", "a3.lab"]), "a[1-2].corp,a3.lab", "suffixes kept apart")
        XCTAssertEqual(HostSet.fold(["web01", "web03", "web05", "web06"]), "web[01,03,05-06]")
        XCTAssertEqual(HostSet.foldedParts(["db1", "web01", "web02"]), ["db1", "web[01-02]"])
    }

    func testFoldExpandRoundTrips() throws {
        let samples: [[String]] = [
            (1...40).map { String(format: "win%04d", $0) } + ["win0042"],
            ["web1", "web01", "web001", "web10", "web100", "db", "db2", "x9", "x10", "x011"],
            ["n0", "n00", "n000", "n1", "n01"],
            (0...250).map { "rack\($0 % 3)-node\(String(format: "%03d", $0))" },
            ["a", "b", "c1", "c3", "c2", "hostwithaverylongnumber123456789012345678901"],
        ]
        for names in samples {
            let folded = HostSet.fold(names)
            XCTAssertEqual(Set(try HostSet.expand(folded)), Set(names), folded)
            XCTAssertEqual(try HostSet.expand(folded).count, Set(names).count, "no duplicates after a round trip: \(folded)")
        }
        for text in ["win[0001-0040,0042]", "db1,web[01-03]", "web[1-2,10]", "web[08-11]"] {
            XCTAssertEqual(HostSet.fold(try HostSet.expand(text)), text)
        }
    }

    func testFoldOfSelectedHostsMatchesTheTargetThatChoseThem() throws {
        let inventory = try parseInventory("{ \"hosts\": [ " + (1...12).map { #"{ "name": "web\#(String(format: "%02d", $0))" }"# }.joined(separator: ",") + " ] }")
        let selected = try TargetExpression.parse("web[01-12],!web07").select(from: inventory)
        XCTAssertEqual(HostSet.fold(selected.map(\.name)), "web[01-06,08-12]")
    }
}
