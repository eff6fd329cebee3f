import Foundation

/// Small text formats shared by the renderers.
enum Format {
    static func duration(_ seconds: TimeInterval?) -> String {
        guard let seconds, seconds.isFinite, seconds >= 0 else { return "—" }
        if seconds < 10 { return String(format: "%.2fs", seconds) }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let total = Int(seconds.rounded())
        if total < 3600 { return String(format: "%dm%02ds", total / 60, total % 60) }
        return String(format: "%dh%02dm", total / 3600, (total % 3600) / 60)
    }

    static func rtt(_ ms: Double?) -> String {
        guard let ms, ms.isFinite, ms >= 0 else { return "—" }
        if ms < 10 { return String(format: "%.1fms", ms) }
        if ms < 10_000 { return "\(Int(ms.rounded()))ms" }
        return String(format: "%.0fs", ms / 1000)
    }

    static func clock(_ date: Date, timeZone: TimeZone) -> String {
        let c = components(date, timeZone)
        return String(format: "%02d:%02d:%02d", c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    static func dateTime(_ date: Date, timeZone: TimeZone) -> String {
        let c = components(date, timeZone)
        return String(format: "%04d-%02d-%02d %02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0,
                      c.minute ?? 0)
    }

    private static func components(_ date: Date, _ timeZone: TimeZone) -> DateComponents {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    }

    static func role(for state: SessionState) -> Role {
        switch state {
        case .authenticated, .idle: return .ok
        case .busy, .connecting, .reconnecting: return .running
        case .broken: return .error
        case .none: return .dim
        }
    }

    static func role(for state: RunHostState) -> Role {
        switch state {
        case .done: return .ok
        case .failed: return .failed
        case .error: return .error
        case .timedOut, .cancelled: return .warning
        case .running, .connecting: return .running
        case .queued: return .dim
        }
    }

    static func role(forErrorKind kind: String) -> Role {
        kind == "affinity" ? .affinity : .error
    }

    static func plural(_ n: Int, _ word: String) -> String {
        "\(n) \(word)\(n == 1 ? "" : "s")"
    }
}

/// A line of text made of differently styled pieces.
struct StyledLine {
    var segments: [(text: String, role: Role)]

    init(_ text: String, _ role: Role = .normal) {
        segments = [(text, role)]
    }

    init(segments: [(text: String, role: Role)]) {
        self.segments = segments
    }

    static let blank = StyledLine("")

    func draw(into frame: inout ScreenFrame, row: Int, col: Int, width: Int) {
        var column = col
        let end = col + width
        for segment in segments where column < end {
            column = frame.put(segment.text, row: row, col: column, role: segment.role, width: end - column)
        }
    }
}
