import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension RouteCheck {
    /// Opens (and closes at once) a TCP connection to `host:port`: is the proxy there at all?
    /// Nothing is sent. Returns nil on success, else why not.
    public static func tcpConnectProblem(host: String, port: Int, timeout: TimeInterval) async -> String? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: blockingConnectProblem(host: host, port: port, timeout: timeout))
            }
        }
    }

    private static func blockingConnectProblem(host: String, port: Int, timeout: TimeInterval) -> String? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            return "cannot resolve \(host): \(String(cString: gai_strerror(status)))"
        }
        defer { freeaddrinfo(list) }
        var lastProblem = "no address for \(host)"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { lastProblem = String(cString: strerror(errno)); continue }
            defer { close(fd) }
            let flags = fcntl(fd, F_GETFL, 0)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return nil }
            guard errno == EINPROGRESS else { lastProblem = String(cString: strerror(errno)); continue }
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&poller, 1, Int32(max(1, timeout * 1000)))
            if ready == 0 { lastProblem = "no answer within \(Int(timeout)) s"; continue }
            if ready < 0 { lastProblem = String(cString: strerror(errno)); continue }
            var socketError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length)
            if socketError == 0 { return nil }
            lastProblem = String(cString: strerror(socketError))
        }
        return lastProblem
    }
}
