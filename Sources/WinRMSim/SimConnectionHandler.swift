import Foundation
import NIOCore
import NIOHTTP1
import WSMan
import WinRMAuth

/// One accepted TCP connection of a simulated host, behaving like HTTP.sys + the WinRM service:
/// keep-alive HTTP/1.1, `POST /wsman` only, connection-bound NTLM, MS-WSMV message sealing, WinRS.
final class SimConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    /// Responses are written whole, head and body in one buffer (see `respond`).
    typealias OutboundOut = ByteBuffer

    private let listener: SimHostListener
    private var auth: SimConnectionAuth
    private var connectionID = 0
    private var requestHead: HTTPRequestHead?
    private var requestBody: ByteBuffer?
    private var bodyTooLarge = false
    private var soapRequestCount = 0
    private var isOpen = true
    private var pending: PendingReceive?
    private var pendingToken = 0
    private var idleTimer: Scheduled<Void>?
    /// The client's address, read once when the connection opens (the engine keys shells by it).
    private var clientIP = "127.0.0.1"

    /// A Receive waiting for output (long poll), answered when output arrives or OperationTimeout passes.
    private struct PendingReceive {
        var token: Int
        var request: WinRSIncomingRequest
        var hostRequest: SimHostRequest
        var identity: SimIdentity
        var sealing: SimSealing?
        var deadline: NIODeadline
        var closeAfter: Bool
        var keepAlive: Bool
        var timer: Scheduled<Void>?
    }

    init(listener: SimHostListener) {
        self.listener = listener
        self.auth = SimConnectionAuth(settings: listener.authSettings())
    }

    private var config: SimulatorConfig { listener.config }
    private var counters: SimCounterStore { listener.counters }

    /// Raw bodies above this are not even buffered (sealing adds well under 1 KiB per message).
    private var rawBodyLimit: Int { config.maxEnvelopeSize + 16 * 1024 }

    func channelActive(context: ChannelHandlerContext) {
        connectionID = counters.connectionAccepted(host: listener.name)
        clientIP = context.channel.remoteAddress?.ipAddress ?? "127.0.0.1"
        armIdleTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isOpen = false
        pending?.timer?.cancel()
        pending = nil
        idleTimer?.cancel()
        idleTimer = nil
        context.fireChannelInactive()
    }

    /// HTTP.sys closes a connection that stays without a request for IdleConnectionTimeout; the timer runs
    /// only between requests, never while one is being served (a Receive long poll is not idle).
    private func armIdleTimer(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        guard let seconds = config.connectionIdleTimeoutSeconds, isOpen else { return }
        let box = UnsafeTransfer((self, context))
        idleTimer = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) {
            let (handler, context) = box.value
            guard handler.isOpen else { return }
            handler.counters.update { $0.connectionsDropped += 1 }
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is HTTPParserError, isOpen {
            // Not HTTP: HTTP.sys answers 400 and closes.
            respond(context: context, status: 400, keepAlive: false, close: true)
            return
        }
        // TLS handshake failures, resets: the connection is gone, as on Windows.
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            idleTimer?.cancel()
            idleTimer = nil
            requestHead = head
            requestBody = context.channel.allocator.buffer(capacity: 0)
            bodyTooLarge = false
            // HTTP.sys answers `Expect: 100-continue` at once; libcurl otherwise waits a second per request.
            if head.headers[canonicalForm: "Expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
            }
        case .body(var chunk):
            if bodyTooLarge { return }
            if (requestBody?.readableBytes ?? 0) + chunk.readableBytes > rawBodyLimit {
                bodyTooLarge = true
                requestBody = nil
            } else {
                requestBody?.writeBuffer(&chunk)
            }
        case .end:
            guard let head = requestHead else { return }
            let body = requestBody.map { Data($0.readableBytesView) } ?? Data()
            requestHead = nil
            requestBody = nil
            process(context: context, head: head, body: body)
        }
    }

    // MARK: - Request processing

    private func process(context: ChannelHandlerContext, head: HTTPRequestHead, body: Data) {
        let keepAlive = head.isKeepAlive
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard path.lowercased() == "/wsman" else {
            respond(context: context, status: 404, contentType: "text/html; charset=us-ascii",
                    body: Data(Self.notFoundPage.utf8), keepAlive: keepAlive)
            return
        }
        guard head.method == .POST else {
            respond(context: context, status: 405, extraHeaders: [("Allow", "POST")], keepAlive: keepAlive)
            return
        }

        switch auth.authorize(head.headers.first(name: "Authorization")) {
        case .challenge(let wwwAuthenticate, let rejected, _):
            if rejected { counters.authenticationFailed(host: listener.name) }
            respond(context: context, status: 401, extraHeaders: wwwAuthenticate.map { ("WWW-Authenticate", $0) },
                    keepAlive: keepAlive)
        case .continueHandshake(let wwwAuthenticate):
            respond(context: context, status: 401, extraHeaders: [("WWW-Authenticate", wwwAuthenticate)],
                    keepAlive: keepAlive)
        case .proceed(let identity, let sealing, let completedHandshake, let finalToken, let handshake):
            if completedHandshake {
                counters.authenticated(host: listener.name, connection: connectionID, handshake: handshake)
            }
            let dropAfterHandshake = completedHandshake && sealing != nil && config.dropAfterAuth
            serveAuthenticated(context: context, head: head, body: body, identity: identity, sealing: sealing,
                               closeAfter: dropAfterHandshake, keepAlive: keepAlive,
                               extraHeaders: finalToken.map { [("WWW-Authenticate", $0)] } ?? [])
        }
    }

    private func serveAuthenticated(context: ChannelHandlerContext, head: HTTPRequestHead, body: Data,
                                    identity: SimIdentity, sealing: SimSealing?, closeAfter: Bool, keepAlive: Bool,
                                    extraHeaders: [(String, String)] = []) {
        if bodyTooLarge {
            counters.update { $0.oversizeRefusals += 1 }
            respond(context: context, status: 413, keepAlive: keepAlive, close: closeAfter)
            return
        }
        // The empty-body POST that carries the last handshake leg (pywinrm, pypsrp, Ruby gem, our client).
        if body.isEmpty {
            if closeAfter { counters.update { $0.connectionsDropped += 1 } }
            respond(context: context, status: 200, extraHeaders: extraHeaders, keepAlive: keepAlive, close: closeAfter)
            return
        }
        let contentType = head.headers.first(name: "Content-Type")
        let soap: Data
        var responseSealing: SimSealing?
        if WinRMEncryption.isEncrypted(contentType: contentType) {
            guard let sealing else {
                // Sealed body without an NTLM/Kerberos context on this connection (e.g. the connection changed).
                counters.update { $0.integrityFailures += 1 }
                auth.reset()
                respond(context: context, status: 400, keepAlive: false, close: true)
                return
            }
            do {
                soap = try WinRMEncryption.decode(body, contentType: contentType, sealer: sealing.sealer)
            } catch {
                // A body that fails to unseal breaks the RC4 stream: Windows answers 400 and the
                // context is unusable, so the connection is closed.
                counters.update { $0.integrityFailures += 1; $0.connectionsDropped += 1 }
                auth.reset()
                respond(context: context, status: 400, keepAlive: false, close: true)
                return
            }
            responseSealing = sealing
        } else {
            guard config.https || config.allowUnencrypted else {
                // AllowUnencrypted=false: Windows refuses a plaintext SOAP body on http with 401 and the
                // client must authenticate again (hashicorp/packer#6205, cloudsoft/winrm4j#110).
                counters.update { $0.plainBodyRefusals += 1 }
                auth.reset()
                respond(context: context, status: 401,
                        extraHeaders: auth.settings.challengeHeaders.map { ("WWW-Authenticate", $0) },
                        keepAlive: keepAlive, close: closeAfter)
                return
            }
            soap = body
        }
        if soap.count > config.maxEnvelopeSize {
            // MaxEnvelopeSizekb exceeded: WinRM answers HTTP 413 (ansible.windows#620, masterzen/winrm#156).
            counters.update { $0.oversizeRefusals += 1 }
            respond(context: context, status: 413, keepAlive: keepAlive, close: closeAfter)
            return
        }
        serveSOAP(context: context, soap: soap, identity: identity, sealing: responseSealing,
                  closeAfter: closeAfter, keepAlive: keepAlive)
    }

    private func serveSOAP(context: ChannelHandlerContext, soap: Data, identity: SimIdentity, sealing: SimSealing?,
                           closeAfter: Bool, keepAlive: Bool) {
        let request: WinRSIncomingRequest
        do {
            request = try WinRSServer.parseRequest(soap)
        } catch let error as WinRSRequestError {
            counters.request(host: listener.name, action: "invalid")
            respondSOAP(context: context, status: 500, xml: WinRSServer.fault(for: error, machine: listener.engine.address),
                        sealing: sealing, keepAlive: keepAlive, close: closeAfter)
            return
        } catch {
            counters.request(host: listener.name, action: "invalid")
            let fault = WinRSRequestError("request could not be read: \(error)")
            respondSOAP(context: context, status: 500, xml: WinRSServer.fault(for: fault, machine: listener.engine.address),
                        sealing: sealing, keepAlive: keepAlive, close: closeAfter)
            return
        }
        soapRequestCount += 1
        counters.request(host: listener.name, action: SimWinRSCodec.actionName(request))
        var close = closeAfter
        var dropInsteadOfAnswer = false
        if let every = config.faults.dropConnectionEvery, every > 0, soapRequestCount % every == 0 {
            if config.faults.dropBeforeResponse { dropInsteadOfAnswer = true } else { close = true }
        }

        let hostRequest = SimWinRSCodec.hostRequest(from: request)
        let now = NIODeadline.now()
        pendingToken += 1
        let token = pendingToken
        let outcome = listener.engine.handle(hostRequest, identity: identity, clientIP: clientIP,
                                             now: now, waiter: makeWaiter(context: context, token: token))
        if dropInsteadOfAnswer {
            counters.update { $0.connectionsDropped += 1 }
            context.close(promise: nil)
            return
        }
        if case .wait(let until) = outcome {
            let timeout = min(request.operationTimeoutSeconds ?? config.defaultOperationTimeoutSeconds,
                              config.operationTimeoutCapSeconds)
            var waiting = PendingReceive(token: token, request: request, hostRequest: hostRequest, identity: identity,
                                         sealing: sealing, deadline: now + .nanoseconds(Int64(timeout * 1e9)),
                                         closeAfter: close, keepAlive: keepAlive, timer: nil)
            waiting.timer = scheduleRepoll(context: context, token: token, at: min(until ?? waiting.deadline, waiting.deadline))
            pending = waiting
            return
        }
        answer(context: context, outcome: outcome, request: request, sealing: sealing, keepAlive: keepAlive, close: close)
    }

    private func answer(context: ChannelHandlerContext, outcome: SimHostOutcome, request: WinRSIncomingRequest,
                        sealing: SimSealing?, keepAlive: Bool, close: Bool) {
        if case .fault(.operationTimedOut) = outcome { counters.update { $0.operationTimeoutFaults += 1 } }
        guard let (status, xml) = SimWinRSCodec.render(outcome, request: request, endpoint: request.to ?? listener.endpoint,
                                                      machine: listener.engine.address) else { return }
        if close { counters.update { $0.connectionsDropped += 1 } }
        respondSOAP(context: context, status: status, xml: xml, sealing: sealing, keepAlive: keepAlive, close: close)
    }

    // MARK: - Receive long poll

    private func makeWaiter(context: ChannelHandlerContext, token: Int) -> () -> Void {
        let loop = context.eventLoop
        let box = UnsafeTransfer((self, context))
        return {
            loop.execute {
                let (handler, context) = box.value
                handler.repoll(context: context, token: token)
            }
        }
    }

    private func scheduleRepoll(context: ChannelHandlerContext, token: Int, at deadline: NIODeadline) -> Scheduled<Void> {
        let box = UnsafeTransfer((self, context))
        return context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = box.value
            handler.repoll(context: context, token: token)
        }
    }

    private func repoll(context: ChannelHandlerContext, token: Int) {
        guard isOpen, var waiting = pending, waiting.token == token else { return }
        waiting.timer?.cancel()
        let now = NIODeadline.now()
        pendingToken += 1
        let next = pendingToken
        waiting.token = next
        var outcome = listener.engine.handle(waiting.hostRequest, identity: waiting.identity,
                                             clientIP: clientIP, now: now,
                                             waiter: makeWaiter(context: context, token: next))
        if case .wait(let until) = outcome {
            if now < waiting.deadline {
                waiting.timer = scheduleRepoll(context: context, token: next, at: min(until ?? waiting.deadline, waiting.deadline))
                pending = waiting
                return
            }
            // MS-WSMV 3.1.4.14: no output within OperationTimeout → fault 2150858793; the client re-issues Receive.
            outcome = .fault(.operationTimedOut)
        }
        pending = nil
        answer(context: context, outcome: outcome, request: waiting.request, sealing: waiting.sealing,
               keepAlive: waiting.keepAlive, close: waiting.closeAfter)
    }

    // MARK: - Responses

    private func respondSOAP(context: ChannelHandlerContext, status: Int, xml: String, sealing: SimSealing?,
                             keepAlive: Bool, close: Bool) {
        let plain = Data(xml.utf8)
        guard let sealing else {
            respond(context: context, status: status, contentType: "application/soap+xml;charset=UTF-8", body: plain,
                    keepAlive: keepAlive, close: close)
            return
        }
        do {
            var body = try WinRMEncryption.encode(plain, protocol: sealing.protocolName, sealer: sealing.sealer)
            if config.faults.corruptSealedResponses {
                Self.flipEncryptedByte(&body)
                counters.update { $0.sealedResponsesCorrupted += 1 }
            }
            respond(context: context, status: status,
                    contentType: WinRMEncryption.contentType(protocol: sealing.protocolName),
                    body: body, keepAlive: keepAlive, close: close)
        } catch {
            respond(context: context, status: 500, keepAlive: false, close: true)
        }
    }

    private func respond(context: ChannelHandlerContext, status: Int, contentType: String? = nil, body: Data = Data(),
                         extraHeaders: [(String, String)] = [], keepAlive: Bool, close: Bool = false) {
        let closing = close || !keepAlive
        // The head is written here rather than by NIO's HTTPResponseEncoder: one buffer with the
        // body, no HTTPHeaders to build and encode (about 3 % of a loaded simulator's CPU).
        var head = "HTTP/1.1 \(status) \(HTTPResponseStatus(statusCode: status).reasonPhrase)\r\nServer: Microsoft-HTTPAPI/2.0\r\n"
        for (name, value) in extraHeaders { head += "\(name): \(value)\r\n" }
        if let contentType = contentType, !body.isEmpty { head += "Content-Type: \(contentType)\r\n" }
        head += "Content-Length: \(body.count)\r\n"
        if closing { head += "Connection: close\r\n" }
        head += "\r\n"

        let delay = listener.responseDelay
        let box = UnsafeTransfer((self, context))
        let write = {
            let (handler, context) = box.value
            guard handler.isOpen else { return }
            var buffer = context.channel.allocator.buffer(capacity: head.utf8.count + body.count)
            buffer.writeString(head)
            buffer.writeBytes(body)
            // Armed before the write: the next request may arrive while flushing, and its head must
            // be able to cancel the timer.
            if !closing { handler.armIdleTimer(context: context) }
            if closing {
                let done = context.eventLoop.makePromise(of: Void.self)
                context.writeAndFlush(handler.wrapOutboundOut(buffer), promise: done)
                done.futureResult.whenComplete { _ in context.close(promise: nil) }
            } else {
                context.writeAndFlush(handler.wrapOutboundOut(buffer), promise: nil)
            }
        }
        if delay.nanoseconds > 0 {
            SimDelayLine.current(for: delay).hold(delay, on: context.eventLoop, write)
        } else {
            write()
        }
    }

    /// `faults.corruptSealedResponses`: flips one bit in the middle of the encrypted data (between the
    /// security header and the closing boundary), leaving the framing intact so only the cryptographic
    /// check can notice.
    static func flipEncryptedByte(_ body: inout Data) {
        let trailer = Data("--\(WinRMEncryption.boundary)--\r\n".utf8)
        let marker = Data("application/octet-stream\r\n".utf8)
        guard let start = body.range(of: marker)?.upperBound,
              let end = body.range(of: trailer, options: .backwards)?.lowerBound else { return }
        // <4-byte header length><header><encrypted data>: flip a byte of the encrypted data if there
        // is any, else of the header.
        let headerLength = body.count >= start + 4
            ? Int(body[start]) | Int(body[start + 1]) << 8 | Int(body[start + 2]) << 16 | Int(body[start + 3]) << 24 : 0
        let dataStart = start + 4 + headerLength
        let index = dataStart < end ? dataStart + (end - dataStart) / 2 : start + 4 + headerLength / 2
        guard index < end else { return }
        body[index] ^= 0x01
    }

    /// The page HTTP.sys serves for a URL no listener registered.
    static let notFoundPage = """
        <!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r
        <HTML><HEAD><TITLE>Not Found</TITLE>\r
        <META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>\r
        <BODY><h2>Not Found</h2>\r
        <hr><p>HTTP Error 404. The requested resource is not found.</p>\r
        </BODY></HTML>\r

        """
}

/// Moves a non-Sendable value into an event-loop closure that runs on the value's own loop.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
