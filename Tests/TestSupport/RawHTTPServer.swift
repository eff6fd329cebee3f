import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Shared by the test targets: a tiny blocking HTTP/1.1 server on a loopback address, for answers no WinRM host would give
/// (plain text, HTML error pages). One thread per connection; keep-alive; Content-Length bodies only.
public final class RawHTTPServer: @unchecked Sendable {
    public struct Request {
        public var method: String
        public var path: String
        public var headers: [(String, String)]
        public var body: Data

        public func header(_ name: String) -> String? {
            headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
        }
    }

    public struct Response {
        public var status: Int
        public var reason: String = "OK"
        public var headers: [(String, String)] = []
        public var body: Data = Data()
        public var close = false

        public init(status: Int, reason: String = "OK", headers: [(String, String)] = [], body: Data = Data(), close: Bool = false) {
            self.status = status
            self.reason = reason
            self.headers = headers
            self.body = body
            self.close = close
        }

        public static func text(_ status: Int, _ reason: String, contentType: String, _ body: String) -> Response {
            Response(status: status, reason: reason, headers: [("Content-Type", contentType)], body: Data(body.utf8))
        }
    }

    public let address: String
    public private(set) var port: Int = 0
    private let listener: Int32
    private let handler: (Request) -> Response
    private let lock = NSLock()
    private var requestLog: [Request] = []
    private var connections: [Int32] = []
    private var stopped = false

    public init(address: String, handler: @escaping (Request) -> Response) throws {
        self.address = address
        self.handler = handler
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        inet_pton(AF_INET, address, &addr.sin_addr)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            close(listener)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EADDRINUSE)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: actual.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    public var url: String { "http://\(address):\(port)/wsman" }

    public var requests: [Request] { lock.withLock { requestLog } }

    public func stop() {
        lock.lock()
        stopped = true
        let open = connections
        connections = []
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 { return }
            let keep = lock.withLock { () -> Bool in
                if stopped { return false }
                connections.append(fd)
                return true
            }
            guard keep else { close(fd); return }
            Thread.detachNewThread { [self] in serve(fd) }
        }
    }

    private func serve(_ fd: Int32) {
        var buffer = Data()
        defer { close(fd) }
        while true {
            guard let request = readRequest(fd, &buffer) else { return }
            lock.withLock { requestLog.append(request) }
            let response = handler(request)
            var head = "HTTP/1.1 \(response.status) \(response.reason)\r\n"
            for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
            head += "Content-Length: \(response.body.count)\r\n"
            if response.close { head += "Connection: close\r\n" }
            head += "\r\n"
            var bytes = Data(head.utf8)
            bytes.append(response.body)
            var offset = 0
            while offset < bytes.count {
                let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { return }
                offset += sent
            }
            if response.close { return }
        }
    }

    private func readRequest(_ fd: Int32, _ buffer: inout Data) -> Request? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        func fill() -> Bool {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { return false }
            buffer.append(contentsOf: chunk[0..<count])
            return true
        }
        let separator = Data("\r\n\r\n".utf8)
        var headerEnd = buffer.range(of: separator)
        while headerEnd == nil {
            guard fill() else { return nil }
            headerEnd = buffer.range(of: separator)
        }
        let headText = String(decoding: buffer[buffer.startIndex..<headerEnd!.lowerBound], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        var headers: [(String, String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        let bodyStart = headerEnd!.upperBound
        while buffer.count - (bodyStart - buffer.startIndex) < length {
            guard fill() else { return nil }
        }
        let body = buffer.subdata(in: bodyStart..<(bodyStart + length))
        buffer = Data(buffer[(bodyStart + length)...])
        return Request(method: requestLine.first.map(String.init) ?? "", path: requestLine.dropFirst().first.map(String.init) ?? "",
                       headers: headers, body: body)
    }

    deinit { stop() }
}
