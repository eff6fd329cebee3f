import Foundation

/// Per-message protection for MS-WSMV HTTP message encryption (§2.2.9.1), independent of the mechanism.
///
/// `wrap` returns the security header (NTLM: the 16-byte NTLMSSP_MESSAGE_SIGNATURE; Kerberos: the RFC 4121
/// wrap token header) and the encrypted payload. Implementations keep per-direction state (sequence numbers,
/// cipher streams), so calls must be strictly ordered per direction: one request in flight per context.
public protocol MessageSealer: AnyObject {
    func wrap(_ plaintext: Data) throws -> (header: Data, payload: Data)
    func unwrap(header: Data, payload: Data) throws -> Data
}
