import ASCIIText
import Foundation

/// Checks HTTP responses of a WinRM endpoint and reads their SOAP headers.
public enum WSManResponse {
    /// Turns an HTTP response into its SOAP envelope, or throws what went wrong:
    /// - `.fault` for an `s:Fault` (HTTP 500 from Windows, usually),
    /// - `.relatesToMismatch` when `relatesTo` is given and the envelope answers another message,
    /// - `.notSOAP` for anything that is not a SOAP envelope (a proxy's HTML error page,
    ///   an empty 500, plain text, an undecrypted `multipart/encrypted` body), with a summary that
    ///   names what came back and `origin` (the host:port that answered, proxy or target).
    public static func envelope(status: Int, contentType: String?, body: Data, from origin: String,
                                relatesTo expected: String? = nil) throws -> XMLNode {
        let root: XMLNode
        switch classify(contentType: contentType, body: body) {
        case .envelope(let node):
            root = node
        case .other(let summary):
            let from = origin.isEmpty ? "" : "from \(origin): "
            throw WSManError.notSOAP(status: status, contentType: contentType, summary: from + summary)
        }
        try checkEnvelope(root, relatesTo: expected)
        return root
    }

    /// Parses a SOAP envelope without HTTP context (tests, simulator). Non-SOAP bodies throw
    /// `.unexpectedResponse`; faults and RelatesTo are checked as in the HTTP variant.
    public static func envelope(_ data: Data, relatesTo expected: String? = nil) throws -> XMLNode {
        let root = try document(data)
        try checkEnvelope(root, relatesTo: expected)
        return root
    }

    /// The SOAP envelope in `data`, without fault or RelatesTo checks.
    static func document(_ data: Data) throws -> XMLNode {
        switch classify(contentType: nil, body: data) {
        case .envelope(let root):
            return root
        case .other(let summary):
            throw WSManError.unexpectedResponse("not a SOAP envelope: \(summary)")
        }
    }

    /// Throws `.fault` / `.relatesToMismatch` for a parsed envelope.
    /// A fault without `a:RelatesTo` (the server could not read our MessageID) is reported as the fault.
    public static func checkEnvelope(_ envelope: XMLNode, relatesTo expected: String?) throws {
        if let fault = WSManFault.parse(envelope: envelope) {
            if let expected = expected, let got = fault.relatesTo, !sameMessageID(got, expected) {
                throw WSManError.relatesToMismatch(expected: expected, got: got)
            }
            throw WSManError.fault(fault)
        }
        guard envelope.child(WSManNamespace.soap, "Body") != nil else {
            throw WSManError.unexpectedResponse("SOAP envelope without s:Body")
        }
        if let expected = expected {
            let got = relatesTo(of: envelope)
            guard let got = got, sameMessageID(got, expected) else {
                throw WSManError.relatesToMismatch(expected: expected, got: got)
            }
        }
    }

    /// `s:Header/a:Action`.
    public static func action(of envelope: XMLNode) -> String? {
        header(envelope, WSManNamespace.addressing, "Action")
    }

    /// `s:Header/a:RelatesTo`.
    public static func relatesTo(of envelope: XMLNode) -> String? {
        header(envelope, WSManNamespace.addressing, "RelatesTo")
    }

    /// `s:Header/a:MessageID`.
    public static func messageID(of envelope: XMLNode) -> String? {
        header(envelope, WSManNamespace.addressing, "MessageID")
    }

    /// `s:Body`.
    public static func body(of envelope: XMLNode) -> XMLNode? {
        envelope.child(WSManNamespace.soap, "Body")
    }

    static func header(_ envelope: XMLNode, _ namespace: String, _ localName: String) -> String? {
        envelope.child(WSManNamespace.soap, "Header")?.child(namespace, localName)?.trimmedText
    }

    /// Message ids are `uuid:` + GUID; GUID case is not significant.
    static func sameMessageID(_ a: String, _ b: String) -> Bool {
        a == b || a.lowercased() == b.lowercased()
    }

    // MARK: - Classifying bodies

    enum Classification {
        case envelope(XMLNode)
        case other(String)
    }

    static func classify(contentType: String?, body: Data) -> Classification {
        let mime = contentType.map(mediaType) ?? ""
        let start = leadingText(body, limit: 512)
        if start.isEmpty {
            return .other(mime.isEmpty ? "empty body" : "empty \(mime) body")
        }
        if mime.hasPrefix("multipart/encrypted") || mime.hasPrefix("multipart/x-multi-encrypted") {
            return .other("\(mime) body that was not decrypted (message encryption context missing or lost)")
        }
        let looksLikeHTML = start.hasPrefixIgnoringASCIICase("<!doctype html") || start.hasPrefixIgnoringASCIICase("<html")
            || (start.hasPrefixIgnoringASCIICase("<?xml")
                && (start.containsIgnoringASCIICase("<!doctype html") || start.containsIgnoringASCIICase("<html")))
        if mime.containsIgnoringASCIICase("html") || looksLikeHTML {
            return .other(describeHTML(body, mime: mime.isEmpty ? "text/html" : mime))
        }
        if start.hasPrefix("<") {
            do {
                let root = try XMLNode.parse(body)
                if root.namespace == WSManNamespace.soap && root.localName == "Envelope" {
                    return .envelope(root)
                }
                let namespace = root.namespace.map { " (\($0))" } ?? ""
                return .other("XML document <\(root.qualifiedName)>\(namespace) instead of a SOAP envelope")
            } catch let error as XMLParseError {
                return .other("malformed XML \(mime.isEmpty ? "" : "(\(mime)) ")body: \(error.message) "
                    + "at line \(error.line): \(quoteSnippet(body))")
            } catch {
                return .other("unreadable XML body: \(error)")
            }
        }
        let kind = mime.isEmpty ? "non-XML" : mime
        return .other("\(kind) body \(quoteSnippet(body))")
    }

    /// `text/html; charset=utf-8` → `text/html`.
    static func mediaType(_ contentType: String) -> String {
        let base = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? contentType
        return base.trimmingASCIIWhitespace.lowercased()
    }

    /// The first bytes of the body as text, without a BOM and leading (XML, so ASCII) whitespace.
    static func leadingText(_ body: Data, limit: Int) -> String {
        var bytes = body.prefix(limit)[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        return String(decoding: bytes.drop(while: { $0 == 0x20 || (0x09...0x0D).contains($0) }), as: UTF8.self)
    }

    static func describeHTML(_ body: Data, mime: String) -> String {
        let html = String(decoding: body.prefix(65_536), as: UTF8.self)
        if let title = htmlTitle(html), !title.isEmpty {
            return "\(mime) page \"\(title)\""
        }
        if let heading = htmlElementText(html, tag: "h1"), !heading.isEmpty {
            return "\(mime) page \"\(heading)\""
        }
        return "\(mime) page without a title"
    }

    /// Text of the first `<title>` element, entities decoded, whitespace collapsed, at most 160 characters.
    public static func htmlTitle(_ html: String) -> String? {
        htmlElementText(html, tag: "title")
    }

    static func htmlElementText(_ html: String, tag: String) -> String? {
        guard let open = html.range(of: "<\(tag)", options: .caseInsensitive),
              let openEnd = html[open.upperBound...].firstIndex(of: ">"),
              let close = html.range(of: "</\(tag)", options: .caseInsensitive,
                                     range: html.index(after: openEnd)..<html.endIndex)
        else { return nil }
        var text = String(html[html.index(after: openEnd)..<close.lowerBound])
        text = text.replacingOccurrences(of: "<[^>]*>", with: "", options: .regularExpression)
        text = decodeHTMLEntities(text)
        text = text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        if text.count > 160 { text = String(text.prefix(157)) + "..." }
        return text
    }

    static func decodeHTMLEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = text
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"),
                                    ("&apos;", "'"), ("&nbsp;", " "), ("&amp;", "&")] {
            result = result.replacingOccurrences(of: entity, with: character)
        }
        return result
    }

    /// `"first 100 characters…"` of a body, control characters shown as spaces.
    static func quoteSnippet(_ body: Data) -> String {
        var text = leadingText(body, limit: 400)
        text = String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 })
        text = text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        if text.count > 100 { text = String(text.prefix(100)) + "…" }
        return "\"\(text)\""
    }
}
