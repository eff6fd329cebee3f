import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A deliberately small HTTP/1.1 client over one TCP (or TLS) connection, for tests that must control
/// exactly which connection a request goes on. Blocking API; bytes are parsed by hand.
final class RawHTTPConnection {
    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: Data

        func header(_ name: String) -> String? {
            headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
        }

        func headers(_ name: String) -> [String] {
            headers.filter { $0.0.caseInsensitiveCompare(name) == .orderedSame }.map(\.1)
        }

        var text: String { String(decoding: body, as: UTF8.self) }
    }

    enum ClientError: Error, CustomStringConvertible {
        case closedByPeer
        case timeout
        case malformed(String)

        var description: String {
            switch self {
            case .closedByPeer: return "the server closed the connection"
            case .timeout: return "no complete response in time"
            case .malformed(let text): return "malformed response: \(text)"
            }
        }
    }

    private final class Inbox: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let condition = NSCondition()
        var bytes = Data()
        var closed = false

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            condition.lock()
            bytes.append(contentsOf: buffer.readableBytesView)
            condition.broadcast()
            condition.unlock()
        }

        func channelInactive(context: ChannelHandlerContext) {
            condition.lock()
            closed = true
            condition.broadcast()
            condition.unlock()
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }

    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    let channel: Channel
    private let inbox = Inbox()
    let host: String
    let port: Int

    /// - Parameter trustPEM: for TLS, the certificate to trust (full chain verification, no host name check).
    init(host: String, port: Int, tls: Bool = false, trustPEM: String? = nil) throws {
        self.host = host
        self.port = port
        let inbox = self.inbox
        var sslContext: NIOSSLContext?
        if tls {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let pem = trustPEM {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
                configuration.certificateVerification = .noHostnameVerification
            } else {
                configuration.certificateVerification = .none
            }
            sslContext = try NIOSSLContext(configuration: configuration)
        }
        channel = try ClientBootstrap(group: Self.group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext = sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(inbox)
                }
            }
            .connect(host: host, port: port).wait()
    }

    deinit {
        channel.close(promise: nil)
    }

    func close() {
        try? channel.close().wait()
    }

    /// True once the server has closed the connection (waits up to `timeout` for it).
    func waitUntilClosed(timeout: TimeInterval = 2) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        inbox.condition.lock()
        defer { inbox.condition.unlock() }
        while !inbox.closed {
            if !inbox.condition.wait(until: deadline) { break }
        }
        return inbox.closed
    }

    func post(path: String = "/wsman", headers: [(String, String)] = [], body: Data = Data(),
              contentType: String? = "application/soap+xml;charset=UTF-8", timeout: TimeInterval = 30) throws -> Response {
        var all = headers
        if !body.isEmpty, let contentType = contentType, !all.contains(where: { $0.0.lowercased() == "content-type" }) {
            all.append(("Content-Type", contentType))
        }
        return try send(method: "POST", path: path, headers: all, body: body, timeout: timeout)
    }

    func send(method: String, path: String, headers: [(String, String)], body: Data, timeout: TimeInterval = 30) throws -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: winfleet-tests\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        var buffer = channel.allocator.buffer(capacity: head.utf8.count + body.count)
        buffer.writeString(head)
        buffer.writeBytes(body)
        try channel.writeAndFlush(buffer).wait()
        return try readResponse(timeout: timeout)
    }

    private func readResponse(timeout: TimeInterval) throws -> Response {
        let deadline = Date().addingTimeInterval(timeout)
        inbox.condition.lock()
        defer { inbox.condition.unlock() }
        while true {
            if let (response, consumed) = try Self.parse(inbox.bytes) {
                inbox.bytes.removeFirst(consumed)
                return response
            }
            if inbox.closed { throw ClientError.closedByPeer }
            if !inbox.condition.wait(until: deadline) { throw ClientError.timeout }
        }
    }

    static func parse(_ data: Data) throws -> (Response, Int)? {
        guard let range = data.range(of: Data("\r\n\r\n".utf8)) else { return nil }
        let headText = String(decoding: data[data.startIndex..<range.lowerBound], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw ClientError.malformed(statusLine) }
        var headers: [(String, String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        let bodyStart = range.upperBound
        guard data.endIndex - bodyStart >= length else { return nil }
        let body = data[bodyStart..<(bodyStart + length)]
        return (Response(status: status, headers: headers, body: Data(body)), bodyStart + length - data.startIndex)
    }
}
