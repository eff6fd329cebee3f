import Foundation

/// What the engine hands its recorder: a finished host result, or a session event.
public enum RecorderEntry: Sendable {
    case result(HostResult, runID: Int64)
    case event(SessionEvent, runID: Int64?)
}

/// Stores what the engine reports, then tells the views, in the order it was reported.
///
/// Group commit: whoever reports while nobody is storing becomes the writer and stores everything
/// queued, one transaction per round, until the queue is empty; reports that arrive meanwhile join the
/// next round instead of waiting for a transaction each. A fleet finishing a thousand hosts at once
/// costs a handful of commits, not a thousand, and nothing is shown before its commit returned.
final class StoreThenPublish: @unchecked Sendable {
    struct Item {
        var entry: RecorderEntry?
        var updates: [RunUpdate]
    }

    private let condition = NSCondition()
    private var queue: [Item] = []
    private var writing = false
    private let store: ([RecorderEntry]) -> Void
    private let publish: (RunUpdate) -> Void

    /// - Parameters:
    ///   - store: commits a batch (all or none) and reports its own failures; called by one writer at a time.
    ///   - publish: tells the views; called in report order, after the item's batch was stored.
    init(store: @escaping ([RecorderEntry]) -> Void, publish: @escaping (RunUpdate) -> Void) {
        self.store = store
        self.publish = publish
    }

    func submit(_ item: Item) {
        condition.lock()
        queue.append(item)
        if writing {
            condition.unlock()
            return
        }
        writing = true
        condition.unlock()
        drain()
    }

    /// Returns when everything submitted so far is stored and published.
    func flush() {
        condition.lock()
        while writing || !queue.isEmpty {
            if !writing {
                writing = true
                condition.unlock()
                drain()
                condition.lock()
            } else {
                condition.wait()
            }
        }
        condition.unlock()
    }

    private func drain() {
        while true {
            condition.lock()
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            if batch.isEmpty {
                writing = false
                condition.broadcast()
                condition.unlock()
                return
            }
            condition.unlock()
            let entries = batch.compactMap(\.entry)
            if !entries.isEmpty { store(entries) }
            for item in batch {
                for update in item.updates { publish(update) }
            }
        }
    }
}
