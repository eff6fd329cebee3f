// Folds host names into the compact set notation of ClusterShell / pdsh: win0001…win0040 and win0042
// become `win[0001-0040,0042]`. Zero padding is kept, names without digits stay as they are.
// The numeric part folded is the last run of digits in the first DNS label ("web01.dc2.corp" folds on 01).

public enum HostSetFolding {
    private struct Key: Hashable {
        let prefix: Substring
        let suffix: Substring
    }

    public static func fold<S: Sequence>(_ names: S) -> String where S.Element == String {
        var plain: Set<String> = []
        var numbered: [Key: [(value: Int, digits: Substring)]] = [:]
        var keyOrder: [Key] = []
        for name in names {
            guard let range = foldableDigits(in: name),
                  let value = Int(name[range]), name.distance(from: range.lowerBound, to: range.upperBound) <= 18
            else {
                plain.insert(name)
                continue
            }
            let key = Key(prefix: name[..<range.lowerBound], suffix: name[range.upperBound...])
            if numbered[key] == nil { keyOrder.append(key) }
            numbered[key, default: []].append((value, name[range]))
        }
        var pieces: [(sortKey: String, text: String)] = plain.map { ($0, $0) }
        for key in keyOrder {
            var entries = numbered[key]!
            entries.sort { $0.value != $1.value ? $0.value < $1.value : $0.digits.count < $1.digits.count }
            var ranges: [String] = []
            var index = 0
            while index < entries.count {
                let start = entries[index]
                let padWidth = start.digits.count
                var end = start
                var next = index + 1
                while next < entries.count {
                    let candidate = entries[next]
                    if candidate.value == end.value && candidate.digits == end.digits { next += 1; continue }
                    guard candidate.value == end.value + 1, candidate.digits == pad(candidate.value, to: padWidth)
                    else { break }
                    end = candidate
                    next += 1
                }
                ranges.append(end.value == start.value ? String(start.digits) : "\(start.digits)-\(end.digits)")
                index = next
            }
            let text = ranges.count == 1 && !ranges[0].contains("-")
                ? "\(key.prefix)\(ranges[0])\(key.suffix)"
                : "\(key.prefix)[\(ranges.joined(separator: ","))]\(key.suffix)"
            pieces.append(("\(key.prefix)\(key.suffix)", text))
        }
        pieces.sort { $0.sortKey != $1.sortKey ? $0.sortKey < $1.sortKey : $0.text < $1.text }
        return pieces.map(\.text).joined(separator: ",")
    }

    /// `win[0001-0040,0042] (41)`.
    public static func foldWithCount(_ names: [String]) -> String {
        "\(fold(names)) (\(Set(names).count))"
    }

    private static func pad(_ value: Int, to width: Int) -> Substring {
        let digits = String(value)
        return Substring(digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits)
    }

    private static func foldableDigits(in name: String) -> Range<String.Index>? {
        let labelEnd = name.firstIndex(of: ".") ?? name.endIndex
        if let range = lastDigitRun(in: name, before: labelEnd) { return range }
        return lastDigitRun(in: name, before: name.endIndex)
    }

    private static func lastDigitRun(in name: String, before end: String.Index) -> Range<String.Index>? {
        var upper: String.Index?
        var index = end
        while index > name.startIndex {
            let previous = name.index(before: index)
            let isDigit = name[previous].isASCII && name[previous].isNumber
            if upper == nil {
                if isDigit { upper = index }
            } else if !isDigit {
                return index..<upper!
            }
            index = previous
        }
        return upper.map { name.startIndex..<$0 }
    }
}

/// Orders host names the way people read them: win2 before win10, case-insensitively.
public enum NaturalOrder {
    public static func less(_ a: String, _ b: String) -> Bool {
        compare(a, b) < 0
    }

    public static func compare(_ a: String, _ b: String) -> Int {
        var ai = a.utf8.makeIterator()
        var bi = b.utf8.makeIterator()
        var ca = ai.next()
        var cb = bi.next()
        while let x = ca, let y = cb {
            if isDigit(x) && isDigit(y) {
                // Compare the digit runs by value: skip leading zeros, then by length, then digit by digit.
                var da: [UInt8] = []
                var db: [UInt8] = []
                var nx: UInt8? = x
                while let d = nx, isDigit(d) { da.append(d); nx = ai.next() }
                var ny: UInt8? = y
                while let d = ny, isDigit(d) { db.append(d); ny = bi.next() }
                let ta = da.drop(while: { $0 == 0x30 })
                let tb = db.drop(while: { $0 == 0x30 })
                if ta.count != tb.count { return ta.count < tb.count ? -1 : 1 }
                for (p, q) in zip(ta, tb) where p != q { return p < q ? -1 : 1 }
                if da.count != db.count { return da.count < db.count ? -1 : 1 }
                ca = nx
                cb = ny
                continue
            }
            let lx = lower(x), ly = lower(y)
            if lx != ly { return lx < ly ? -1 : 1 }
            ca = ai.next()
            cb = bi.next()
        }
        if ca == nil && cb == nil { return 0 }
        return ca == nil ? -1 : 1
    }

    @inline(__always) private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    @inline(__always) private static func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c + 32 : c }
}
