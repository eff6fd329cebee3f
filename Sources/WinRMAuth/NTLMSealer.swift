import Crypto
import Foundation

/// NTLM session security with extended session security (MS-NLMP §3.4.3, §3.4.4.2).
///
/// Each direction has its own signing key, sealing key, running RC4 handle and sequence number. For
/// one message: the plaintext is sealed with the direction's RC4 handle first, then the checksum
/// HMAC_MD5(SigningKey, SeqNum ‖ plaintext)[0..<8] is encrypted with the *same* running handle (when
/// KEY_EXCH was negotiated). The 16-byte signature is `01 00 00 00 ‖ checksum ‖ SeqNum`.
///
/// After any verification failure the incoming RC4 stream is out of step with the peer, so the sealer
/// refuses further use: the caller must drop the connection and authenticate again.
///
/// Thread safety: calls are serialized by an internal lock, but message order per direction is the
/// caller's responsibility (one request in flight per authenticated connection).
public final class NTLMSealer: MessageSealer, @unchecked Sendable {
    public enum Role: Sendable {
        case client
        case server
    }

    public let role: Role
    public let negotiatedFlags: NTLMNegotiateFlags

    /// HMAC-MD5 keyed with each direction's signing key, copied per message (the key schedule is done once).
    private let outgoingMAC: HMAC<Insecure.MD5>
    private let incomingMAC: HMAC<Insecure.MD5>
    private var outgoingHandle: RC4
    private var incomingHandle: RC4
    public private(set) var outgoingSequenceNumber: UInt32 = 0
    public private(set) var incomingSequenceNumber: UInt32 = 0
    private var failure: String?
    private let lock = NSLock()

    public static let signatureLength = 16

    /// Builds the session-security state from the exported session key both sides derived.
    /// Requires EXTENDED_SESSIONSECURITY (the only mode the NTLMv2 contexts negotiate).
    public init(exportedSessionKey: Data, flags: NTLMNegotiateFlags, role: Role) throws {
        guard flags.contains(.extendedSessionSecurity) else {
            throw NTLMError.unsupported("message signing and sealing without NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY")
        }
        guard exportedSessionKey.count == 16 else {
            throw NTLMError.invalidState("exported session key must be 16 bytes, got \(exportedSessionKey.count)")
        }
        self.role = role
        self.negotiatedFlags = flags
        let outgoing: NTLMCrypto.Direction = role == .client ? .clientToServer : .serverToClient
        let incoming: NTLMCrypto.Direction = role == .client ? .serverToClient : .clientToServer
        outgoingMAC = HMAC(key: SymmetricKey(data: NTLMCrypto.signingKey(exportedSessionKey: exportedSessionKey, direction: outgoing)))
        incomingMAC = HMAC(key: SymmetricKey(data: NTLMCrypto.signingKey(exportedSessionKey: exportedSessionKey, direction: incoming)))
        outgoingHandle = RC4(key: NTLMCrypto.sealingKey(exportedSessionKey: exportedSessionKey, flags: flags, direction: outgoing))
        incomingHandle = RC4(key: NTLMCrypto.sealingKey(exportedSessionKey: exportedSessionKey, flags: flags, direction: incoming))
    }

    /// Seals `plaintext`: returns the 16-byte signature (MS-WSMV security header) and the RC4-encrypted payload.
    public func wrap(_ plaintext: Data) throws -> (header: Data, payload: Data) {
        lock.lock()
        defer { lock.unlock() }
        try checkUsable()
        guard negotiatedFlags.contains(.seal) else {
            throw NTLMError.unsupported("sealing was not negotiated (NTLMSSP_NEGOTIATE_SEAL missing)")
        }
        var payload = plaintext
        outgoingHandle.process(&payload)
        let header = signature(for: plaintext, sequenceNumber: outgoingSequenceNumber,
                               mac: outgoingMAC, handle: &outgoingHandle)
        outgoingSequenceNumber &+= 1
        return (header, payload)
    }

    /// Decrypts `payload` and verifies `header` against it. Throws `NTLMError.integrity` on any mismatch.
    public func unwrap(header: Data, payload: Data) throws -> Data {
        lock.lock()
        defer { lock.unlock() }
        try checkUsable()
        guard negotiatedFlags.contains(.seal) else {
            throw NTLMError.unsupported("sealing was not negotiated (NTLMSSP_NEGOTIATE_SEAL missing)")
        }
        try checkHeaderShape(header)
        var plaintext = payload
        incomingHandle.process(&plaintext)
        try verifyLocked(plaintext, signature: header)
        return plaintext
    }

    /// Signs without sealing (GSS_GetMIC): the checksum still consumes the outgoing RC4 stream under KEY_EXCH.
    public func sign(_ message: Data) throws -> Data {
        lock.lock()
        defer { lock.unlock() }
        try checkUsable()
        guard negotiatedFlags.contains(.sign) else {
            throw NTLMError.unsupported("signing was not negotiated (NTLMSSP_NEGOTIATE_SIGN missing)")
        }
        let header = signature(for: message, sequenceNumber: outgoingSequenceNumber,
                               mac: outgoingMAC, handle: &outgoingHandle)
        outgoingSequenceNumber &+= 1
        return header
    }

    /// Verifies a signature made by the peer's `sign` (GSS_VerifyMIC).
    public func verify(_ message: Data, signature: Data) throws {
        lock.lock()
        defer { lock.unlock() }
        try checkUsable()
        guard negotiatedFlags.contains(.sign) else {
            throw NTLMError.unsupported("signing was not negotiated (NTLMSSP_NEGOTIATE_SIGN missing)")
        }
        try checkHeaderShape(signature)
        try verifyLocked(message, signature: signature)
    }

    // MARK: - Internals (lock held)

    private var directionName: String {
        role == .client ? "server-to-client" : "client-to-server"
    }

    private func checkUsable() throws {
        if let failure {
            throw NTLMError.integrity("context unusable after an earlier failure (\(failure)); re-authenticate")
        }
    }

    private func checkHeaderShape(_ header: Data) throws {
        guard header.count == NTLMSealer.signatureLength else {
            let detail = "\(directionName) signature must be \(NTLMSealer.signatureLength) bytes, got \(header.count)"
            failure = detail
            throw NTLMError.integrity(detail)
        }
    }

    private func verifyLocked(_ plaintext: Data, signature received: Data) throws {
        let expected = signature(for: plaintext, sequenceNumber: incomingSequenceNumber,
                                 mac: incomingMAC, handle: &incomingHandle)
        guard ConstantTime.equals(expected, received) else {
            let receivedSequence = ByteReader(received).uint32(at: 12) ?? 0
            let detail: String
            if receivedSequence != incomingSequenceNumber {
                detail = "\(directionName) message has sequence number \(receivedSequence), expected "
                    + "\(incomingSequenceNumber) (lost, replayed or reordered message)"
            } else {
                detail = "\(directionName) message \(incomingSequenceNumber) has a bad checksum (payload or header altered)"
            }
            failure = detail
            throw NTLMError.integrity(detail)
        }
        incomingSequenceNumber &+= 1
    }

    /// MAC with ESS (§3.4.4.2): Version 1 ‖ checksum ‖ SeqNum, checksum RC4'd under KEY_EXCH.
    private func signature(for message: Data, sequenceNumber: UInt32, mac keyed: HMAC<Insecure.MD5>, handle: inout RC4) -> Data {
        var sequenceBytes = ByteWriter(capacity: 4)
        sequenceBytes.append(sequenceNumber)
        var mac = keyed
        mac.update(data: sequenceBytes.bytes)
        mac.update(data: message)
        var checksum = mac.finalize().withUnsafeBytes { [UInt8]($0.prefix(8)) }
        if negotiatedFlags.contains(.keyExchange) {
            handle.process(&checksum)
        }
        var header = ByteWriter(capacity: 16)
        header.append(UInt32(1))
        header.append(contentsOf: checksum)
        header.append(contentsOf: sequenceBytes.bytes)
        return header.data
    }
}
