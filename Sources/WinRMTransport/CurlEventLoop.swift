import CCurl
import CShims
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One thread that carries out every libcurl transfer of the process: an epoll loop
/// driving many multi handles through `curl_multi_socket_action`, so thousands of
/// transfers are in flight on one thread instead of a thread per host.
public final class CurlEventLoop: @unchecked Sendable {
    public static let shared = CurlEventLoop()

    private let epollFD: Int32
    private let wakeFD: Int32
    private let lock = NSLock()
    private var pendingJobs: [() -> Void] = []
    private var thread: Thread?

    // Loop-thread state only.
    fileprivate var socketOwners: [curl_socket_t: MultiContext] = [:]
    private var timers = TimerHeap()

    init() {
        epollFD = wf_epoll_create()
        wakeFD = wf_eventfd_create()
        precondition(epollFD >= 0 && wakeFD >= 0, "epoll/eventfd unavailable: \(String(cString: strerror(errno)))")
        _ = wf_epoll_set(epollFD, wakeFD, WF_EV_IN)
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "winfleet-curl"
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
    }

    /// Runs `job` on the loop thread, where all libcurl handles live.
    public func execute(_ job: @escaping () -> Void) {
        lock.lock()
        pendingJobs.append(job)
        let first = pendingJobs.count == 1
        lock.unlock()
        if first {
            _ = wf_eventfd_signal(wakeFD)
        }
    }

    private func runPendingJobs() {
        lock.lock()
        let jobs = pendingJobs
        pendingJobs.removeAll(keepingCapacity: true)
        lock.unlock()
        for job in jobs { job() }
    }

    private func run() {
        let capacity: Int32 = 256
        var fds = [Int32](repeating: 0, count: Int(capacity))
        var events = [Int32](repeating: 0, count: Int(capacity))
        while true {
            let timeout = timers.millisecondsUntilNext(now: Self.nowNanoseconds())
            let count = wf_epoll_wait(epollFD, &fds, &events, capacity, timeout)
            for index in 0..<Int(max(count, 0)) {
                let fd = fds[index]
                if fd == wakeFD {
                    _ = wf_eventfd_drain(wakeFD)
                    continue
                }
                guard let context = socketOwners[fd] else { continue }
                var mask: Int32 = 0
                if events[index] & WF_EV_IN != 0 { mask |= CURL_CSELECT_IN }
                if events[index] & WF_EV_OUT != 0 { mask |= CURL_CSELECT_OUT }
                if events[index] & WF_EV_ERR != 0 { mask |= CURL_CSELECT_ERR }
                context.multi.socketAction(fd, mask)
                context.collectCompleted()
            }
            let now = Self.nowNanoseconds()
            while let context = timers.popExpired(now: now) {
                context.multi.socketAction(CURL_SOCKET_TIMEOUT, 0)
                context.collectCompleted()
            }
            runPendingJobs()
        }
    }

    static func nowNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    // MARK: callbacks from libcurl (loop thread)

    fileprivate func watch(_ socket: curl_socket_t, what: Int32, context: MultiContext) {
        if what == CURL_POLL_REMOVE {
            _ = wf_epoll_remove(epollFD, socket)
            socketOwners[socket] = nil
            return
        }
        let events: Int32
        switch what {
        case CURL_POLL_IN: events = WF_EV_IN
        case CURL_POLL_OUT: events = WF_EV_OUT
        default: events = WF_EV_IN | WF_EV_OUT
        }
        // A socket number can come back for another connection after a close that
        // epoll already forgot; wf_epoll_set adds or modifies as needed.
        _ = wf_epoll_set(epollFD, socket, events)
        socketOwners[socket] = context
    }

    fileprivate func forget(_ context: MultiContext) {
        setTimer(-1, context: context)
        for (socket, owner) in socketOwners where owner === context {
            _ = wf_epoll_remove(epollFD, socket)
            socketOwners[socket] = nil
        }
    }

    fileprivate func setTimer(_ milliseconds: Int, context: MultiContext) {
        if milliseconds < 0 {
            timers.cancel(context)
        } else {
            timers.schedule(context, at: Self.nowNanoseconds() + UInt64(milliseconds) * 1_000_000)
        }
    }
}

/// The loop's view of one multi handle and the transfer running on it.
final class MultiContext {
    let multi = Curl.Multi()
    unowned let loop: CurlEventLoop
    var timerGeneration: UInt64 = 0
    var onComplete: ((UnsafeMutableRawPointer, CURLcode) -> Void)?

    init(loop: CurlEventLoop) {
        self.loop = loop
        multi.setContext(Unmanaged.passUnretained(self).toOpaque())
        multi.setCallbacks(socket: { _, socket, what, userData, _ in
            guard let userData else { return 0 }
            let context = Unmanaged<MultiContext>.fromOpaque(userData).takeUnretainedValue()
            context.loop.watch(socket, what: what, context: context)
            return 0
        }, timer: { _, milliseconds, userData in
            guard let userData else { return 0 }
            let context = Unmanaged<MultiContext>.fromOpaque(userData).takeUnretainedValue()
            context.loop.setTimer(milliseconds, context: context)
            return 0
        })
    }

    func collectCompleted() {
        for (easy, code) in multi.completed() {
            onComplete?(easy, code)
        }
    }

    /// Detaches this multi handle from the loop for good (loop thread). Its cached
    /// connection is closed by curl_multi_cleanup when the handle is released; after
    /// this no callback can reach the context.
    func detach() {
        loop.forget(self)
        multi.setContext(nil)
        onComplete = nil
    }
}

/// A min-heap of timer deadlines with lazy cancellation (a generation per context).
struct TimerHeap {
    private struct Entry { let deadline: UInt64; let generation: UInt64; let context: MultiContext }
    private var heap: [Entry] = []

    mutating func schedule(_ context: MultiContext, at deadline: UInt64) {
        context.timerGeneration &+= 1
        push(Entry(deadline: deadline, generation: context.timerGeneration, context: context))
    }

    mutating func cancel(_ context: MultiContext) {
        context.timerGeneration &+= 1
    }

    mutating func millisecondsUntilNext(now: UInt64) -> Int32 {
        dropStale()
        guard let first = heap.first else { return 1000 }
        if first.deadline <= now { return 0 }
        return Int32(min(1000, (first.deadline - now + 999_999) / 1_000_000))
    }

    mutating func popExpired(now: UInt64) -> MultiContext? {
        dropStale()
        guard let first = heap.first, first.deadline <= now else { return nil }
        pop()
        first.context.timerGeneration &+= 1
        return first.context
    }

    private mutating func dropStale() {
        while let first = heap.first, first.generation != first.context.timerGeneration {
            pop()
        }
    }

    private mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if heap[parent].deadline <= heap[child].deadline { break }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    private mutating func pop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].deadline < heap[smallest].deadline { smallest = left }
            if right < heap.count && heap[right].deadline < heap[smallest].deadline { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
