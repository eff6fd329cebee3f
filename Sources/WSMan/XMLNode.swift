import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A small, namespace-aware XML element tree, enough for SOAP envelopes.
///
/// Elements are matched by namespace URI and local name, never by prefix: our requests say
/// `wsa:`/`wsman:`, Windows answers with `a:`/`w:` for the same namespaces.
/// A tree is built once by `parse` and not changed afterwards.
public final class XMLNode: @unchecked Sendable {
    /// Namespace URI of the element, nil when it is in no namespace.
    public let namespace: String?
    public let localName: String
    /// The prefix the document used (`s`, `a`, `wsman`, …), nil for the default namespace.
    public let prefix: String?
    /// Attribute values by local name (`mustUnderstand`, `Name`, `lang`).
    /// When two attributes share a local name, the unprefixed one wins.
    public internal(set) var attributes: [String: String]
    /// Attribute values by qualified name as written (`s:mustUnderstand`, `xml:lang`, `Name`).
    public internal(set) var qualifiedAttributes: [String: String]
    public internal(set) var children: [XMLNode]
    /// The element's own character data (CDATA included), not that of its children.
    public internal(set) var text: String

    public init(namespace: String?, localName: String, prefix: String? = nil,
                qualifiedAttributes: [String: String] = [:], children: [XMLNode] = [], text: String = "") {
        self.namespace = namespace
        self.localName = localName
        self.prefix = prefix
        self.qualifiedAttributes = qualifiedAttributes
        self.attributes = XMLNode.attributesByLocalName(qualifiedAttributes)
        self.children = children
        self.text = text
    }

    /// `prefix:localName` as it appeared in the document.
    public var qualifiedName: String {
        if let prefix = prefix, !prefix.isEmpty { return prefix + ":" + localName }
        return localName
    }

    /// The first direct child with this namespace and local name ("" = no namespace).
    public func child(_ namespace: String, _ localName: String) -> XMLNode? {
        for node in children where node.localName == localName && (node.namespace ?? "") == namespace {
            return node
        }
        return nil
    }

    /// All direct children with this namespace and local name, in document order.
    public func children(_ namespace: String, _ localName: String) -> [XMLNode] {
        children.filter { $0.localName == localName && ($0.namespace ?? "") == namespace }
    }

    /// The first element below this one (depth first, document order) with this name; not `self`.
    public func descendant(_ namespace: String, _ localName: String) -> XMLNode? {
        for node in children {
            if node.localName == localName && (node.namespace ?? "") == namespace { return node }
            if let found = node.descendant(namespace, localName) { return found }
        }
        return nil
    }

    /// Follows a path of direct children, e.g. `path((soap, "Header"), (addressing, "Action"))`.
    public func path(_ steps: (String, String)...) -> XMLNode? {
        var node: XMLNode? = self
        for (namespace, localName) in steps {
            node = node?.child(namespace, localName)
        }
        return node
    }

    /// Attribute value by local name.
    public func attribute(_ localName: String) -> String? {
        attributes[localName]
    }

    /// The element's text and that of all its descendants, in document order.
    public var allText: String {
        if children.isEmpty { return text }
        var result = text
        appendDescendantText(into: &result)
        return result
    }

    private func appendDescendantText(into result: inout String) {
        for node in children {
            result += node.text
            node.appendDescendantText(into: &result)
        }
    }

    /// The element's own text without leading and trailing whitespace.
    public var trimmedText: String {
        text.trimmingASCIIWhitespace
    }

    static func attributesByLocalName(_ qualified: [String: String]) -> [String: String] {
        if qualified.isEmpty { return [:] }
        var byLocal: [String: String] = [:]
        byLocal.reserveCapacity(qualified.count)
        for (name, value) in qualified {
            if let colon = name.lastIndex(of: ":") {
                let local = String(name[name.index(after: colon)...])
                if byLocal[local] == nil { byLocal[local] = value }
            }
        }
        // Unprefixed names win over prefixed ones with the same local name.
        for (name, value) in qualified where !name.contains(":") {
            byLocal[name] = value
        }
        return byLocal
    }
}

/// Why an XML document could not be read.
public struct XMLParseError: Error, CustomStringConvertible, Equatable, Sendable {
    public let line: Int
    public let column: Int
    public let message: String

    public var description: String {
        "malformed XML at line \(line), column \(column): \(message)"
    }
}

extension XMLNode {
    /// Parses a complete XML document and returns its root element.
    /// External entities are not resolved (XMLParser's default), so a hostile peer cannot make us read files.
    public static func parse(_ data: Data) throws -> XMLNode {
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.shouldReportNamespacePrefixes = false
        parser.shouldResolveExternalEntities = false
        let builder = TreeBuilder()
        parser.delegate = builder
        let ok = parser.parse()
        // swift-corelibs-foundation's parse() can return true after an error, and reports no
        // error at all for a document that simply stops: check both ourselves.
        if let first = builder.firstError {
            throw first
        }
        if !ok || parser.parserError != nil {
            throw XMLParseError(line: parser.lineNumber, column: parser.columnNumber,
                                message: describe(parser.parserError))
        }
        guard let root = builder.root else {
            throw XMLParseError(line: parser.lineNumber, column: parser.columnNumber, message: "document has no root element")
        }
        if let open = builder.openElement {
            throw XMLParseError(line: parser.lineNumber, column: parser.columnNumber,
                                message: "document ends inside <\(open.qualifiedName)> (truncated)")
        }
        return root
    }

    static func describe(_ error: Error?) -> String {
        guard let error = error as NSError? else { return "unknown parser error" }
        let names: [Int: String] = [
            4: "document is empty or does not start with markup",
            5: "document ended early or has content after the root element",
            9: "invalid character",
            23: "invalid entity reference",
            26: "undeclared entity",
            38: "attribute without a value",
            39: "attribute value not quoted",
            41: "unescaped '<' in attribute value",
            64: "extra content at the end of the document",
            68: "invalid name or '<' not followed by a name",
            73: "expected '>'",
            76: "end tag does not match the open tag",
            111: "invalid document encoding",
        ]
        return names[error.code].map { "\($0) (XMLParser error \(error.code))" } ?? "XMLParser error \(error.code)"
    }

    /// Parses a document given as a string (UTF-8).
    public static func parse(_ string: String) throws -> XMLNode {
        try parse(Data(string.utf8))
    }
}

/// SAX delegate that assembles the element tree.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    var root: XMLNode?
    var firstError: XMLParseError?
    private var stack: [XMLNode] = []

    /// The innermost element still open when parsing stopped.
    var openElement: XMLNode? { stack.last }

    override init() {
        stack.reserveCapacity(16)
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        var prefix: String?
        if let qualified = qualifiedName, let colon = qualified.firstIndex(of: ":") {
            prefix = String(qualified[..<colon])
        }
        let namespace = (namespaceURI?.isEmpty ?? true) ? nil : namespaceURI
        let node = XMLNode(namespace: namespace, localName: elementName, prefix: prefix,
                           qualifiedAttributes: attributes)
        if let parent = stack.last {
            parent.children.append(node)
        } else if root == nil {
            root = node
        }
        stack.append(node)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                qualifiedName: String?) {
        _ = stack.popLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        stack.last?.text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        stack.last?.text += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        if firstError == nil {
            firstError = XMLParseError(line: parser.lineNumber, column: parser.columnNumber,
                                       message: XMLNode.describe(parseError))
        }
    }

    func parser(_ parser: XMLParser, foundIgnorableWhitespace whitespaceString: String) {
        stack.last?.text += whitespaceString
    }
}
