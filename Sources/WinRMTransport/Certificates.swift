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
