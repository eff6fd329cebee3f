import ASCIIText
import Foundation

/// MS-WSMV §2.2.9.1 HTTP message encryption framing (`multipart/encrypted`).
///
/// Body layout (tabs and CRLFs are mandatory; `L` is the security header length, uint32 little-endian):
///
///     --Encrypted Boundary\r\n
///     \tContent-Type: <protocol>\r\n
///     \tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=<plaintext length>\r\n
///     --Encrypted Boundary\r\n
///     \tContent-Type: application/octet-stream\r\n
///     <L><security header><encrypted payload>--Encrypted Boundary--\r\n
public enum WinRMEncryption {
    public static let spnegoProtocol = "application/HTTP-SPNEGO-session-encrypted"
    public static let kerberosProtocol = "application/HTTP-Kerberos-session-encrypted"
    public static let boundary = "Encrypted Boundary"

    /// `multipart/encrypted;protocol="<protocol>";boundary="Encrypted Boundary"` for the HTTP Content-Type header.
    public static func contentType(protocol: String) -> String {
        "multipart/encrypted;protocol=\"\(`protocol`)\";boundary=\"\(boundary)\""
    }

    /// True when a response Content-Type announces an encrypted body (a server may answer in plain SOAP).
    public static func isEncrypted(contentType: String?) -> Bool {
        guard let contentType else { return false }
        // On bytes: this runs for every response, and Foundation's trimming is slow on Linux.
        var media = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }.drop { $0 == 0x20 || $0 == 0x09 }
        while let last = media.last, last == 0x20 || last == 0x09 { media = media.dropLast() }
        let lowered = media.map { $0 | 0x20 }
        return lowered.elementsEqual("multipart/encrypted".utf8) || lowered.elementsEqual("multipart/x-multi-encrypted".utf8)
    }

    /// Seals `plaintext` (the SOAP envelope bytes) and frames it. The caller sets Content-Type to
    /// `contentType(protocol:)` and Content-Length to the returned body's length.
    public static func encode(_ plaintext: Data, protocol: String, sealer: MessageSealer, charset: String = "UTF-8") throws -> Data {
        let (header, payload) = try sealer.wrap(plaintext)
        let preamble = "--\(boundary)\r\n"
            + "\tContent-Type: \(`protocol`)\r\n"
            + "\tOriginalContent: type=application/soap+xml;charset=\(charset);Length=\(plaintext.count)\r\n"
            + "--\(boundary)\r\n"
            + "\tContent-Type: application/octet-stream\r\n"
        let trailer = "--\(boundary)--\r\n"
        var body = Data(capacity: preamble.utf8.count + 4 + header.count + payload.count + trailer.utf8.count)
        body.append(contentsOf: Array(preamble.utf8))
        var length = ByteWriter(capacity: 4)
        length.append(UInt32(header.count))
        body.append(contentsOf: length.bytes)
        body.append(header)
        body.append(payload)
        body.append(contentsOf: Array(trailer.utf8))
        return body
    }

    /// Unframes and unseals a response body. Handles several encrypted parts (concatenated in order) and
    /// tolerates Exchange's `-- Encrypted Boundary` (space after the dashes). Each part's decrypted length must
    /// equal its `Length=`; a mismatch is reported as `WinRMEncryptionError.integrity`.
    /// - Parameter contentType: the response Content-Type; nil assumes the standard boundary. A non-multipart
    ///   type throws `.notEncrypted` so the caller can treat the body as plain SOAP.
    public static func decode(_ body: Data, contentType: String?, sealer: MessageSealer) throws -> Data {
        let boundaryName: String
        if let contentType {
            guard isEncrypted(contentType: contentType) else { throw WinRMEncryptionError.notEncrypted(contentType: contentType) }
            boundaryName = parameter("boundary", in: contentType) ?? boundary
        } else {
            boundaryName = boundary
        }
        let bytes = [UInt8](body)
        let scanner = BoundaryScanner(bytes: bytes, boundary: Array(boundaryName.utf8))

        guard var marker = scanner.next(from: 0) else {
            throw WinRMEncryptionError.missingBoundary("body has no \"--\(boundaryName)\" line")
        }
        guard !marker.isClosing else {
            throw WinRMEncryptionError.missingBoundary("body starts with the closing boundary and holds no encrypted part")
        }
        var plaintext = Data()
        var partIndex = 0
        while true {
            // Part 1: the OriginalContent description, up to the next boundary.
            let headerStart = marker.end
            guard let dataMarker = scanner.next(from: headerStart), !dataMarker.isClosing else {
                throw WinRMEncryptionError.missingBoundary("part \(partIndex): no boundary before the application/octet-stream part")
            }
            guard let declaredLength = originalLength(in: bytes[headerStart..<dataMarker.start]) else {
                let description = String(decoding: bytes[headerStart..<dataMarker.start], as: UTF8.self)
                throw WinRMEncryptionError.missingLength(
                    "part \(partIndex): OriginalContent has no Length=<n> (got \(description.trimmingCharacters(in: .whitespacesAndNewlines).debugDescription))")
            }

            // Part 2: "\tContent-Type: application/octet-stream\r\n" then <L><header><payload>.
            guard let lineEnd = scanner.indexAfterLine(from: dataMarker.end) else {
                throw WinRMEncryptionError.badLengthPrefix("part \(partIndex): octet-stream Content-Type line is not terminated by CRLF")
            }
            guard lineEnd + 4 <= bytes.count, let headerLength = ByteReader(bytes).uint32(at: lineEnd) else {
                throw WinRMEncryptionError.badLengthPrefix("part \(partIndex): body ends before the 4-byte security header length")
            }
            let securityHeaderStart = lineEnd + 4
            guard Int(headerLength) <= bytes.count - securityHeaderStart else {
                throw WinRMEncryptionError.badLengthPrefix(
                    "part \(partIndex): security header length \(headerLength) exceeds the \(bytes.count - securityHeaderStart) bytes left")
            }
            let payloadStart = securityHeaderStart + Int(headerLength)
            // A sealed payload is mostly as long as its plaintext (RC4 keeps lengths), so the boundary
            // is looked for there first; the ciphertext is scanned for it only when it is not there.
            guard let endMarker = scanner.marker(at: payloadStart + declaredLength) ?? scanner.next(from: payloadStart) else {
                throw WinRMEncryptionError.missingBoundary("part \(partIndex): no boundary after the encrypted payload")
            }
            let securityHeader = Data(bytes[securityHeaderStart..<payloadStart])
            let payload = Data(bytes[payloadStart..<endMarker.start])
            let unwrapped = try sealer.unwrap(header: securityHeader, payload: payload)
            guard unwrapped.count == declaredLength else {
                throw WinRMEncryptionError.integrity(
                    "part \(partIndex): decrypted \(unwrapped.count) bytes but OriginalContent says Length=\(declaredLength)")
            }
            plaintext.append(unwrapped)
            if endMarker.isClosing { return plaintext }
            marker = endMarker
            partIndex += 1
        }
    }

    // MARK: - Parsing helpers

    static func parameter(_ name: String, in headerValue: String) -> String? {
        // The common case, our own boundary, without Foundation's slow string scanning.
        if name == "boundary", headerValue.hasSuffix("boundary=\"\(boundary)\"") { return boundary }
        for piece in headerValue.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingASCIIWhitespace.equalsIgnoringASCIICase(name) else { continue }
            var value = pair[1].trimmingASCIIWhitespace
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                value = String(value.dropFirst().dropLast())
            }
            return value
        }
        return nil
    }

    static func originalLength(in description: String) -> Int? {
        originalLength(in: Array(description.utf8)[...])
    }

    /// `Length=<digits>` (any case) in the OriginalContent line, read on bytes: this runs for every
    /// sealed response, and Foundation's case-insensitive search is slow on Linux.
    static func originalLength(in bytes: ArraySlice<UInt8>) -> Int? {
        let key = Array("length=".utf8)
        var index = bytes.startIndex
        while index + key.count <= bytes.endIndex {
            var matches = true
            for offset in 0..<key.count where bytes[index + offset] | 0x20 != key[offset] | 0x20 {
                matches = false
                break
            }
            if matches {
                var cursor = index + key.count
                var value = 0
                var digits = 0
                while cursor < bytes.endIndex, bytes[cursor] >= 0x30, bytes[cursor] <= 0x39, digits < 12 {
                    value = value * 10 + Int(bytes[cursor] - 0x30)
                    cursor += 1
                    digits += 1
                }
                return digits > 0 ? value : nil
            }
            index += 1
        }
        return nil
    }
}

/// Finds `--<optional spaces/tabs><boundary>` markers; a marker followed by `--` closes the body.
struct BoundaryScanner {
    struct Marker {
        var start: Int
        /// First byte after the marker line (after CRLF, or after `--`+CRLF for the closing marker when present).
        var end: Int
        var isClosing: Bool
    }

    let bytes: [UInt8]
    let boundary: [UInt8]

    func next(from start: Int) -> Marker? {
        var index = start
        while index + 1 < bytes.count {
            if let marker = marker(at: index) { return marker }
            index += 1
        }
        return nil
    }

    /// The marker starting exactly at `index`, if one does.
    func marker(at index: Int) -> Marker? {
        let dash = UInt8(ascii: "-")
        guard index >= 0, index + 1 < bytes.count, bytes[index] == dash, bytes[index + 1] == dash else { return nil }
        var cursor = index + 2
        while cursor < bytes.count, bytes[cursor] == UInt8(ascii: " ") || bytes[cursor] == UInt8(ascii: "\t") { cursor += 1 }
        guard cursor + boundary.count <= bytes.count, bytes[cursor..<(cursor + boundary.count)].elementsEqual(boundary) else {
            return nil
        }
        cursor += boundary.count
        var closing = false
        if cursor + 1 < bytes.count, bytes[cursor] == dash, bytes[cursor + 1] == dash {
            closing = true
            cursor += 2
        }
        if cursor + 1 < bytes.count, bytes[cursor] == UInt8(ascii: "\r"), bytes[cursor + 1] == UInt8(ascii: "\n") {
            cursor += 2
        } else if !closing {
            return nil  // "--Encrypted Boundary" not at a line end: not a delimiter
        }
        return Marker(start: index, end: cursor, isClosing: closing)
    }

    /// Index just after the next CRLF at or after `start`.
    func indexAfterLine(from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "\r"), bytes[index + 1] == UInt8(ascii: "\n") { return index + 2 }
            index += 1
        }
        return nil
    }
}

public enum WinRMEncryptionError: Error, Equatable, Sendable {
    /// The response is not `multipart/encrypted` (e.g. a plain SOAP fault); the body was not touched.
    case notEncrypted(contentType: String)
    /// A `--Encrypted Boundary` delimiter is missing where the MS-WSMV layout needs one.
    case missingBoundary(String)
    /// The OriginalContent line lacks `Length=`.
    case missingLength(String)
    /// The 4-byte little-endian security header length is missing or points past the body.
    case badLengthPrefix(String)
    /// The decrypted length differs from the declared `Length=`: tampering or a desynchronized context.
    case integrity(String)
}

extension WinRMEncryptionError: CustomStringConvertible, LocalizedError {
    public var description: String {
        switch self {
        case let .notEncrypted(contentType):
            return "expected a multipart/encrypted WinRM body but Content-Type is \(contentType.debugDescription)"
        case let .missingBoundary(detail):
            return "encrypted WinRM body: missing MIME boundary: \(detail)"
        case let .missingLength(detail):
            return "encrypted WinRM body: \(detail)"
        case let .badLengthPrefix(detail):
            return "encrypted WinRM body: bad security header length prefix: \(detail)"
        case let .integrity(detail):
            return "encrypted WinRM body failed the length check (tampered or desynchronized context): \(detail)"
        }
    }

    public var errorDescription: String? { description }
}
