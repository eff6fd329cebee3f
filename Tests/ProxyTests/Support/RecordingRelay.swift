import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP relay of our own that saves every byte it passes: put between the client and a proxy, or
/// between a proxy and a simulated host, it shows exactly what crossed that hop. Each accepted
/// connection gets its own upstream connection (1:1), so it never disturbs connection affinity.
final class RecordingRelay: @unchecked Sendable {
    /// What one connection carried.
    struct Conversation {
        var toTarget = Data()
        var fromTarget = Data()
    }

    let name: String
    let listenAddress: String
    let listenPort: Int
    let targetAddress: String
    let targetPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var conversations: [Conversation] = []
    private var openSockets: Set<Int32> = []
    private var stopped = false

    /// Listens on `listenAddress:listenPort` (0 = a free port) and relays to `targetAddress:targetPort`.
    init(name: String, listenAddress: String = "127.0.0.1", listenPort requestedPort: Int = 0, targetAddress: String, targetPort: Int) throws {
        self.name = name
        self.listenAddress = listenAddress
        self.targetAddress = targetAddress
        self.targetPort = targetPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProxyTestError("relay socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = try Ports.socketAddress(listenAddress, port: requestedPort)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ProxyTestError("relay \(name) cannot listen on \(listenAddress):\(requestedPort): \(reason)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        listenPort = Int(UInt16(bigEndian: addr.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "relay-\(name)"
        thread.start()
    }

    var url: String { "http://\(listenAddress):\(listenPort)" }

    /// Connections accepted so far.
    var connectionCount: Int { lock.withLock { conversations.count } }

    /// Every connection's bytes so far.
    var recorded: [Conversation] { lock.withLock { conversations } }

    /// Every byte of every connection, both directions.
    var allBytes: Data {
        recorded.reduce(into: Data()) { $0.append($1.toTarget); $0.append($1.fromTarget) }
    }

    func stop() {
        let sockets = lock.withLock { () -> Set<Int32> in
            stopped = true
            return openSockets
        }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in sockets { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            if lock.withLock({ stopped }) { close(client); return }
            let index = lock.withLock { () -> Int in
                conversations.append(Conversation())
                openSockets.insert(client)
                return conversations.count - 1
            }
            let thread = Thread { [self] in serve(client: client, index: index) }
            thread.start()
        }
    }

    private func serve(client: Int32, index: Int) {
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard upstream >= 0, var addr = try? Ports.socketAddress(targetAddress, port: targetPort) else {
            finish(client)
            return
        }
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(upstream)
            finish(client)
            return
        }
        lock.withLock { _ = openSockets.insert(upstream) }
        let done = DispatchGroup()
        done.enter()
        Thread { [self] in
            pump(from: client, to: upstream, index: index, toTarget: true)
            done.leave()
        }.start()
        pump(from: upstream, to: client, index: index, toTarget: false)
        done.wait()
        finish(upstream)
        finish(client)
    }

    /// Copies until EOF, then half-closes the other side so that its reader sees EOF too.
    private func pump(from source: Int32, to destination: Int32, index: Int, toTarget: Bool) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(source, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            lock.withLock {
                if toTarget {
                    conversations[index].toTarget.append(contentsOf: buffer[0..<count])
                } else {
                    conversations[index].fromTarget.append(contentsOf: buffer[0..<count])
                }
            }
            var offset = 0
            while offset < count {
                let written = buffer[offset..<count].withUnsafeBytes { send(destination, $0.baseAddress, count - offset, Int32(MSG_NOSIGNAL)) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else {
                    shutdown(source, Int32(SHUT_RD))
                    return
                }
                offset += written
            }
        }
        shutdown(destination, Int32(SHUT_WR))
    }

    private func finish(_ fd: Int32) {
        lock.withLock { _ = openSockets.remove(fd) }
        close(fd)
    }
}
