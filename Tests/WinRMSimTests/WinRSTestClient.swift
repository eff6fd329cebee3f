import Foundation
import XCTest
import WSMan
import WinRMAuth
@testable import WinRMSim

/// A WinRS client for tests over one `RawHTTPConnection`: Basic or NTLM (sealed over http).
final class WinRSTestClient {
    let connection: RawHTTPConnection
    var ctx: WSManEndpointContext
    private var basicHeader: String?
    private(set) var sealer: NTLMSealer?
    /// Seal bodies (NTLM over http). Off over https, as every client does.
    var sealBodies = false

    struct Failure: Error, CustomStringConvertible {
        var status: Int
        var fault: WSManFault?
        var text: String
        var description: String { "HTTP \(status): \(fault.map(String.init(describing:)) ?? text)" }
    }

    init(connection: RawHTTPConnection, https: Bool, operationTimeoutSeconds: Int = 20, maxEnvelopeSize: Int = 153_600) {
        self.connection = connection
        ctx = WSManEndpointContext(to: "\(https ? "https" : "http")://\(connection.host):\(connection.port)/wsman",
                                   operationTimeoutSeconds: operationTimeoutSeconds, maxEnvelopeSize: maxEnvelopeSize)
    }

    func useBasic(user: String, password: String) {
        basicHeader = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    /// Runs the NTLM handshake on this connection with an empty-body POST; returns the final response.
    @discardableResult
    func authenticateNTLM(user: String, password: String, channelBindings: Data? = nil, scheme: String = "Negotiate",
                          seal: Bool = true) throws -> RawHTTPConnection.Response {
        let client = NTLMClientContext(credential: NTLMCredential(user: user, password: password),
                                       channelBindings: channelBindings)
        let first = try connection.post(headers: [("Authorization", "\(scheme) " + client.negotiateMessage().base64EncodedString())])
        guard first.status == 401, let challengeHeader = first.headers("WWW-Authenticate").first(where: { $0.hasPrefix(scheme + " ") }),
              let challenge = Data(base64Encoded: String(challengeHeader.dropFirst(scheme.count + 1))) else {
            throw Failure(status: first.status, fault: nil, text: "no NTLM challenge: \(first.headers)")
        }
        let authenticate = try client.authenticateMessage(challenge: challenge)
        let second = try connection.post(headers: [("Authorization", "\(scheme) " + authenticate.base64EncodedString())])
        if second.status == 200 {
            sealer = client.sealer
            sealBodies = seal
        }
        return second
    }

    /// Sends one request; returns the SOAP body of a 200, throws `Failure` otherwise.
    func call(_ request: WSManRequest, timeout: TimeInterval = 60) throws -> Data {
        let response = try exchange(request.body, timeout: timeout)
        let soap = try plaintext(response)
        guard response.status == 200 else {
            let fault = (try? XMLNode.parse(soap)).flatMap { WSManFault.parse(envelope: $0) }
            throw Failure(status: response.status, fault: fault, text: String(decoding: soap, as: UTF8.self))
        }
        return soap
    }

    func exchange(_ body: Data, timeout: TimeInterval = 60) throws -> RawHTTPConnection.Response {
        var headers: [(String, String)] = []
        if let basic = basicHeader { headers.append(("Authorization", basic)) }
        if sealBodies, let sealer = sealer {
            let sealed = try WinRMEncryption.encode(body, protocol: WinRMEncryption.spnegoProtocol, sealer: sealer)
            return try connection.post(headers: headers, body: sealed,
                                       contentType: WinRMEncryption.contentType(protocol: WinRMEncryption.spnegoProtocol),
                                       timeout: timeout)
        }
        return try connection.post(headers: headers, body: body, timeout: timeout)
    }

    func plaintext(_ response: RawHTTPConnection.Response) throws -> Data {
        if WinRMEncryption.isEncrypted(contentType: response.header("Content-Type")), let sealer = sealer {
            return try WinRMEncryption.decode(response.body, contentType: response.header("Content-Type"), sealer: sealer)
        }
        return response.body
    }

    // MARK: - WinRS conveniences

    func createShell(_ options: ShellOptions = ShellOptions()) throws -> ShellCreated {
        let request = WinRS.createShell(ctx, options: options)
        return try WinRSResponse.parseCreate(call(request), request: request)
    }

    func startCommand(shellID: String, _ command: String, arguments: [String] = []) throws -> String {
        let request = WinRS.command(ctx, shellID: shellID, command: command, arguments: arguments)
        return try WinRSResponse.parseCommand(call(request), request: request)
    }

    func send(shellID: String, commandID: String, _ data: Data, end: Bool) throws {
        let request = WinRS.send(ctx, shellID: shellID, commandID: commandID, stdin: data, end: end)
        try WinRSResponse.parseAcknowledgement(call(request), request: request)
    }

    struct Result {
        var stdout = Data()
        var stderr = Data()
        var exitCode: Int32?
        var receives = 0
        var timeouts = 0
        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// Receives until Done, re-issuing Receive after each OperationTimeout fault (as every client does).
    func receiveAll(shellID: String, commandID: String, maxTimeouts: Int = 10) throws -> Result {
        var result = Result()
        while true {
            let request = WinRS.receive(ctx, shellID: shellID, commandID: commandID)
            do {
                let output = try WinRSResponse.parseReceive(call(request), request: request)
                result.receives += 1
                result.stdout += output.stdout
                result.stderr += output.stderr
                if case .done(let code) = output.state {
                    result.exitCode = code
                    return result
                }
            } catch let failure as Failure where failure.fault?.isOperationTimeout == true {
                result.timeouts += 1
                if result.timeouts > maxTimeouts { throw failure }
            }
        }
    }

    func signal(shellID: String, commandID: String) throws {
        let request = WinRS.signal(ctx, shellID: shellID, commandID: commandID, code: .terminate)
        try WinRSResponse.parseAcknowledgement(call(request), request: request)
    }

    func deleteShell(_ shellID: String) throws {
        let request = WinRS.deleteShell(ctx, shellID: shellID)
        try WinRSResponse.parseAcknowledgement(call(request), request: request)
    }

    /// Create-less run in an existing shell: Command, Receive until Done, Signal terminate.
    func run(shellID: String, _ command: String, arguments: [String] = []) throws -> Result {
        let commandID = try startCommand(shellID: shellID, command, arguments: arguments)
        let result = try receiveAll(shellID: shellID, commandID: commandID)
        try signal(shellID: shellID, commandID: commandID)
        return result
    }
}

/// Starts fleets on random loopback addresses and ports so that tests (and other suites) never collide.
enum TestFleet {
    static func start(_ configure: (inout SimulatorConfig) -> Void) throws -> SimulatedFleet {
        var lastError: Error?
        for _ in 0..<8 {
            var config = SimulatorConfig()
            config.firstAddress = "127.\(Int.random(in: 120...250)).\(Int.random(in: 0...200)).1"
            config.port = Int.random(in: 20_000...60_000)
            configure(&config)
            let fleet = SimulatedFleet(config: config)
            do {
                try fleet.start()
                return fleet
            } catch {
                lastError = error
            }
        }
        throw lastError!
    }
}
