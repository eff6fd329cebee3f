import ASCIIText
import Foundation

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
    /// The element's attributes in document order (namespace declarations are not attributes).
    public let attributeList: [Attribute]
    public internal(set) var children: [XMLNode]
    /// The element's own character data (CDATA included), not that of its children.
    public internal(set) var text: String

    public struct Attribute: Sendable, Equatable {
        /// The prefix as written (`s`, `xml`), nil for an unprefixed attribute.
        public let prefix: String?
        public let localName: String
        public let value: String

        public var qualifiedName: String { prefix.map { $0 + ":" + localName } ?? localName }
    }

    init(namespace: String?, localName: String, prefix: String?, attributeList: [Attribute]) {
        self.namespace = namespace
        self.localName = localName
        self.prefix = prefix
        self.attributeList = attributeList
        self.children = []
        self.text = ""
    }

    /// Attribute values by local name (`mustUnderstand`, `Name`, `lang`); an unprefixed attribute wins
    /// over a prefixed one with the same local name.
    public var attributes: [String: String] {
        var byLocal: [String: String] = [:]
        for attribute in attributeList where byLocal[attribute.localName] == nil || attribute.prefix == nil {
            byLocal[attribute.localName] = attribute.value
        }
        return byLocal
    }

    /// Attribute values by qualified name as written (`s:mustUnderstand`, `xml:lang`, `Name`).
    public var qualifiedAttributes: [String: String] {
        Dictionary(attributeList.map { ($0.qualifiedName, $0.value) }, uniquingKeysWith: { first, _ in first })
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
        var prefixed: String?
        for attribute in attributeList where attribute.localName == localName {
            if attribute.prefix == nil { return attribute.value }
            if prefixed == nil { prefixed = attribute.value }
        }
        return prefixed
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
    /// Parses a complete XML document and returns its root element (see `XMLReader` for what is refused).
    public static func parse(_ data: Data) throws -> XMLNode {
        try XMLReader.parse(data)
    }

    /// Parses a document given as a string (UTF-8).
    public static func parse(_ string: String) throws -> XMLNode {
        try parse(Data(string.utf8))
    }
}
