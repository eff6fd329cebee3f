import Foundation
import Inventory

/// Text reports of a run, clush-style: identical results folded into one host set.
public enum RunReport {
    /// One block per distinct (status, exit code, stdout, stderr, error), largest first:
    /// `---------------- win[0001-0040,0042] (41) exit 0`, then the output once.
    public static func grouped(_ results: [HostResult]) -> String {
        struct Key: Hashable {
            var status: HostStatus
            var exitCode: Int32?
            var stdout: String
            var stderr: String
            var error: String?
        }
        var groups: [Key: [String]] = [:]
        var order: [Key] = []
        for result in results {
            let key = Key(status: result.status, exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr,
                          error: result.error.map { "\($0.kind.rawValue): \(Self.withoutHost($0.message, host: result.host))" })
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(result.host)
        }
        order.sort { groups[$0]!.count > groups[$1]!.count }
        var text = ""
        for key in order {
            let hosts = groups[key]!
            var label = "\(HostSet.fold(hosts)) (\(hosts.count))"
            switch key.status {
            case .ok, .failed: label += " exit \(key.exitCode.map(String.init) ?? "?")"
            default: label += " \(key.status.rawValue)"
            }
            text += "---------------- \(label)\n"
            if let error = key.error { text += "error \(error)\n" }
            let stdout = Self.unixLines(key.stdout), stderr = Self.unixLines(key.stderr)
            if !stdout.isEmpty { text += stdout.hasSuffix("\n") ? stdout : stdout + "\n" }
            if !stderr.isEmpty {
                let stderr = stderr.hasSuffix("\n") ? stderr : stderr + "\n"
                text += stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { "stderr: \($0)\n" }.joined()
            }
        }
        return text
    }

    /// Windows ends lines with CRLF; a terminal report reads better with plain newlines.
    static func unixLines(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n")
    }

    /// Host-specific details (its name, address, local ports) would keep otherwise identical
    /// errors apart.
    static func withoutHost(_ message: String, host: String) -> String {
        var text = message.replacingOccurrences(of: host, with: "<host>")
        for (pattern, replacement) in hostSpecific {
            text = pattern.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: replacement)
        }
        return text
    }

    private static let hostSpecific: [(NSRegularExpression, String)] = [
        (try! NSRegularExpression(pattern: #"\b\d{1,3}(\.\d{1,3}){3}(:\d+)?( port \d+)?"#), "<address>"),
        (try! NSRegularExpression(pattern: #"local port \d+( → \d+)?"#), "local port …"),
        (try! NSRegularExpression(pattern: #"after \d+ ms"#), "after … ms"),
    ]

    /// `41 ok, 2 failed (exit 3: 2), 1 error (auth: 1) in 1.2 s`
    public static func summary(_ results: [HostResult], elapsed: TimeInterval) -> String {
        var parts: [String] = []
        for status in HostStatus.allCases {
            let matching = results.filter { $0.status == status }
            guard !matching.isEmpty else { continue }
            var part = "\(matching.count) \(status.rawValue)"
            if status == .failed {
                let byCode = Dictionary(grouping: matching, by: { $0.exitCode ?? -1 }).sorted { $0.key < $1.key }
                part += " (" + byCode.map { "exit \($0.key): \($0.value.count)" }.joined(separator: ", ") + ")"
            }
            if status == .error || status == .timeout {
                let byKind = Dictionary(grouping: matching, by: { $0.error?.kind.rawValue ?? "unknown" }).sorted { $0.key < $1.key }
                part += " (" + byKind.map { "\($0.key): \($0.value.count)" }.joined(separator: ", ") + ")"
            }
            parts.append(part)
        }
        var text = "\(results.count) host(s): " + parts.joined(separator: ", ") + String(format: " in %.2f s", elapsed)
        let routes = Dictionary(grouping: results, by: \.route)
        if routes.count > 1 {
            text += "\n" + routes.keys.sorted().map { route in
                let hosts = routes[route]!
                let ok = hosts.filter { $0.status == .ok || $0.status == .failed }.count
                let errors = Dictionary(grouping: hosts.compactMap { $0.error?.kind.rawValue }, by: { $0 })
                    .sorted { $0.key < $1.key }.map { "\($0.value.count) \($0.key)" }
                return "route \(route): \(hosts.count) host(s), \(ok) ran" + (errors.isEmpty ? "" : ", " + errors.joined(separator: ", "))
            }.joined(separator: "\n")
        }
        return text
    }
}
