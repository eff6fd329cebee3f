import CCurl
import CShims
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A thread that carries out libcurl transfers: an epoll loop driving its multi handles through
/// `curl_multi_socket_action`, so thousands of transfers are in flight on a few threads instead of
/// a thread per host. It is also a task executor: the tasks of the sessions whose connections it
/// carries run on it between I/O events (see the `TaskExecutor` extension).
public final class CurlEventLoop: @unchecked Sendable {
    /// One loop per core. A fleet's connections are dealt out over them: opening a thousand
    /// loopback or LAN connections and sending their first requests is work for more than one core.
    private static let loops = (0..<max(1, ProcessInfo.processInfo.activeProcessorCount)).map { _ in CurlEventLoop() }
    private static let nextLoop = Atomic<Int>(0)

    /// The loop for the next connection, in turn.
    public static func next() -> CurlEventLoop {
        loops[nextLoop.wrappingAdd(1, ordering: .relaxed).oldValue % loops.count]
    }

    private let epollFD: Int32
    private let wakeFD: Int32
    private let lock = NSLock()
    private var pendingJobs: [PendingJob] = []
    private var thread: Thread?
    /// The loop thread's pthread_t, once it runs.
    private let loopThread = Atomic<UInt>(0)

    /// Work queued for the loop thread: a closure, or a job of a task that prefers this loop as
    /// its executor (see `TaskExecutor`).
    private enum PendingJob {
        case closure(() -> Void)
        case task(UnownedJob)
    }

    // Loop-thread state only.
    /// The multi handle whose transfer watches each socket now.
    fileprivate var socketOwners: [curl_socket_t: MultiContext] = [:]
    /// What each socket registered with epoll waits for. A kept connection's socket stays registered
    /// between requests (libcurl says "remove" at the end of every transfer): the next request costs
    /// no epoll_ctl, or one to change direction, instead of a DEL and an ADD.
    private var registeredInterest: [curl_socket_t: Int32] = [:]
    private var timers = TimerHeap()
    /// The shared multi handles, the newest (the one being filled) last.
    private var sharedMultis: [SharedMulti] = []
    private let connectionsPerSharedMulti: Int

    /// A multi handle several connections share, and their connection keys (target and proxy).
    private struct SharedMulti {
        let context: MultiContext
        var keys: Set<String> = []
    }

    /// `connectionsPerSharedMulti`: how many connections one shared multi handle carries (see
    /// `joinSharedMulti`).
    init(connectionsPerSharedMulti: Int = 32) {
        self.connectionsPerSharedMulti = connectionsPerSharedMulti
        epollFD = wf_epoll_create()
        wakeFD = wf_eventfd_create()
        precondition(epollFD >= 0 && wakeFD >= 0, "epoll/eventfd unavailable: \(String(cString: strerror(errno)))")
        _ = wf_epoll_add(epollFD, wakeFD, WF_EV_IN)
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "winfleet-curl"
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
    }

    /// Runs `job` on the loop thread, where all libcurl handles live.
    public func execute(_ job: @escaping () -> Void) {
        enqueue(.closure(job))
    }

    /// Runs `job` at once when called on the loop thread, else queues it there.
    public func executeSoon(_ job: @escaping () -> Void) {
        if isCurrent { job() } else { enqueue(.closure(job)) }
    }

    /// Whether the caller runs on this loop's thread.
    public var isCurrent: Bool {
        loopThread.load(ordering: .relaxed) == UInt(pthread_self())
    }

    private func enqueue(_ job: PendingJob) {
        lock.lock()
        pendingJobs.append(job)
        let first = pendingJobs.count == 1
        lock.unlock()
        // The loop looks at its queue before it waits: from its own thread no wake-up is needed.
        if first && !isCurrent {
            _ = wf_eventfd_signal(wakeFD)
        }
    }

    private func runPendingJobs() {
        lock.lock()
        let jobs = pendingJobs
        pendingJobs.removeAll(keepingCapacity: true)
        lock.unlock()
        for job in jobs {
            switch job {
            case .closure(let body): body()
            case .task(let task): task.runSynchronously(on: asUnownedTaskExecutor())
            }
        }
    }

    private var hasPendingJobs: Bool {
        lock.lock()
        defer { lock.unlock() }
        return !pendingJobs.isEmpty
    }

    private func run() {
        loopThread.store(UInt(pthread_self()), ordering: .relaxed)
        // libcurl's global set-up (TLS libraries, about 0.6 ms) happens here, while the thread that
        // created the loop goes on preparing the fleet, not later in the way of the first request.
        Curl.ensureInitialised()
        let capacity: Int32 = 256
        var fds = [Int32](repeating: 0, count: Int(capacity))
        var events = [Int32](repeating: 0, count: Int(capacity))
        while true {
            let timeout = hasPendingJobs ? 0 : timers.millisecondsUntilNext(now: Self.nowNanoseconds())
            let count = wf_epoll_wait(epollFD, &fds, &events, capacity, timeout)
            for index in 0..<Int(max(count, 0)) {
                let fd = fds[index]
                if fd == wakeFD {
                    _ = wf_eventfd_drain(wakeFD)
                    continue
                }
                guard let context = socketOwners[fd] else {
                    // An idle kept connection has something to say (mostly: the peer closed it).
                    // libcurl finds out when it next looks at the connection; until then, silence.
                    _ = wf_epoll_remove(epollFD, fd)
                    registeredInterest[fd] = nil
                    continue
                }
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

    /// A shared multi handle for a connection with this key (what libcurl matches before reusing a
    /// cached connection: target and proxy), or nil when a connection on the handle being filled
    /// already has the key (loop thread).
    ///
    /// Sharing saves a multi handle's memory (a 29 KB socket hash) and wake-up socket pair per host.
    /// Connections on one multi handle share its connection cache, and libcurl hands a cached
    /// connection to any transfer that matches it; no two transfers on one handle have the same key,
    /// so none can be handed another's authenticated connection. A second connection with a key
    /// already present gets a multi handle of its own.
    ///
    /// A shared handle carries at most `connectionsPerSharedMulti` connections: libcurl 7.88 walks
    /// the whole connection cache whenever a transfer is taken off its multi handle and the whole DNS
    /// cache whenever one ends, so a request's cost grows with the connections on its handle.
    func joinSharedMulti(key: String) -> MultiContext? {
        if sharedMultis.isEmpty || sharedMultis[sharedMultis.count - 1].keys.count >= connectionsPerSharedMulti {
            let context = MultiContext(loop: self)
            // libcurl otherwise keeps at most four cached connections per added transfer and closes
            // the oldest idle ones beyond that: idle sessions of other hosts.
            context.multi.setMaximumCachedConnections(1 << 30)
            sharedMultis.append(SharedMulti(context: context))
        }
        let newest = sharedMultis.count - 1
        guard sharedMultis[newest].keys.insert(key).inserted else { return nil }
        return sharedMultis[newest].context
    }

    /// Gives the key back (loop thread). The caller has made its idle connection unusable first. A
    /// shared handle left without connections, other than the one being filled, is closed.
    func leaveSharedMulti(key: String, context: MultiContext) {
        guard let index = sharedMultis.firstIndex(where: { $0.context === context }) else { return }
        sharedMultis[index].keys.remove(key)
        if sharedMultis[index].keys.isEmpty && index != sharedMultis.count - 1 {
            sharedMultis.remove(at: index).context.detach()
        }
    }

    /// The keys of the connections on each shared multi handle, oldest handle first, read on the
    /// loop thread (tests).
    func sharedMultiKeys() async -> [Set<String>] {
        await withCheckedContinuation { continuation in
            execute { continuation.resume(returning: self.sharedMultis.map(\.keys)) }
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
            // Stays registered (see registeredInterest); events without an owner are dropped.
            socketOwners[socket] = nil
            return
        }
        let events: Int32
        switch what {
        case CURL_POLL_IN: events = WF_EV_IN
        case CURL_POLL_OUT: events = WF_EV_OUT
        default: events = WF_EV_IN | WF_EV_OUT
        }
        socketOwners[socket] = context
        switch registeredInterest[socket] {
        case events?:
            return
        case nil:
            _ = wf_epoll_add(epollFD, socket, events)
        default:
            _ = wf_epoll_modify(epollFD, socket, events)
        }
        registeredInterest[socket] = events
    }

    /// libcurl closes one of its sockets (loop thread, from the close-socket callback every easy
    /// handle of this loop sets). Closing drops it from epoll; the number may come back for a new
    /// socket, which must then be added again.
    func closeSocket(_ socket: curl_socket_t) -> Int32 {
        socketOwners[socket] = nil
        registeredInterest[socket] = nil
        return close(socket)
    }

    fileprivate func forget(_ context: MultiContext) {
        setTimer(-1, context: context)
        for (socket, owner) in socketOwners where owner === context {
            _ = wf_epoll_remove(epollFD, socket)
            socketOwners[socket] = nil
            registeredInterest[socket] = nil
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

/// A task that prefers the loop as its executor runs on the loop thread between I/O events: a
/// request's answer resumes the task that waits for it without a hop to another thread, and the
/// next request starts from there.
extension CurlEventLoop: TaskExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        enqueue(.task(UnownedJob(job)))
    }
}

/// The loop's view of one multi handle and the transfer running on it.
final class MultiContext {
    let multi = Curl.Multi()
    unowned let loop: CurlEventLoop
    var timerGeneration: UInt64 = 0
    /// What to do when a transfer ends, by easy handle (a shared multi handle carries many).
    private var completions: [UnsafeMutableRawPointer: (CURLcode) -> Void] = [:]
    /// The socket libcurl last watched for each easy handle: its transfer's connection. (Asking libcurl
    /// with CURLINFO_ACTIVESOCKET searches the whole connection cache, every host's connection.)
    fileprivate var socketOfTransfer: [UnsafeMutableRawPointer: curl_socket_t] = [:]

    init(loop: CurlEventLoop) {
        self.loop = loop
        multi.setContext(Unmanaged.passUnretained(self).toOpaque())
        multi.setCallbacks(socket: { easy, socket, what, userData, _ in
            guard let userData else { return 0 }
            let context = Unmanaged<MultiContext>.fromOpaque(userData).takeUnretainedValue()
            if let easy, what != CURL_POLL_REMOVE { context.socketOfTransfer[easy] = socket }
            context.loop.watch(socket, what: what, context: context)
            return 0
        }, timer: { _, milliseconds, userData in
            guard let userData else { return 0 }
            let context = Unmanaged<MultiContext>.fromOpaque(userData).takeUnretainedValue()
            context.loop.setTimer(milliseconds, context: context)
            return 0
        })
    }

    func onComplete(of easy: Curl.Easy, _ action: @escaping (CURLcode) -> Void) {
        completions[easy.handle] = action
    }

    func forgetCompletion(of easy: Curl.Easy) {
        completions[easy.handle] = nil
        socketOfTransfer[easy.handle] = nil
    }

    /// The socket of the connection `easy` used last, or -1.
    func socket(of easy: Curl.Easy) -> curl_socket_t {
        socketOfTransfer[easy.handle] ?? -1
    }

    func collectCompleted() {
        for (easy, code) in multi.completed() {
            completions[easy]?(code)
        }
    }

    /// Detaches this multi handle from the loop for good (loop thread). Its cached
    /// connection is closed by curl_multi_cleanup when the handle is released; after
    /// this no callback can reach the context.
    func detach() {
        loop.forget(self)
        multi.setContext(nil)
        completions = [:]
        socketOfTransfer = [:]
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
