import Foundation

extension PowerShell {
    /// Turns PowerShell's serialized stderr (`#< CLIXML` followed by `<Objs …>`) into readable text:
    /// only `<S S="Error">` records are kept (progress and other records are dropped), `_xHHHH_`
    /// escapes are decoded (`_x000D__x000A_` is CRLF), CRLF becomes LF and trailing line breaks
    /// are removed. Text outside CLIXML blocks is kept; stderr without a CLIXML marker is
    /// returned unchanged.
    public static func cleanCLIXML(_ stderr: String) -> String {
        let marker = "#< CLIXML"
        guard stderr.contains(marker) else { return stderr }
        var result = ""
        var rest = Substring(stderr)
        while let markerRange = rest.range(of: marker) {
            result += rest[..<markerRange.lowerBound]
            rest = rest[markerRange.upperBound...]
            guard let open = rest.range(of: "<Objs"), let close = rest.range(of: "</Objs>") else {
                break // truncated: keep what follows as it is
            }
            result += errorText(fromObjs: rest[open.lowerBound..<close.upperBound])
            rest = rest[close.upperBound...]
            // Drop the line break that separates consecutive CLIXML blocks.
            while let first = rest.first, first.isNewline { rest = rest.dropFirst() }
        }
        result += rest
        result = result.replacingOccurrences(of: "\r\n", with: "\n")
        while let last = result.last, last.isNewline { result.removeLast() }
        return result
    }

    /// Concatenated text of the `S="Error"` string records of one `<Objs>` document.
    static func errorText(fromObjs xml: Substring) -> String {
        if let root = try? XMLNode.parse(Data(xml.utf8)) {
            var text = ""
            for node in root.children where node.localName == "S" && node.attribute("S")?.lowercased() == "error" {
                text += decodeCLIXMLEscapes(node.text)
            }
            return text
        }
        // Not well-formed (e.g. cut off): pick the records out textually.
        var text = ""
        var rest = xml
        while let open = rest.range(of: "<S S=\"Error\">"), let close = rest.range(of: "</S>", range: open.upperBound..<rest.endIndex) {
            text += decodeCLIXMLEscapes(decodeXMLEntities(String(rest[open.upperBound..<close.lowerBound])))
            rest = rest[close.upperBound...]
        }
        return text
    }

    /// Decodes PowerShell's `_xHHHH_` escapes (UTF-16 code units; surrogate pairs come as two).
    public static func decodeCLIXMLEscapes(_ text: String) -> String {
        guard text.contains("_x") else { return text }
        let units = Array(text.utf16)
        var out: [UInt16] = []
        out.reserveCapacity(units.count)
        var i = 0
        while i < units.count {
            if units[i] == 0x5F, i + 6 < units.count, units[i + 1] == 0x78, units[i + 6] == 0x5F,
               let value = hexValue(units[(i + 2)...(i + 5)]) {
                out.append(value)
                i += 7
            } else {
                out.append(units[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF16.self)
    }

    private static func hexValue(_ digits: ArraySlice<UInt16>) -> UInt16? {
        var value: UInt16 = 0
        for unit in digits {
            let digit: UInt16
            switch unit {
            case 0x30...0x39: digit = unit - 0x30
            case 0x41...0x46: digit = unit - 0x41 + 10
            case 0x61...0x66: digit = unit - 0x61 + 10
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }

    private static func decodeXMLEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
