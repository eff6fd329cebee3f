import Foundation
import XCTest
@testable import Fleet

final class StoreThenPublishTests: XCTestCase {
    private func result(_ host: String) -> HostResult {
        HostResult(host: host, route: "direct", status: .ok, exitCode: 0, startedAt: Date(), duration: 0)
    }

    /// Reports made while a commit runs wait for the next round together, and nothing is shown
    /// before the commit that holds it returned.
    func testReportsDuringACommitShareTheNextOneAndAreShownAfterIt() {
        let lock = NSLock()
        var batches: [[String]] = []
        var stored = Set<String>()
        var shownBeforeStored: [String] = []
        var shown: [String] = []
        let firstCommitStarted = DispatchSemaphore(value: 0)
        let releaseFirstCommit = DispatchSemaphore(value: 0)
        let delivery = StoreThenPublish(store: { entries in
            let hosts = entries.compactMap { entry -> String? in
                if case .result(let result, _) = entry { return result.host }
                return nil
            }
            let first = lock.withLock { batches.isEmpty }
            if first {
                firstCommitStarted.signal()
                releaseFirstCommit.wait()
            }
            lock.withLock {
                batches.append(hosts)
                stored.formUnion(hosts)
            }
        }, publish: { update in
            guard case .result(let result) = update else { return }
            lock.withLock {
                if !stored.contains(result.host) { shownBeforeStored.append(result.host) }
                shown.append(result.host)
            }
        })
        let writer = Thread { delivery.submit(.init(entry: .result(self.result("h0"), runID: 1), updates: [.result(self.result("h0"))])) }
        writer.start()
        firstCommitStarted.wait()
        for index in 1...50 {
            let host = "h\(index)"
            delivery.submit(.init(entry: .result(result(host), runID: 1), updates: [.result(result(host))]))
        }
        XCTAssertEqual(lock.withLock { shown }, [], "nothing is shown while its commit is still running")
        releaseFirstCommit.signal()
        delivery.flush()
        lock.withLock {
            XCTAssertEqual(batches.count, 2, "the 50 reports made during the first commit share one: \(batches.map(\.count))")
            XCTAssertEqual(batches.last?.count, 50)
            XCTAssertEqual(shown, (0...50).map { "h\($0)" }, "shown in the order reported")
            XCTAssertEqual(shownBeforeStored, [])
        }
        delivery.stop()
    }

    /// Commit delay: what is reported within the delay after a commit waits for the next one, all of
    /// it in one commit; `flush` stores it at once instead of waiting the delay out.
    func testReportsWithinTheCommitDelayShareOneCommitThatFlushBringsForward() {
        let lock = NSLock()
        var batches: [Int] = []
        var shown: [String] = []
        let delivery = StoreThenPublish(commitDelay: 3600, store: { entries in
            lock.withLock { batches.append(entries.count) }
        }, publish: { update in
            if case .result(let result) = update { lock.withLock { shown.append(result.host) } }
        })
        delivery.submit(.init(entry: .result(result("h0"), runID: 1), updates: [.result(result("h0"))]))
        delivery.flush()
        for index in 1...20 {
            delivery.submit(.init(entry: .result(result("h\(index)"), runID: 1), updates: [.result(result("h\(index)"))]))
        }
        Thread.sleep(forTimeInterval: 0.05)
        lock.withLock {
            XCTAssertEqual(batches, [1], "the delay holds the next commit")
            XCTAssertEqual(shown, ["h0"], "nothing shown before its commit")
        }
        delivery.flush()
        lock.withLock {
            XCTAssertEqual(batches, [1, 20])
            XCTAssertEqual(shown, (0...20).map { "h\($0)" })
        }
        delivery.stop()
    }

    /// A final report (a run's last result) is committed and shown without waiting out the delay,
    /// together with what the delay held until then.
    func testAFinalReportDoesNotWaitOutTheCommitDelay() {
        let lock = NSLock()
        var batches: [Int] = []
        var shown: [String] = []
        let allShown = DispatchSemaphore(value: 0)
        let delivery = StoreThenPublish(commitDelay: 3600, store: { entries in
            lock.withLock { batches.append(entries.count) }
        }, publish: { update in
            guard case .result(let result) = update else { return }
            let count = lock.withLock { shown.append(result.host); return shown.count }
            if count == 6 { allShown.signal() }
        })
        delivery.submit(.init(entry: .result(result("h0"), runID: 1), updates: [.result(result("h0"))]))
        delivery.flush()
        for index in 1...4 {
            delivery.submit(.init(entry: .result(result("h\(index)"), runID: 1), updates: [.result(result("h\(index)"))]))
        }
        delivery.submit(.init(entry: .result(result("h5"), runID: 1), updates: [.result(result("h5"))]), final: true)
        XCTAssertEqual(allShown.wait(timeout: .now() + 10), .success, "the final report was held by the delay")
        lock.withLock {
            XCTAssertEqual(batches, [1, 5])
            XCTAssertEqual(shown, (0...5).map { "h\($0)" })
        }
        delivery.stop()
    }

    /// Updates with nothing to store are not held by the commit delay.
    func testUpdatesWithNothingToStoreAreNotDelayed() {
        let shown = DispatchSemaphore(value: 0)
        let delivery = StoreThenPublish(commitDelay: 3600, store: { _ in }, publish: { update in
            if case .hostState = update { shown.signal() }
        })
        delivery.submit(.init(entry: .result(result("h0"), runID: 1), updates: []))
        delivery.flush()
        delivery.submit(.init(entry: nil, updates: [.hostState(host: "h1", state: .running)]))
        XCTAssertEqual(shown.wait(timeout: .now() + 5), .success, "published without waiting out the delay")
        delivery.stop()
    }

    func testUpdatesWithoutAnEntryAreShownInOrderToo() {
        var shown: [String] = []
        var commits = 0
        let delivery = StoreThenPublish(store: { _ in commits += 1 }, publish: { update in
            if case .hostState(let host, _) = update { shown.append(host) }
        })
        delivery.submit(.init(entry: nil, updates: [.hostState(host: "a", state: .done)]))
        delivery.submit(.init(entry: .result(result("b"), runID: 1), updates: [.hostState(host: "b", state: .done)]))
        delivery.flush()
        XCTAssertEqual(shown, ["a", "b"])
        XCTAssertEqual(commits, 1, "an item with nothing to store commits nothing")
        delivery.stop()
    }
}
