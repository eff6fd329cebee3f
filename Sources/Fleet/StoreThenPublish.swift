import Foundation

/// What the engine hands its recorder: a finished host result, or a session event.
public enum RecorderEntry: Sendable {
    case result(HostResult, runID: Int64)
    case event(SessionEvent, runID: Int64?)
}

/// Stores what the engine reports, then tells the views, in the order it was reported.
///
/// One writer thread does both, so the engine's tasks never wait on SQLite (a locked database may
/// hold a commit for its whole busy timeout). Group commit with a commit delay, as PostgreSQL's
/// `commit_delay`: commits are at least `commitDelay` apart, and everything reported meanwhile shares
/// the next one. A fleet finishing a thousand hosts costs a few hundred commits instead of one per
/// result and session event; a result is shown at most `commitDelay` later than it could be, and
/// never before its commit returned. Items with nothing to store are published without the delay
/// when nothing stored is queued ahead of them.
final class StoreThenPublish: @unchecked Sendable {
    struct Item {
        var entry: RecorderEntry?
        var updates: [RunUpdate]
    }

    private let condition = NSCondition()
    private var queue: [Item] = []
    /// A batch is taken off the queue and not yet published.
    private var writing = false
    private var flushWaiters = 0
    /// Something queued should not wait out the commit delay (`submit(_:final:)`).
    private var expedited = false
    /// The writer sleeps until something is submitted (not out a commit delay, which a submit
    /// need not cut short: waking the writer for every result costs two context switches).
    private var writerIdle = false
    private var stopping = false
    private var writerExited = false
    private var writerThread: pthread_t?
    private let commitDelay: TimeInterval
    private let store: ([RecorderEntry]) -> Void
    private let publish: (RunUpdate) -> Void

    /// - Parameters:
    ///   - commitDelay: the least time between the starts of two commits.
    ///   - store: commits a batch (all or none) and reports its own failures; called on the writer thread.
    ///   - publish: tells the views; called on the writer thread in report order, after the item's
    ///     batch was stored.
    init(commitDelay: TimeInterval = 0.002, store: @escaping ([RecorderEntry]) -> Void,
         publish: @escaping (RunUpdate) -> Void) {
        self.commitDelay = commitDelay
        self.store = store
        self.publish = publish
        let writer = Thread { [self] in writeUntilStopped() }
        writer.name = "winfleet-store"
        writer.start()
    }

    /// - Parameter final: nothing more is coming for a while (a run's last result): the batch is
    ///   committed at once instead of after the commit delay, which would only hold it back.
    func submit(_ item: Item, final: Bool = false) {
        condition.lock()
        queue.append(item)
        if final { expedited = true }
        if writerIdle || final { condition.broadcast() }
        condition.unlock()
    }

    /// Returns when everything submitted so far is stored and published; what is queued is stored
    /// at once, without waiting out the commit delay.
    func flush() {
        condition.lock()
        flushWaiters += 1
        condition.broadcast()
        while (writing || !queue.isEmpty) && !writerExited {
            condition.wait()
        }
        flushWaiters -= 1
        condition.unlock()
    }

    /// Stores and publishes what is queued, then ends the writer thread (the owner's deinit). On the
    /// writer thread itself (the owner released while an update was published) it does not wait.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        let onWriter = writerThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
        while !writerExited && !onWriter {
            condition.wait()
        }
        condition.unlock()
    }

    private func writeUntilStopped() {
        var lastCommit = Date.distantPast
        condition.lock()
        writerThread = pthread_self()
        while true {
            while queue.isEmpty && !stopping {
                writerIdle = true
                condition.wait()
                writerIdle = false
            }
            if queue.isEmpty { break }
            if queue.contains(where: { $0.entry != nil }) {
                let due = lastCommit.addingTimeInterval(commitDelay)
                while flushWaiters == 0 && !expedited && !stopping && Date() < due {
                    _ = condition.wait(until: due)
                }
            }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            expedited = false
            writing = true
            condition.unlock()

            let entries = batch.compactMap(\.entry)
            if !entries.isEmpty {
                lastCommit = Date()
                store(entries)
            }
            for item in batch {
                for update in item.updates { publish(update) }
            }

            condition.lock()
            writing = false
            condition.broadcast()
        }
        writerExited = true
        condition.broadcast()
        condition.unlock()
    }
}
