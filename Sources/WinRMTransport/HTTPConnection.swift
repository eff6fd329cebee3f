import ASCIIText
import CCurl
import CShims
import Foundation

/// Options fixed for the life of one host connection.
public struct HTTPConnectionOptions: Sendable {
    public var url: String
    public var connectTimeout: TimeInterval = 10
    /// The whole request/response must finish within this (OperationTimeout + 10 s).
    public var transferTimeout: TimeInterval = 30
    public var tls = TLSOptions()
    public var proxy: ProxyOptions?

    public init(url: String) { self.url = url }
}

public struct TLSOptions: Sendable {
    public var verify = true
    public var caFile: String?
    /// Keep the server certificate (channel binding and fingerprint pinning need it).
    public var collectCertificate = false
    public init() {}
}

public enum ProxyAuthMethod: String, Sendable {
    case none, basic, digest, ntlm, negotiate
}

public struct ProxyOptions: Sendable, CustomStringConvertible {
    /// `http://host:port` or `https://host:port`.
    public var url: String
    /// CONNECT even for http targets, so the TCP connection to the host is ours end to end.
    public var tunnel: Bool
    public var auth: ProxyAuthMethod = .none
    public var username: String?
    public var password: String?
    public var tls = TLSOptions()

    public init(url: String, tunnel: Bool) {
        self.url = url
        self.tunnel = tunnel
    }

    public var description: String { "\(url) (\(tunnel ? "tunnel" : "forward"), proxy auth \(auth.rawValue))" }
}

/// What came back for one request, with what the connection did to deliver it.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: Data
    /// New TCP connections libcurl had to open for this request (0 = the kept connection was reused).
    public var newConnections: Int
    public var localPort: Int
    public var remoteAddress: String
    public var certificatesPEM: [String]
    public var elapsed: TimeInterval

    public func header(_ name: String) -> String? {
        headers.last { $0.name.equalsIgnoringASCIICase(name) }?.value
    }

    public func headers(_ name: String) -> [String] {
        headers.filter { $0.name.equalsIgnoringASCIICase(name) }.map(\.value)
    }
}

/// A transfer that did not produce an HTTP response from the host.
public struct TransferFailure: Error, Sendable, CustomStringConvertible {
    public enum Reason: Sendable {
        case couldNotResolve, couldNotConnect, timedOut, tls, proxy, connectionClosed, other
        /// The kept connection died under a request that must not be sent twice.
        case resendRefused
        /// We abandoned the request (cancel, deadline).
        case cancelled
    }
    public var reason: Reason
    public var curlCode: Int
    public var message: String
    /// The proxy's answer to CONNECT, when a tunnel was asked for (0 when none).
    public var proxyConnectStatus: Int
    public var newConnections: Int
    /// The `Proxy-Authenticate` values of a refused CONNECT (407): the schemes the proxy asks for.
    public var proxyAuthenticate: [String] = []

    public var description: String { message }
}

/// One persistent HTTP/1.1 connection to one host: a libcurl easy handle on the loop's shared
/// multi handle (or one of its own when another connection has the same target and proxy).
/// Requests go one at a time, in order (a sealed NTLM or Kerberos stream is ordered), and every
/// request reuses the same TCP connection while it lives.
public final class HTTPConnection: @unchecked Sendable {
    public let options: HTTPConnectionOptions
    private let loop: CurlEventLoop
    // Loop-thread state.
    private var easy: Curl.Easy?
    private var context: MultiContext?
    private let buffers = TransferBuffers()
    private var pending: CheckedContinuation<HTTPResponse, Error>?
    private var started: UInt64 = 0
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    private var closed = false
    private var pinnedPublicKey: String?
    /// Set while the handle is on one of the loop's shared multi handles.
    private var sharedKey: String?
    /// The connection the last transfer left in libcurl's cache.
    private var keptConnection: KeptConnection?

    private struct KeptConnection {
        var socket: curl_socket_t
        var localPort: Int
        var peerIP: String
        var peerPort: Int
    }

    public init(options: HTTPConnectionOptions, loop: CurlEventLoop = .next()) {
        self.options = options
        self.loop = loop
    }

    deinit {
        // Handles must be released on the loop thread, after the multi lets go of its sockets.
        if let context, let easy {
            let loop = self.loop
            let sharedKey = self.sharedKey
            let kept = self.keptConnection
            loop.execute {
                Self.release(easy: easy, context: context, sharedKey: sharedKey, kept: kept, loop: loop)
            }
        }
    }

    /// What libcurl matches before it hands a cached connection to a transfer: the target, and the
    /// proxy. A forwarding proxy's connection is matched by the proxy alone (libcurl sends requests
    /// for any host down it), so the key leaves the target out.
    private var connectionKey: String {
        guard let proxy = options.proxy else { return options.url }
        return proxy.tunnel ? "\(options.url) through \(proxy.url)" : "any target forwarded by \(proxy.url)"
    }

    /// POSTs `body` with `headers` and returns the response. Throws `TransferFailure`.
    /// - Parameter resendable: whether libcurl may send the body again on a new connection when
    ///   the kept one dies under it; when not, the transfer fails with `.resendRefused`.
    public func post(body: Data, headers: [String], resendable: Bool = true) async throws -> HTTPResponse {
        try await withCheckedThrowingContinuation { continuation in
            loop.executeSoon { [self] in
                start(body: body, headers: headers, resendable: resendable, continuation: continuation)
            }
        }
    }

    /// Abandons the request in flight (it fails with `.cancelled`) and drops the connection:
    /// a half-read sealed response would leave the context out of step anyway.
    public func abort() {
        loop.execute { [self] in
            guard let continuation = pending else { return }
            pending = nil
            releaseHandles()
            continuation.resume(throwing: TransferFailure(reason: .cancelled, curlCode: 0, message: "request abandoned",
                                                          proxyConnectStatus: 0, newConnections: 0))
        }
    }

    /// From now on every TLS handshake must present this public key (`sha256//<base64>`);
    /// libcurl refuses the connection before sending anything otherwise.
    public func pinPublicKey(_ pin: String) {
        loop.execute { [self] in
            pinnedPublicKey = pin
            easy?.set(CURLOPT_PINNEDPUBLICKEY, pin)
        }
    }

    /// Drops the TCP connection; the next request opens a new one.
    public func reset() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loop.execute { [self] in
                releaseHandles()
                continuation.resume()
            }
        }
    }

    // MARK: loop thread

    private func prepareHandles() -> (Curl.Easy, MultiContext) {
        if let easy, let context { return (easy, context) }
        let easy = Curl.Easy()
        let context: MultiContext
        if let shared = loop.joinSharedMulti(key: connectionKey) {
            context = shared
            sharedKey = connectionKey
        } else {
            context = MultiContext(loop: loop)
        }
        configure(easy)
        context.onComplete(of: easy) { [weak self] code in self?.finish(code) }
        self.easy = easy
        self.context = context
        return (easy, context)
    }

    /// Drops the handles and, with them, the TCP connection (loop thread).
    private func releaseHandles() {
        if let easy, let context {
            Self.release(easy: easy, context: context, sharedKey: sharedKey, kept: keptConnection, loop: loop)
        }
        easy = nil
        context = nil
        sharedKey = nil
        keptConnection = nil
    }

    /// Takes the handle off its multi handle so that its connection is never used again (loop thread).
    private static func release(easy: Curl.Easy, context: MultiContext, sharedKey: String?, kept: KeptConnection?,
                                loop: CurlEventLoop) {
        context.forgetCompletion(of: easy)
        // A transfer still running is cut short; libcurl closes its connection.
        context.multi.remove(easy)
        if let sharedKey {
            // An idle connection stays in the shared cache. Shut down, libcurl finds it dead and
            // closes it instead of handing it to the next transfer with this key. The socket is
            // checked to be still that connection: libcurl may have closed it and reused the number.
            if let kept {
                _ = wf_shutdown_if_connection(kept.socket, Int32(kept.localPort), kept.peerIP, Int32(kept.peerPort))
            }
            loop.leaveSharedMulti(key: sharedKey, context: context)
        } else {
            context.detach()
        }
    }

    private func configure(_ easy: Curl.Easy) {
        easy.set(CURLOPT_URL, options.url)
        easy.set(CURLOPT_NOSIGNAL, true)
        easy.set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        easy.set(CURLOPT_TCP_NODELAY, true)
        easy.set(CURLOPT_TCP_KEEPALIVE, true)
        easy.set(CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeout * 1000))
        easy.set(CURLOPT_TIMEOUT_MS, Int(options.transferTimeout * 1000))
        easy.set(CURLOPT_POST, true)
        easy.set(CURLOPT_ERRORBUFFER, pointer: errorBuffer.withUnsafeMutableBytes { $0.baseAddress })
        let buffersPointer = Unmanaged.passUnretained(buffers).toOpaque()
        easy.set(CURLOPT_WRITEDATA, pointer: buffersPointer)
        easy.set(CURLOPT_HEADERDATA, pointer: buffersPointer)
        easy.set(CURLOPT_READDATA, pointer: buffersPointer)
        // A streamed body is read through a buffer libcurl allocates for every such request, 64 KB
        // unless told: with a thousand Commands in flight that is 64 MB of heap grown page by page.
        // The smallest libcurl takes is plenty for envelopes of a few KB.
        easy.set(CURLOPT_UPLOAD_BUFFERSIZE, 16 * 1024)
        easy.set(CURLOPT_SEEKDATA, pointer: buffersPointer)
        // Every socket of this loop's transfers is closed through the loop, which keeps kept
        // connections registered with epoll between requests and must forget a closed number.
        easy.set(CURLOPT_CLOSESOCKETDATA, pointer: Unmanaged.passUnretained(loop).toOpaque())
        easy.setCloseSocketFunction { user, socket in
            guard let user else { return close(socket) }
            return Unmanaged<CurlEventLoop>.fromOpaque(user).takeUnretainedValue().closeSocket(socket)
        }
        easy.setReadFunction { destination, size, count, user in
            guard let destination, let user else { return 0 }
            let buffers = Unmanaged<TransferBuffers>.fromOpaque(user).takeUnretainedValue()
            return buffers.readRequest(into: UnsafeMutableRawPointer(destination), capacity: size * count)
        }
        // libcurl rewinds the body only to send it again: after a kept connection died under
        // a request, it retries on a new one. That is refused for requests that must not
        // reach the host twice.
        easy.setSeekFunction { user, offset, origin in
            guard let user else { return Int32(CURL_SEEKFUNC_FAIL) }
            let buffers = Unmanaged<TransferBuffers>.fromOpaque(user).takeUnretainedValue()
            return buffers.rewind(to: Int(offset), origin: origin) ? Int32(CURL_SEEKFUNC_OK) : Int32(CURL_SEEKFUNC_FAIL)
        }
        easy.setWriteFunction { data, size, count, user in
            guard let data, let user else { return 0 }
            let buffers = Unmanaged<TransferBuffers>.fromOpaque(user).takeUnretainedValue()
            buffers.body.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size * count)
            return size * count
        }
        easy.setHeaderFunction { data, size, count, user in
            guard let data, let user else { return 0 }
            let buffers = Unmanaged<TransferBuffers>.fromOpaque(user).takeUnretainedValue()
            buffers.headerLine(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
        // TLS to the host.
        easy.set(CURLOPT_SSL_VERIFYPEER, options.tls.verify)
        easy.set(CURLOPT_SSL_VERIFYHOST, options.tls.verify ? 2 : 0)
        if let caFile = options.tls.caFile { easy.set(CURLOPT_CAINFO, caFile) }
        if options.tls.collectCertificate { easy.set(CURLOPT_CERTINFO, true) }
        if let pinnedPublicKey { easy.set(CURLOPT_PINNEDPUBLICKEY, pinnedPublicKey) }
        // Proxy: explicit, never libcurl's own reading of the environment (the route decides).
        if let proxy = options.proxy {
            easy.set(CURLOPT_PROXY, proxy.url)
            easy.set(CURLOPT_HTTPPROXYTUNNEL, proxy.tunnel)
            easy.set(CURLOPT_PROXY_SSL_VERIFYPEER, proxy.tls.verify)
            easy.set(CURLOPT_PROXY_SSL_VERIFYHOST, proxy.tls.verify ? 2 : 0)
            if let caFile = proxy.tls.caFile { easy.set(CURLOPT_PROXY_CAINFO, caFile) }
            if proxy.auth != .none {
                let method: Int
                switch proxy.auth {
                case .basic: method = WF_CURLAUTH_BASIC
                case .digest: method = WF_CURLAUTH_DIGEST
                case .ntlm: method = WF_CURLAUTH_NTLM
                case .negotiate: method = WF_CURLAUTH_NEGOTIATE
                case .none: method = 0
                }
                easy.set(CURLOPT_PROXYAUTH, method)
                easy.set(CURLOPT_PROXYUSERNAME, proxy.username ?? "")
                easy.set(CURLOPT_PROXYPASSWORD, proxy.password ?? "")
            }
        } else {
            easy.set(CURLOPT_PROXY, "")
        }
    }

    private func start(body: Data, headers: [String], resendable: Bool, continuation: CheckedContinuation<HTTPResponse, Error>) {
        precondition(pending == nil, "HTTPConnection: one request at a time")
        let (easy, context) = prepareHandles()
        buffers.reset(request: body, resendable: resendable)
        errorBuffer.withUnsafeMutableBufferPointer { $0[0] = 0 }
        // "Expect:" off: a 100-continue round trip only adds latency to every request.
        easy.setHeaders(headers + ["Expect:"])
        if resendable {
            // Head and body leave in one write; a resend after a dead kept connection is allowed.
            easy.setPostBody(body)
        } else {
            // Streamed through the read callback, whose rewind refuses a second sending.
            easy.setStreamedPostBody(size: body.count)
        }
        pending = continuation
        started = CurlEventLoop.nowNanoseconds()
        let code = context.multi.add(easy)
        if code != CURLM_OK {
            pending = nil
            continuation.resume(throwing: TransferFailure(reason: .other, curlCode: Int(code.rawValue),
                message: "libcurl could not start the request: \(Curl.describe(code))",
                proxyConnectStatus: 0, newConnections: 0))
        }
    }

    private func finish(_ code: CURLcode) {
        guard let easy, let context, let continuation = pending else { return }
        pending = nil
        let localPort = easy.info(CURLINFO_LOCAL_PORT)
        let peerIP = easy.infoString(CURLINFO_PRIMARY_IP) ?? "?"
        let peerPort = easy.info(CURLINFO_PRIMARY_PORT)
        if sharedKey != nil {
            let socket = context.socket(of: easy)
            keptConnection = code == CURLE_OK && socket >= 0
                ? KeptConnection(socket: socket, localPort: localPort, peerIP: peerIP, peerPort: peerPort) : nil
        }
        context.multi.remove(easy)
        let newConnections = easy.info(CURLINFO_NUM_CONNECTS)
        if code != CURLE_OK {
            let detail = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            let message = detail.isEmpty ? Curl.describe(code) : detail
            let reason = buffers.resendRefused ? .resendRefused : Self.reason(for: code)
            // After a refused CONNECT the last header block seen is the proxy's answer to it.
            let proxyAuthenticate = buffers.headers
                .filter { $0.name.equalsIgnoringASCIICase("Proxy-Authenticate") }.map(\.value)
            continuation.resume(throwing: TransferFailure(reason: reason, curlCode: Int(code.rawValue),
                message: message, proxyConnectStatus: easy.info(CURLINFO_HTTP_CONNECTCODE), newConnections: newConnections,
                proxyAuthenticate: proxyAuthenticate))
            return
        }
        let response = HTTPResponse(
            status: easy.info(CURLINFO_RESPONSE_CODE),
            headers: buffers.headers,
            body: buffers.body,
            newConnections: newConnections,
            localPort: localPort,
            remoteAddress: "\(peerIP):\(peerPort)",
            certificatesPEM: options.tls.collectCertificate ? easy.certificatesPEM() : [],
            elapsed: TimeInterval(CurlEventLoop.nowNanoseconds() - started) / 1e9)
        continuation.resume(returning: response)
    }

    private static func reason(for code: CURLcode) -> TransferFailure.Reason {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST: return .couldNotResolve
        case CURLE_COULDNT_RESOLVE_PROXY, CURLE_PROXY: return .proxy
        case CURLE_COULDNT_CONNECT: return .couldNotConnect
        case CURLE_OPERATION_TIMEDOUT: return .timedOut
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_CIPHER:
            return .tls
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE:
            return .connectionClosed
        default: return .other
        }
    }
}

/// Where libcurl's callbacks put the response (loop thread only).
final class TransferBuffers {
    var body = Data()
    var headers: [(name: String, value: String)] = []
    private var request = Data()
    private var requestOffset = 0
    private var resendable = true
    private(set) var resendRefused = false

    func reset(request: Data, resendable: Bool) {
        body = Data()
        headers = []
        self.request = request
        requestOffset = 0
        self.resendable = resendable
        resendRefused = false
    }

    func readRequest(into destination: UnsafeMutableRawPointer, capacity: Int) -> Int {
        let count = min(capacity, request.count - requestOffset)
        guard count > 0 else { return 0 }
        request.withUnsafeBytes { raw in
            destination.copyMemory(from: raw.baseAddress! + requestOffset, byteCount: count)
        }
        requestOffset += count
        return count
    }

    func rewind(to offset: Int, origin: Int32) -> Bool {
        guard resendable else {
            resendRefused = true
            return false
        }
        guard origin == SEEK_SET, offset >= 0, offset <= request.count else { return false }
        requestOffset = offset
        return true
    }

    /// One header line as libcurl hands it over (with its CRLF). Parsed on bytes: this runs for
    /// every header of every response, and Foundation's string trimming is slow on Linux.
    func headerLine(_ bytes: UnsafeRawBufferPointer) {
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x0D || bytes[end - 1] == 0x0A || bytes[end - 1] == 0x20 { end -= 1 }
        guard end > 0 else { return }
        if end >= 5, bytes[0] == 0x48, bytes[1] == 0x54, bytes[2] == 0x54, bytes[3] == 0x50, bytes[4] == 0x2F {
            // "HTTP/": a new status line (after CONNECT or a 1xx); only the final response's headers count.
            headers = []
            return
        }
        guard let colon = bytes[..<end].firstIndex(of: 0x3A) else { return }
        var valueStart = colon + 1
        while valueStart < end, bytes[valueStart] == 0x20 || bytes[valueStart] == 0x09 { valueStart += 1 }
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<colon]), as: UTF8.self)
        let value = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[valueStart..<end]), as: UTF8.self)
        headers.append((name, value))
    }
}
