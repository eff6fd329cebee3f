import Crypto
import Foundation

enum PEM {
    /// The DER bytes of the first PEM block (libcurl's CERTINFO gives whole PEM texts).
    static func decode(_ text: String) -> Data? {
        let body = text
            .components(separatedBy: .newlines)
            .filter { !$0.hasPrefix("-----") }
            .joined()
        return Data(base64Encoded: body, options: .ignoreUnknownCharacters)
    }
}

enum Fingerprint {
    static func sha256Hex(_ der: Data) -> String {
        SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined()
    }

    /// Accepts "AB:CD:…", "abcd…" or "AB CD …".
    static func normalise(_ text: String) -> String {
        text.lowercased().filter { $0.isHexDigit }
    }

    /// libcurl's CURLOPT_PINNEDPUBLICKEY form, `sha256//<base64>`, of the certificate's
    /// SubjectPublicKeyInfo; nil when the DER cannot be walked.
    static func publicKeyPin(certificateDER der: Data) -> String? {
        guard let spki = DER.subjectPublicKeyInfo(certificate: [UInt8](der)) else { return nil }
        return "sha256//" + Data(SHA256.hash(data: spki)).base64EncodedString()
    }

    static func colonSeparated(_ hex: String) -> String {
        var parts: [String] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) ?? hex.endIndex
            parts.append(hex[index..<next].uppercased())
            index = next
        }
        return parts.joined(separator: ":")
    }
}

/// Just enough DER to find a certificate's SubjectPublicKeyInfo (RFC 5280 §4.1).
enum DER {
    /// (tag, header length, content length) of the element at `offset`.
    static func element(_ bytes: [UInt8], at offset: Int) -> (tag: UInt8, headerLength: Int, length: Int)? {
        guard offset + 2 <= bytes.count else { return nil }
        let tag = bytes[offset]
        let first = Int(bytes[offset + 1])
        if first < 0x80 { return (tag, 2, first) }
        let count = first & 0x7F
        guard count > 0, count <= 4, offset + 2 + count <= bytes.count else { return nil }
        var length = 0
        for index in 0..<count { length = length << 8 | Int(bytes[offset + 2 + index]) }
        return (tag, 2 + count, length)
    }

    static func subjectPublicKeyInfo(certificate bytes: [UInt8]) -> [UInt8]? {
        // Certificate SEQUENCE → tbsCertificate SEQUENCE → fields.
        guard let certificate = element(bytes, at: 0), certificate.tag == 0x30,
              let tbs = element(bytes, at: certificate.headerLength), tbs.tag == 0x30 else { return nil }
        var offset = certificate.headerLength + tbs.headerLength
        let end = offset + tbs.length
        var field = 0
        // [0] version (optional), serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo.
        while offset < end, let item = element(bytes, at: offset) {
            if field == 0 && item.tag == 0xA0 {
                offset += item.headerLength + item.length
                continue
            }
            if field == 5 {
                guard item.tag == 0x30, offset + item.headerLength + item.length <= bytes.count else { return nil }
                return Array(bytes[offset..<(offset + item.headerLength + item.length)])
            }
            field += 1
            offset += item.headerLength + item.length
        }
        return nil
    }
}
