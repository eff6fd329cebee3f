import CGSSAPI
import Foundation

/// MS-WSMV 2.2.9.1 message encryption with a Kerberos context: the wrap token is split into
/// the token header (sent after the 4-byte length in the multipart body) and the encrypted
/// data. gss_wrap_iov with HEADER | DATA | PADDING and no TRAILER makes MIT rotate the RFC
/// 4121 trailer into the header (RRC = trailer length), which is exactly the layout Windows
/// SSPI produces: for aes256-cts-hmac-sha1-96 the header is 16 (token header) + 16
/// (confounder) + 16 (encrypted copy of the token header) + 12 (HMAC) = 60 bytes and the
/// data is as long as the plaintext (CTS needs no padding, EC = 0).
extension GSSAPI.SecurityContext {

    struct WrappedMessage {
        var header: Data
        /// Encrypted data followed by the padding (RC4: one byte; AES: none).
        var payload: Data
        var paddingLength: Int
    }

    func wrapForWinRM(_ plaintext: Data) throws -> WrappedMessage {
        guard let handle else {
            throw GSSAPI.Failure(operation: "gss_wrap_iov", major: GSSAPI.Major.noContext, minor: 0,
                                 message: "the security context is not established")
        }
        var data = [UInt8](plaintext)
        var minor: OM_uint32 = 0
        var confidential: Int32 = 0
        var iov = [
            gss_iov_buffer_desc(type: GSSAPI.IOVType.header | GSSAPI.IOVType.flagAllocate,
                                buffer: gss_buffer_desc()),
            gss_iov_buffer_desc(type: GSSAPI.IOVType.data, buffer: gss_buffer_desc()),
            gss_iov_buffer_desc(type: GSSAPI.IOVType.padding | GSSAPI.IOVType.flagAllocate,
                                buffer: gss_buffer_desc()),
        ]
        let result: (major: OM_uint32, header: Data, encrypted: Data, padding: Data) =
            data.withUnsafeMutableBytes { raw in
                // The DATA buffer is encrypted in place.
                iov[1].buffer = gss_buffer_desc(length: raw.count, value: raw.baseAddress)
                let major = iov.withUnsafeMutableBufferPointer { buffers in
                    gss_wrap_iov(&minor, handle, 1 /* conf_req */, 0 /* GSS_C_QOP_DEFAULT */,
                                 &confidential, buffers.baseAddress, Int32(buffers.count))
                }
                let header = GSSAPI.data(from: iov[0].buffer)
                let encrypted = GSSAPI.data(from: iov[1].buffer)
                let padding = GSSAPI.data(from: iov[2].buffer)
                var releaseMinor: OM_uint32 = 0
                iov.withUnsafeMutableBufferPointer { buffers in
                    _ = gss_release_iov_buffer(&releaseMinor, buffers.baseAddress, Int32(buffers.count))
                }
                return (major, header, encrypted, padding)
            }
        guard !GSSAPI.isError(result.major) else {
            throw GSSAPI.failure("gss_wrap_iov", major: result.major, minor: minor)
        }
        guard confidential != 0 else {
            throw GSSAPI.Failure(operation: "gss_wrap_iov", major: GSSAPI.Major.unavailable, minor: 0,
                                 message: "the context cannot encrypt (confidentiality was not negotiated)")
        }
        return WrappedMessage(header: result.header, payload: result.encrypted + result.padding,
                              paddingLength: result.padding.count)
    }

    /// gss_unwrap_iov with HEADER + DATA (decrypted in place). This is what MIT needs for
    /// RFC 4121 tokens whose trailer was rotated into the header (RRC), as Windows and our
    /// wrap produce them. Sequence problems come back as supplementary bits of a
    /// non-error major status, so they are checked explicitly: with WinRM's strict
    /// one-request-at-a-time order a duplicate, old, out-of-order or missing message means
    /// replay or loss, and is refused.
    func unwrapForWinRM(header: Data, payload: Data) throws -> Data {
        guard let handle else {
            throw GSSAPI.Failure(operation: "gss_unwrap_iov", major: GSSAPI.Major.noContext, minor: 0,
                                 message: "the security context is not established")
        }
        var headerBytes = [UInt8](header)
        var data = [UInt8](payload)
        var minor: OM_uint32 = 0
        var confidential: Int32 = 0
        var qop: gss_qop_t = 0
        let (major, plaintextLength): (OM_uint32, Int) = headerBytes.withUnsafeMutableBytes { rawHeader in
            data.withUnsafeMutableBytes { rawData in
                var iov = [
                    gss_iov_buffer_desc(type: GSSAPI.IOVType.header,
                                        buffer: gss_buffer_desc(length: rawHeader.count, value: rawHeader.baseAddress)),
                    gss_iov_buffer_desc(type: GSSAPI.IOVType.data,
                                        buffer: gss_buffer_desc(length: rawData.count, value: rawData.baseAddress)),
                ]
                let major = iov.withUnsafeMutableBufferPointer { buffers in
                    gss_unwrap_iov(&minor, handle, &confidential, &qop, buffers.baseAddress, Int32(buffers.count))
                }
                return (major, min(iov[1].buffer.length, rawData.count))
            }
        }
        if GSSAPI.isError(major) {
            throw GSSAPI.failure("gss_unwrap_iov", major: major, minor: minor)
        }
        let sequenceProblems = GSSAPI.Major.duplicateToken | GSSAPI.Major.oldToken
            | GSSAPI.Major.unsequencedToken | GSSAPI.Major.gapToken
        if major & sequenceProblems != 0 {
            throw GSSAPI.failure("gss_unwrap_iov", major: major, minor: minor)
        }
        guard confidential != 0 else {
            throw GSSAPI.Failure(operation: "gss_unwrap_iov", major: GSSAPI.Major.badSignature, minor: 0,
                                 message: "the message was signed but not encrypted")
        }
        var plaintext = Data(data.prefix(plaintextLength))
        // RFC 4757 RC4 tokens always end in one padding byte 0x01; MIT pads, Windows' WinRM
        // does not, and with a HEADER+DATA IOV MIT leaves any padding in place. A SOAP body
        // never ends in 0x01, so the byte is padding whenever it is there.
        if GSSAPI.isRFC1964RC4WrapToken(header), plaintext.last == 0x01 {
            plaintext.removeLast()
        }
        return plaintext
    }
}

extension GSSAPI {
    /// True for an RFC 1964/4757 wrap token using RC4-HMAC: 0x60 <DER length> 06 09
    /// <krb5 OID> 02 01 <SGN_ALG 2> 10 00 (SEAL_ALG RC4). RFC 4121 (AES) tokens start 05 04.
    static func isRFC1964RC4WrapToken(_ header: Data) -> Bool {
        let bytes = [UInt8](header.prefix(32))
        guard bytes.count > 2, bytes[0] == 0x60 else { return false }
        var index = 1
        let lengthByte = bytes[index]
        index += lengthByte < 0x80 ? 1 : 1 + Int(lengthByte & 0x7F)
        let krb5OID: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x12, 0x01, 0x02, 0x02]
        guard bytes.count >= index + krb5OID.count + 6,
              Array(bytes[index ..< index + krb5OID.count]) == krb5OID else { return false }
        index += krb5OID.count
        return bytes[index] == 0x02 && bytes[index + 1] == 0x01      // TOK_ID wrap
            && bytes[index + 4] == 0x10 && bytes[index + 5] == 0x00  // SEAL_ALG RC4
    }
}

extension GSSAPI.SecurityContext {
    /// `wrapForWinRM` with GSS failures turned into `KerberosError` (both context classes use it).
    func wrapMessage(_ plaintext: Data) throws -> (header: Data, payload: Data) {
        do {
            let wrapped = try wrapForWinRM(plaintext)
            return (wrapped.header, wrapped.payload)
        } catch let failure as GSSAPI.Failure {
            throw KerberosError(failure, phase: .protectingMessage)
        }
    }

    /// `unwrapForWinRM` with GSS failures turned into `KerberosError`.
    func unwrapMessage(header: Data, payload: Data) throws -> Data {
        do {
            return try unwrapForWinRM(header: header, payload: payload)
        } catch let failure as GSSAPI.Failure {
            throw KerberosError(failure, phase: .protectingMessage)
        }
    }
}
