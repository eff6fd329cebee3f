import Foundation

/// What must never be readable on a hop that a proxy sees: SOAP, host Basic credentials, passwords,
/// the commands and their output. Checked over the raw bytes of a hop (a TLS hop passes trivially,
/// which is the point; an http hop passes only if every body was sealed).
struct PlaintextAudit {
    struct Pattern {
        var label: String
        var bytes: Data
        /// Compared after ASCII lower-casing of both sides.
        var caseInsensitive: Bool
    }

    var patterns: [Pattern] = [
        Pattern(label: "a SOAP envelope (<s:Envelope)", bytes: Data("<s:envelope".utf8), caseInsensitive: true),
        Pattern(label: "a SOAP body (<s:Body)", bytes: Data("<s:body".utf8), caseInsensitive: true),
        Pattern(label: "a WinRS shell URI", bytes: Data("schemas.microsoft.com/wbem/wsman/1/windows/shell".utf8), caseInsensitive: true),
        // "\nAuthorization: Basic" but not "Proxy-Authorization: Basic" (the proxy's own credentials).
        Pattern(label: "Authorization: Basic to the host", bytes: Data("\nauthorization: basic".utf8), caseInsensitive: true),
    ]

    /// Adds a secret in the forms it could leak in: UTF-8, UTF-16LE (Windows), and for host
    /// passwords base64 of `user:password` (a Basic header).
    mutating func forbid(password: String, label: String, users: [String] = []) {
        patterns.append(Pattern(label: "\(label) in plain text", bytes: Data(password.utf8), caseInsensitive: false))
        patterns.append(Pattern(label: "\(label) in UTF-16LE", bytes: password.data(using: .utf16LittleEndian)!, caseInsensitive: false))
        for user in users {
            let basic = Data("\(user):\(password)".utf8).base64EncodedString()
            patterns.append(Pattern(label: "\(label) as a Basic header", bytes: Data(basic.utf8), caseInsensitive: false))
        }
    }

    /// Adds a marker the test put in a command (and its output).
    mutating func forbid(marker: String) {
        patterns.append(Pattern(label: "the command marker \(marker)", bytes: Data(marker.utf8), caseInsensitive: false))
        patterns.append(Pattern(label: "the command marker \(marker) in UTF-16LE", bytes: marker.data(using: .utf16LittleEndian)!, caseInsensitive: false))
    }

    /// The labels of every forbidden pattern found in `data`.
    func findings(in data: Data) -> [String] {
        let lowered = Data(data.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 })
        return patterns.filter { pattern in
            let haystack = pattern.caseInsensitive ? lowered : data
            let needle = pattern.caseInsensitive ? Data(pattern.bytes.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }) : pattern.bytes
            return haystack.range(of: needle) != nil
        }.map(\.label)
    }
}

extension Data {
    /// Whether the bytes contain `text` (UTF-8).
    func contains(_ text: String) -> Bool { range(of: Data(text.utf8)) != nil }
}
