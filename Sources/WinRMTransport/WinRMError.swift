import Foundation

/// Every way a host can fail to run a command, as operators need to tell them apart.
/// The raw values are the `error.kind` strings of `run --format jsonl` (a contract).
public enum WinRMErrorKind: String, Sendable, CaseIterable, Codable {
    case auth
    case affinity
    case proxyAuth = "proxy_auth"
    case proxy
    case policy
    case tls
    case network
    case timeout
    case wsmanFault = "wsman_fault"
    case `protocol`
}

public struct WinRMError: Error, Sendable, CustomStringConvertible, Equatable {
    public var kind: WinRMErrorKind
    public var message: String
    /// A machine-readable detail: an HTTP status, a WS-Man fault code, a curl code.
    public var code: String?
    /// The SOAP request was on the wire when the failure came: the host may have acted on it.
    /// A Command in that state is never sent again (it could run twice).
    public var requestMayHaveArrived: Bool

    public init(_ kind: WinRMErrorKind, _ message: String, code: String? = nil, requestMayHaveArrived: Bool = false) {
        self.kind = kind
        self.message = message
        self.code = code
        self.requestMayHaveArrived = requestMayHaveArrived
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}

/// What a connection noticed about itself that the operator should see (session events).
public enum ConnectionEvent: Sendable, Equatable {
    case authenticated(mechanism: String, localPort: Int)
    /// The TCP connection changed under an authenticated context.
    case affinityLost(detail: String)
    /// A connection that had been idle was closed by the host or a middlebox (not an affinity
    /// problem: idle connections are closed everywhere); a new one was authenticated.
    case reconnectedAfterIdle(detail: String)
}
