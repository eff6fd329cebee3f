import Crypto
import Foundation

/// TLS channel bindings (RFC 5929 "tls-server-end-point") for Extended Protection for Authentication.
///
/// The application data is `"tls-server-end-point:" ‖ H(server certificate DER)`. NTLM carries
/// MD5(gss_channel_bindings_struct with that application data) in MsvAvChannelBindings;
/// Kerberos carries the same struct hash in its authenticator checksum.
public enum ChannelBindings {
    /// Hash for the certificate digest, chosen by the RFC 5929 §4.1 rule from the certificate's signature
    /// algorithm: MD5 or SHA-1 → SHA-256; otherwise the signature's own hash.
    public enum CertificateHash: String, Sendable, CaseIterable {
        case sha256
        case sha384
        case sha512

        func digest(_ data: Data) -> Data {
            switch self {
            case .sha256: return Data(SHA256.hash(data: data))
            case .sha384: return Data(SHA384.hash(data: data))
            case .sha512: return Data(SHA512.hash(data: data))
            }
        }
    }

    public static let tlsServerEndPointPrefix = "tls-server-end-point:"

    /// Application data for the gss_channel_bindings_struct: `tls-server-end-point:` ‖ hash(certificate DER).
    public static func tlsServerEndPoint(certificateDER: Data, hash: CertificateHash) -> Data {
        Data(tlsServerEndPointPrefix.utf8) + hash.digest(certificateDER)
    }

    /// Same, with the hash derived from the certificate itself (`certificateHash(forCertificateDER:)`).
    public static func tlsServerEndPoint(certificateDER: Data) -> Data {
        tlsServerEndPoint(certificateDER: certificateDER, hash: certificateHash(forCertificateDER: certificateDER))
    }

    /// Serialized gss_channel_bindings_struct (RFC 2744 §3.11 as laid out by SSPI/MIT):
    /// initiator addrtype(4) ‖ length(4) ‖ address ‖ acceptor addrtype(4) ‖ length(4) ‖ address ‖
    /// application data length(4) ‖ data, all little-endian. TLS bindings leave both addresses empty.
    public static func gssChannelBindingsStruct(applicationData: Data) -> Data {
        var writer = ByteWriter(capacity: 20 + applicationData.count)
        writer.appendZeros(16)
        writer.append(UInt32(applicationData.count))
        writer.append(contentsOf: applicationData)
        return writer.data
    }

    /// Picks the certificate hash by RFC 5929 §4.1 from the certificate's outer signatureAlgorithm.
    /// Unknown, hash-less (Ed25519) or unparsable certificates fall back to SHA-256, which is what Windows
    /// (HTTP.sys) uses for every common certificate. SHA-224 signatures also map to SHA-256 (swift-crypto has
    /// no SHA-224); such certificates are practically nonexistent.
    public static func certificateHash(forCertificateDER der: Data) -> CertificateHash {
        guard let algorithm = signatureAlgorithm(ofCertificateDER: der) else { return .sha256 }
        switch algorithm.oid {
        case "1.2.840.113549.1.1.12", "1.2.840.10045.4.3.3": return .sha384 // sha384WithRSA, ecdsa-with-SHA384
        case "1.2.840.113549.1.1.13", "1.2.840.10045.4.3.4": return .sha512 // sha512WithRSA, ecdsa-with-SHA512
        case "1.2.840.113549.1.1.10": // RSASSA-PSS: the hash is in the parameters ([0] hashAlgorithm, default SHA-1)
            switch algorithm.pssHashOID {
            case "2.16.840.1.101.3.4.2.2": return .sha384
            case "2.16.840.1.101.3.4.2.3": return .sha512
            default: return .sha256
            }
        default: return .sha256 // SHA-256 signatures, MD5/SHA-1 signatures (upgraded by the rule), unknown
        }
    }

    // MARK: Minimal DER walk: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }

    struct SignatureAlgorithm {
        var oid: String
        var pssHashOID: String?
    }

    static func signatureAlgorithm(ofCertificateDER der: Data) -> SignatureAlgorithm? {
        let bytes = [UInt8](der)
        guard let certificate = DER.element(in: bytes, at: 0), certificate.tag == 0x30,
              let tbs = DER.element(in: bytes, at: certificate.contentStart),
              let algorithm = DER.element(in: bytes, at: tbs.end), algorithm.tag == 0x30,
              let oidElement = DER.element(in: bytes, at: algorithm.contentStart), oidElement.tag == 0x06
        else { return nil }
        var result = SignatureAlgorithm(oid: DER.oidString(Array(bytes[oidElement.contentStart..<oidElement.end])))
        if result.oid == "1.2.840.113549.1.1.10",
           oidElement.end < algorithm.end,
           let parameters = DER.element(in: bytes, at: oidElement.end), parameters.tag == 0x30,
           let first = DER.element(in: bytes, at: parameters.contentStart), first.tag == 0xA0,
           let hashAlgorithm = DER.element(in: bytes, at: first.contentStart), hashAlgorithm.tag == 0x30,
           let hashOID = DER.element(in: bytes, at: hashAlgorithm.contentStart), hashOID.tag == 0x06 {
            result.pssHashOID = DER.oidString(Array(bytes[hashOID.contentStart..<hashOID.end]))
        }
        return result
    }
}

/// Just enough DER to find an AlgorithmIdentifier: tag, definite length, content bounds.
enum DER {
    struct Element {
        var tag: UInt8
        var contentStart: Int
        var end: Int
    }

    static func element(in bytes: [UInt8], at offset: Int) -> Element? {
        guard offset + 2 <= bytes.count else { return nil }
        let tag = bytes[offset]
        var cursor = offset + 1
        let first = bytes[cursor]
        cursor += 1
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else {
            let lengthBytes = Int(first & 0x7F)
            guard lengthBytes >= 1, lengthBytes <= 4, cursor + lengthBytes <= bytes.count else { return nil }
            for _ in 0..<lengthBytes {
                length = length << 8 | Int(bytes[cursor])
                cursor += 1
            }
        }
        guard cursor + length <= bytes.count else { return nil }
        return Element(tag: tag, contentStart: cursor, end: cursor + length)
    }

    static func oidString(_ content: [UInt8]) -> String {
        guard let first = content.first else { return "" }
        var components: [UInt64] = [UInt64(min(first / 40, 2)), UInt64(first) - UInt64(min(first / 40, 2)) * 40]
        var value: UInt64 = 0
        for byte in content.dropFirst() {
            value = value << 7 | UInt64(byte & 0x7F)
            if byte & 0x80 == 0 {
                components.append(value)
                value = 0
            }
        }
        return components.map(String.init).joined(separator: ".")
    }
}
