import ASCIIText
import Foundation

/// The xs:duration values WS-Management uses (`PT20S`, `PT7200.000S`, `P0DT0H0M0S`).
public enum WSManDuration {
    /// `PT20S` for whole seconds.
    public static func format(seconds: Int) -> String {
        "PT\(seconds)S"
    }

    /// `PT7200.000S`, the millisecond form Windows uses in `rsp:IdleTimeOut`.
    public static func formatMilliseconds(seconds: Double) -> String {
        let millis = Int64((seconds * 1000).rounded())
        let whole = millis / 1000
        let fraction = millis % 1000
        let padded = String(fraction)
        return "PT\(whole)." + String(repeating: "0", count: 3 - padded.count) + padded + "S"
    }

    /// Parses `[-]PnDTnHnMn.nS` into seconds. Years and months are rejected (no fixed length).
    public static func parse(_ value: String) -> Double? {
        var text = Substring(value.trimmingASCIIWhitespace)
        var sign = 1.0
        if text.hasPrefix("-") { sign = -1; text = text.dropFirst() }
        guard text.hasPrefix("P") else { return nil }
        text = text.dropFirst()
        var total = 0.0
        var number = ""
        var inTime = false
        var sawComponent = false
        for character in text {
            switch character {
            case "0"..."9", ".":
                number.append(character)
            case "T":
                guard !inTime, number.isEmpty else { return nil }
                inTime = true
            case "D", "H", "M", "S":
                guard let amount = Double(number) else { return nil }
                switch (character, inTime) {
                case ("D", false): total += amount * 86_400
                case ("H", true): total += amount * 3_600
                case ("M", true): total += amount * 60
                case ("S", true): total += amount
                default: return nil // months ("M" before "T") or misplaced designators
                }
                number = ""
                sawComponent = true
            default:
                return nil
            }
        }
        guard number.isEmpty, sawComponent else { return nil }
        return sign * total
    }
}
