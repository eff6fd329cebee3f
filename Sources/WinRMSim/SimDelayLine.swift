import NIOCore
import NIOPosix

/// Answers held back by the simulated network latency (`--latency-ms`).
///
/// Answers that wait the same time fall due in the order they were written: one queue and one timer
/// per event loop and delay serve them all, where a timer per answer cost the simulator a scheduled
/// task, a promise and a timer re-arm for each of the thousands of answers a fleet run asks for.
/// (Slow hosts wait longer, so each delay has its own line.)
final class SimDelayLine {
    private final class Lines {
        var byDelay: [Int64: SimDelayLine] = [:]
    }
    private static let perThread = ThreadSpecificVariable<Lines>()

    /// The line for `delay` of the calling event loop's thread.
    static func current(for delay: TimeAmount) -> SimDelayLine {
        let lines: Lines
        if let existing = perThread.currentValue {
            lines = existing
        } else {
            lines = Lines()
            perThread.currentValue = lines
        }
        if let line = lines.byDelay[delay.nanoseconds] { return line }
        let line = SimDelayLine()
        lines.byDelay[delay.nanoseconds] = line
        return line
    }

    private var waiting = CircularBuffer<(due: NIODeadline, send: () -> Void)>(initialCapacity: 64)
    private var armed = false

    /// Runs `send` on `loop` once `delay` has passed (call on `loop`).
    func hold(_ delay: TimeAmount, on loop: EventLoop, _ send: @escaping () -> Void) {
        let due = NIODeadline.now() + delay
        waiting.append((due, send))
        if !armed {
            armed = true
            arm(loop, at: due)
        }
    }

    private func arm(_ loop: EventLoop, at due: NIODeadline) {
        loop.scheduleTask(deadline: due) { [self] in release(loop) }
    }

    private func release(_ loop: EventLoop) {
        let now = NIODeadline.now()
        while let first = waiting.first, first.due <= now {
            waiting.removeFirst()
            first.send()
        }
        if let next = waiting.first {
            arm(loop, at: next.due)
        } else {
            armed = false
        }
    }
}
