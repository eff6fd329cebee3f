// One full screen of cells: what every renderer produces and every screen backend draws.
// A wide character occupies its cell and the next; the next holds an empty `text` (a continuation).

public struct ScreenSize: Hashable, Sendable, CustomStringConvertible {
    public var rows: Int
    public var cols: Int

    public init(rows: Int, cols: Int) {
        self.rows = rows
        self.cols = cols
    }

    public static let minimum = ScreenSize(rows: 24, cols: 80)

    public var description: String { "\(cols)×\(rows)" }
}

public struct Cell: Hashable, Sendable {
    /// One grapheme cluster; "" for the second column of a wide character.
    public var text: String
    public var role: Role
    /// Extra attributes on top of the role's theme style (e.g. bold for emphasis).
    public var attributes: TextAttributes

    public init(_ text: String, role: Role, attributes: TextAttributes = []) {
        self.text = text
        self.role = role
        self.attributes = attributes
    }

    public static let blank = Cell(" ", role: .normal)
}

public struct ScreenFrame: Equatable, Sendable {
    public let size: ScreenSize
    public private(set) var cells: [Cell]
    /// Where the terminal cursor should be (while typing a filter or a command), else hidden.
    public var cursor: (row: Int, col: Int)?

    public init(size: ScreenSize, role: Role = .normal) {
        self.size = size
        cells = Array(repeating: Cell(" ", role: role), count: max(0, size.rows * size.cols))
    }

    public static func == (lhs: ScreenFrame, rhs: ScreenFrame) -> Bool {
        lhs.size == rhs.size && lhs.cells == rhs.cells && lhs.cursor?.row == rhs.cursor?.row
            && lhs.cursor?.col == rhs.cursor?.col
    }

    public subscript(row: Int, col: Int) -> Cell {
        cells[row * size.cols + col]
    }

    /// Paints a whole row in one role (a row's background).
    public mutating func fill(row: Int, role: Role, from col: Int = 0, to end: Int? = nil) {
        guard row >= 0, row < size.rows else { return }
        let last = min(end ?? size.cols, size.cols)
        guard col < last else { return }
        let base = row * size.cols
        for index in (base + max(0, col))..<(base + last) { cells[index] = Cell(" ", role: role) }
    }

    /// Writes text at (row, col), clipped to `width` columns (default: to the end of the row).
    /// Returns the column after the last one written.
    @discardableResult
    public mutating func put(_ text: String, row: Int, col: Int, role: Role, attributes: TextAttributes = [],
                             width: Int? = nil) -> Int {
        guard row >= 0, row < size.rows, col < size.cols else { return col }
        let limit = min(size.cols, width.map { col + $0 } ?? size.cols)
        var column = max(0, col)
        let base = row * size.cols
        // Writing over the second half of an earlier wide character blanks its first half.
        if column > 0, column < limit, cells[base + column].text.isEmpty {
            cells[base + column - 1] = Cell(" ", role: cells[base + column - 1].role)
        }
        // Fast path: ASCII text maps one byte to one cell.
        var isSimple = true
        for byte in text.utf8 where byte >= 0x80 || byte < 0x20 {
            isSimple = false
            break
        }
        if isSimple {
            for byte in text.utf8 {
                if column >= limit { break }
                cells[base + column] = Cell(String(UnicodeScalar(byte)), role: role, attributes: attributes)
                column += 1
            }
        } else {
            for character in text {
                let w = DisplayWidth.of(character)
                if w == 0 { continue }
                if column + w > limit {
                    // A wide character that does not fit leaves a blank rather than half a glyph.
                    if column < limit {
                        cells[base + column] = Cell(" ", role: role, attributes: attributes)
                        column += 1
                    }
                    break
                }
                cells[base + column] = Cell(String(character), role: role, attributes: attributes)
                if w == 2 { cells[base + column + 1] = Cell("", role: role, attributes: attributes) }
                column += w
            }
        }
        // A continuation cell right after what was written lost its wide character.
        if column > col, column < size.cols, cells[base + column].text.isEmpty {
            cells[base + column] = Cell(" ", role: cells[base + column].role)
        }
        return column
    }

    /// Applies a role to a range of cells without changing their text.
    public mutating func recolor(row: Int, from col: Int, to end: Int, role: Role) {
        guard row >= 0, row < size.rows else { return }
        let base = row * size.cols
        for column in max(0, col)..<min(end, size.cols) { cells[base + column].role = role }
    }

    /// The screen's text, one line per row (continuation cells omitted, trailing spaces kept).
    public func textLines() -> [String] {
        (0..<size.rows).map { row in
            var line = ""
            for col in 0..<size.cols { line += cells[row * size.cols + col].text }
            return line
        }
    }

    /// One letter per cell naming its role (see `Role.mapLetter`); a `+` after the letter row marks
    /// nothing — attributes are listed separately as `b`(old) `u`(nderline) `r`(everse) `d`(im) or `-`.
    public func roleLines() -> [String] {
        (0..<size.rows).map { row in
            String((0..<size.cols).map { cells[row * size.cols + $0].role.mapLetter })
        }
    }

    public func attributeLines() -> [String] {
        (0..<size.rows).map { row in
            String((0..<size.cols).map { col -> Character in
                let attributes = cells[row * size.cols + col].attributes
                if attributes.contains(.reverse) { return "r" }
                if attributes.contains(.bold) { return "b" }
                if attributes.contains(.underline) { return "u" }
                if attributes.contains(.dim) { return "d" }
                return "-"
            })
        }
    }

    /// The golden-file form: text framed by `|`, then the role map, then the attribute map (if any),
    /// then the legend of the roles used.
    public func goldenDump() -> String {
        var out = "size \(size.cols)x\(size.rows)"
        if let cursor { out += " cursor \(cursor.row),\(cursor.col)" }
        out += "\n--- text\n"
        for line in textLines() { out += "|" + line + "|\n" }
        out += "--- roles\n"
        for line in roleLines() { out += "|" + line + "|\n" }
        let attributes = attributeLines()
        if attributes.contains(where: { $0.contains(where: { $0 != "-" }) }) {
            out += "--- attributes\n"
            for line in attributes { out += "|" + line + "|\n" }
        }
        let used = Set(cells.map(\.role))
        out += "--- legend\n"
        for role in Role.allCases where used.contains(role) { out += "\(role.mapLetter) \(role.rawValue)\n" }
        return out
    }
}
