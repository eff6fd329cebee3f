import Foundation

/// Errors raised by the NTLM client, server and sealer.
///
/// No case ever carries a password, hash or key: only user names, field names and sizes.
public enum NTLMError: Error, Equatable, Sendable {
    /// A message could not be decoded. `message` is NEGOTIATE / CHALLENGE / AUTHENTICATE,
    /// `field` names the MS-NLMP field that was wrong (e.g. "TargetInfoFields").
    case malformed(message: String, field: String, detail: String)
    /// The server rejected the credentials (unknown user or wrong password).
    case authenticationFailed(user: String)
    /// The AUTHENTICATE message's MIC did not verify: the handshake was tampered with.
    case micMismatch
    /// Channel binding (EPA / CBT) was required but missing or different from the server's TLS channel.
    case channelBindingMismatch
    /// A sealed or signed message failed verification (tampering, reordering or a lost message).
    case integrity(String)
    /// The peer asked for something this implementation deliberately does not do (NTLMv1, OEM, no ESS...).
    case unsupported(String)
    /// An API was called out of order (e.g. AUTHENTICATE before NEGOTIATE).
    case invalidState(String)
}

extension NTLMError: CustomStringConvertible, LocalizedError {
    public var description: String {
        switch self {
        case let .malformed(message, field, detail):
            return "malformed NTLM \(message) message: field \(field): \(detail)"
        case let .authenticationFailed(user):
            return "NTLM authentication failed for user '\(user)': unknown user or wrong password"
        case .micMismatch:
            return "NTLM AUTHENTICATE message integrity code (MIC) does not match: the handshake was altered in transit"
        case .channelBindingMismatch:
            return "NTLM channel binding token missing or different from this TLS channel "
                + "(a TLS-intercepting proxy or a client without Extended Protection support)"
        case let .integrity(detail):
            return "NTLM message integrity check failed: \(detail)"
        case let .unsupported(detail):
            return "unsupported NTLM feature: \(detail)"
        case let .invalidState(detail):
            return "NTLM context used out of order: \(detail)"
        }
    }

    public var errorDescription: String? { description }
}
