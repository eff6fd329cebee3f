// Terminal column widths, computed here rather than with libc's wcwidth: wcwidth depends on the process
// locale (it answers -1 for every non-ASCII character under "C"), and golden tests must not.
// East Asian Wide and Fullwidth characters and emoji presentation take 2 columns, combining marks and
// zero-width characters 0, everything else 1.

public enum DisplayWidth {
    /// Columns one grapheme cluster takes.
    @inline(__always)
    public static func of(_ character: Character) -> Int {
        if let ascii = character.asciiValue { return ascii < 0x20 || ascii == 0x7F ? 0 : 1 }
        var width = 0
        for scalar in character.unicodeScalars {
            let w = of(scalar)
            if w > width { width = w }
        }
        // A cluster like "e\u{301}" is one column; a lone combining mark still takes one to stay visible.
        if width == 0 { return character.unicodeScalars.first.map(isZeroWidth) == true ? 0 : 1 }
        // Emoji presentation selector makes a text-default symbol wide.
        if character.unicodeScalars.contains(where: { $0.value == 0xFE0F }) { return 2 }
        return width
    }

    /// Columns a whole string takes.
    public static func of(_ text: String) -> Int {
        var allASCII = true
        for byte in text.utf8 where byte >= 0x80 || byte < 0x20 {
            allASCII = false
            break
        }
        if allASCII { return text.utf8.count }
        var total = 0
        for character in text { total += of(character) }
        return total
    }

    public static func of(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x20 || (v >= 0x7F && v < 0xA0) { return 0 }
        if v < 0x300 { return 1 }
        if isZeroWidth(scalar) { return 0 }
        return isWide(v) ? 2 : 1
    }

    static func isZeroWidth(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        switch v {
        case 0x0300...0x036F, 0x0483...0x0489, 0x0591...0x05BD, 0x0610...0x061A, 0x064B...0x065F,
             0x0E31, 0x0E34...0x0E3A, 0x0E47...0x0E4E, 0x1AB0...0x1AFF, 0x1DC0...0x1DFF,
             0x200B...0x200F, 0x2028...0x202E, 0x2060...0x2064, 0x20D0...0x20FF,
             0xFE00...0xFE0F, 0xFE20...0xFE2F, 0xFEFF, 0xE0100...0xE01EF:
            return true
        default:
            return scalar.properties.generalCategory == .nonspacingMark
                || scalar.properties.generalCategory == .enclosingMark
        }
    }

    /// East Asian Wide (W) and Fullwidth (F) ranges, plus emoji blocks terminals draw double width.
    static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0, 0x23F3,
             0x25FD...0x25FE, 0x2614...0x2615, 0x2648...0x2653, 0x267F, 0x2693, 0x26A1, 0x26AA...0x26AB,
             0x26BD...0x26BE, 0x26C4...0x26C5, 0x26CE, 0x26D4, 0x26EA, 0x26F2...0x26F3, 0x26F5, 0x26FA,
             0x26FD, 0x2705, 0x270A...0x270B, 0x2728, 0x274C, 0x274E, 0x2753...0x2755, 0x2757,
             0x2795...0x2797, 0x27B0, 0x27BF, 0x2B1B...0x2B1C, 0x2B50, 0x2B55,
             0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
             0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x16FE0...0x16FE4, 0x17000...0x18CFF, 0x1B000...0x1B2FF,
             0x1F004, 0x1F0CF, 0x1F18E, 0x1F191...0x1F19A, 0x1F200...0x1F251, 0x1F300...0x1F320,
             0x1F32D...0x1F335, 0x1F337...0x1F37C, 0x1F37E...0x1F393, 0x1F3A0...0x1F3CA, 0x1F3CF...0x1F3D3,
             0x1F3E0...0x1F3F0, 0x1F3F4, 0x1F3F8...0x1F43E, 0x1F440, 0x1F442...0x1F4FC, 0x1F4FF...0x1F53D,
             0x1F54B...0x1F54E, 0x1F550...0x1F567, 0x1F57A, 0x1F595...0x1F596, 0x1F5A4, 0x1F5FB...0x1F64F,
             0x1F680...0x1F6C5, 0x1F6CC, 0x1F6D0...0x1F6D2, 0x1F6D5...0x1F6D7, 0x1F6EB...0x1F6EC,
             0x1F6F4...0x1F6FC, 0x1F7E0...0x1F7EB, 0x1F90C...0x1F93A, 0x1F93C...0x1F945, 0x1F947...0x1F9FF,
             0x1FA70...0x1FAFF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return true
        default:
            return false
        }
    }

    /// The longest prefix that fits in `width` columns; adds "…" when something was cut.
    public static func truncate(_ text: String, to width: Int, ellipsis: Bool = true) -> String {
        guard width > 0 else { return "" }
        if of(text) <= width { return text }
        let budget = ellipsis ? width - 1 : width
        var used = 0
        var result = ""
        for character in text {
            let w = of(character)
            if used + w > budget { break }
            result.append(character)
            used += w
        }
        return ellipsis ? result + "…" : result
    }

    /// Truncates or pads with spaces to exactly `width` columns.
    public static func fit(_ text: String, to width: Int, alignRight: Bool = false) -> String {
        let cut = truncate(text, to: width)
        let pad = max(0, width - of(cut))
        if pad == 0 { return cut }
        let spaces = String(repeating: " ", count: pad)
        return alignRight ? spaces + cut : cut + spaces
    }
}

/// Makes remote output safe to draw: tabs expanded, carriage returns and other control characters
/// (which would move the terminal's cursor) replaced.
public enum TerminalText {
    public static func sanitizeLine(_ line: Substring) -> String {
        var needsWork = false
        for byte in line.utf8 where byte < 0x20 || byte == 0x7F {
            needsWork = true
            break
        }
        if !needsWork { return String(line) }
        var result = ""
        var column = 0
        for character in line {
            if character == "\t" {
                let spaces = 8 - column % 8
                result += String(repeating: " ", count: spaces)
                column += spaces
            } else if character == "\r" || character == "\r\n" {
                continue
            } else if let ascii = character.asciiValue, ascii < 0x20 || ascii == 0x7F {
                result.append("?")
                column += 1
            } else {
                result.append(character)
                column += DisplayWidth.of(character)
            }
        }
        return result
    }

    /// Splits output into display lines (a trailing newline does not make an empty last line).
    public static func lines(_ text: String) -> [String] {
        if text.isEmpty { return [] }
        // "\r\n" is one Character in Swift, so split on it as well as on "\n".
        var parts = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if parts.last?.isEmpty == true { parts.removeLast() }
        return parts.map(sanitizeLine)
    }

    /// The first non-blank line, sanitized.
    public static func firstLine(_ text: String) -> String {
        for part in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = sanitizeLine(part)
            if !line.allSatisfy({ $0 == " " }) { return line.trimmingLeadingSpaces() }
        }
        return ""
    }

    /// Word-wraps one line to `width` columns (hard breaks words longer than a line).
    public static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        if DisplayWidth.of(text) <= width { return [text] }
        var lines: [String] = []
        var current = ""
        var used = 0
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let w = DisplayWidth.of(String(word))
            if used > 0 && used + 1 + w > width {
                lines.append(current)
                current = ""
                used = 0
            }
            if used > 0 {
                current += " "
                used += 1
            }
            if w > width {
                for character in word {
                    let cw = DisplayWidth.of(character)
                    if used + cw > width {
                        lines.append(current)
                        current = ""
                        used = 0
                    }
                    current.append(character)
                    used += cw
                }
            } else {
                current += word
                used += w
            }
        }
        if !current.isEmpty || lines.isEmpty { lines.append(current) }
        return lines
    }
}

extension String {
    func trimmingLeadingSpaces() -> String {
        String(drop(while: { $0 == " " }))
    }
}
