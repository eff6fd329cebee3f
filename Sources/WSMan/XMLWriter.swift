/// Escaping of text and attribute values for XML 1.0 output.
public enum XMLEscape {
    /// Escapes character data: `&`, `<`, `>`; CR as `&#13;` so that a receiving parser's
    /// line-end normalisation does not turn it into LF. Characters XML 1.0 cannot carry at all
    /// (C0 controls other than TAB, LF, CR; U+FFFE, U+FFFF) become U+FFFD.
    public static func text(_ value: String) -> String {
        var out = ""
        appendText(value, to: &out)
        return out
    }

    /// Escapes an attribute value (double-quoted): as `text`, plus `"`, and TAB/LF/CR as character
    /// references because attribute-value normalisation would turn them into spaces.
    public static func attribute(_ value: String) -> String {
        var out = ""
        appendAttribute(value, to: &out)
        return out
    }

    public static func appendText(_ value: String, to out: inout String) {
        append(value, to: &out, inAttribute: false)
    }

    public static func appendAttribute(_ value: String, to out: inout String) {
        append(value, to: &out, inAttribute: true)
    }

    private static func needsEscaping(_ byte: UInt8, inAttribute: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\r"): return true
        case UInt8(ascii: "\""), UInt8(ascii: "\t"), UInt8(ascii: "\n"): return inAttribute
        case 0x00..<0x20: return true // other C0 controls are not allowed in XML 1.0
        case 0xEF: return true        // lead byte of U+FFFE/U+FFFF (checked precisely below)
        default: return false
        }
    }

    private static func append(_ value: String, to out: inout String, inAttribute: Bool) {
        // Fast path: most values (GUIDs, URIs, base64) need no escaping at all.
        var contiguous = value
        let plain = contiguous.withUTF8 { bytes in
            for byte in bytes where needsEscaping(byte, inAttribute: inAttribute) { return false }
            return true
        }
        if plain {
            out += value
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\r": out += "&#13;"
            case "\"" where inAttribute: out += "&quot;"
            case "\t" where inAttribute: out += "&#9;"
            case "\n" where inAttribute: out += "&#10;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            case "\u{FFFE}", "\u{FFFF}": out += "\u{FFFD}"
            default:
                if scalar.value < 0x20 {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
    }
}

/// Appends XML to a string. Names are written as given (the caller chooses prefixes and declares
/// namespaces); text and attribute values are escaped. No pretty-printing: WS-Management peers
/// do not need it and it would add whitespace text nodes.
public struct XMLWriter {
    public private(set) var output: String

    public init(capacity: Int = 2048) {
        output = ""
        output.reserveCapacity(capacity)
    }

    /// Appends markup verbatim (caller guarantees it is well-formed).
    public mutating func raw(_ markup: String) {
        output += markup
    }

    /// `<name a="v" …>`
    public mutating func open(_ name: String, _ attributes: [(String, String)] = []) {
        output += "<"
        output += name
        appendAttributes(attributes)
        output += ">"
    }

    /// `</name>`
    public mutating func close(_ name: String) {
        output += "</"
        output += name
        output += ">"
    }

    /// `<name a="v" />`
    public mutating func empty(_ name: String, _ attributes: [(String, String)] = []) {
        output += "<"
        output += name
        appendAttributes(attributes)
        output += " />"
    }

    /// `<name a="v">text</name>` (an empty text still gives an open/close pair).
    public mutating func element(_ name: String, _ attributes: [(String, String)] = [], text: String) {
        open(name, attributes)
        XMLEscape.appendText(text, to: &output)
        close(name)
    }

    /// Escaped character data.
    public mutating func text(_ value: String) {
        XMLEscape.appendText(value, to: &output)
    }

    private mutating func appendAttributes(_ attributes: [(String, String)]) {
        for (name, value) in attributes {
            output += " "
            output += name
            output += "=\""
            XMLEscape.appendAttribute(value, to: &output)
            output += "\""
        }
    }
}
