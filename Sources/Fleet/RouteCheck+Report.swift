import Foundation
import Inventory
import WinRMTransport

extension RouteCheckReport {
    /// The report for a terminal: findings, a table per route, a table per host, the problems.
    public func text() -> String {
        var out = "winfleet check: \(inventoryFile), \(hosts.count) host(s) on \(routes.count) route(s)"
        out += probed ? "\n" : " (rules only, no network)\n"
        if !inventoryWarnings.isEmpty {
            out += "\ninventory warnings:\n" + inventoryWarnings.map { "  \($0)\n" }.joined()
        }
        let findings = hosts.flatMap(\.findings)
        if !findings.isEmpty {
            out += "\npolicy:\n"
            for finding in findings {
                out += "  \(finding.severity.rawValue) \(finding.message) (rule \(finding.rule): \"\(finding.quote)\") — fix: \(finding.fix)\n"
            }
        }
        let refusals = hosts.compactMap { check in check.refusal.map { (check.host.name, $0) } }
            .filter { $0.1.kind != .policy }
        for (host, refusal) in refusals {
            out += "  cannot check \(host): \(refusal.kind.rawValue): \(refusal.message)\n"
        }

        let stageTitles = RouteCheckStage.allCases.map { $0 == .affinity ? "AFFINITY (\(commandCount) CMD)" : $0.title }
        out += "\n"
        out += Self.table(header: ["ROUTE", "EFFECTIVE ROUTE"] + stageTitles.dropLast(2) + ["HOSTS OK", "AUTH", "AFFINITY", "PROXY", "OTHER", "RTT"],
                          rows: routes.map { route in
            let health = route.health
            return [route.route, route.explanation]
                + [RouteCheckStage.proxyReachable, .proxyAuth, .connect].map { probed ? (route.stages[$0] ?? .notReached).cell : "-" }
                + ["\(health.hostsOK)/\(health.hostCount)", "\(health.authErrors)", "\(health.affinityErrors)",
                   "\(health.proxyErrors)", "\(health.otherErrors)", Self.milliseconds(health.latestRTT)]
        })
        out += "\n\n"
        out += Self.table(header: ["HOST", "ROUTE"] + stageTitles + ["AUTHS", "RTT", "POLICY"], rows: hosts.map { check in
            let policy = check.findings.first { $0.severity == .refuse }.map { "REFUSED (rule \($0.rule))" }
                ?? (check.refusal != nil ? "cannot check" : check.findings.first.map { "warn (rule \($0.rule))" } ?? "")
            return [check.host.name, check.route.routeName]
                + RouteCheckStage.allCases.map { check[$0].cell }
                + [check.refusal == nil && probed ? "\(check.authentications)" : "-", Self.milliseconds(check.roundTrip), policy]
        })
        out += "\n"
        let problems = hosts.compactMap { check -> String? in
            guard let error = check.error else { return nil }
            return "  \(check.host.name): \(error.kind.rawValue): \(error.message)\n"
        }
        if !problems.isEmpty {
            out += "\nproblems:\n" + problems.joined()
        }
        let refused = hosts.filter { $0.refusal != nil }.count
        if probed {
            let good = hosts.filter(\.passed).count
            out += "\n\(passed ? "passed" : "FAILED"): \(good) of \(hosts.count) host(s) passed every check"
        } else {
            out += "\n\(passed ? "passed" : "FAILED"): the rules allow \(hosts.count - refused) of \(hosts.count) host(s)"
        }
        if refused > 0 { out += ", \(refused) refused before anything was sent" }
        return out + "\n"
    }

    /// The report as one JSON object (`check --format json`).
    public func jsonObject() -> [String: Any] {
        func stageObject(_ stages: [RouteCheckStage: StageOutcome]) -> [String: Any] {
            var object: [String: Any] = [:]
            for stage in RouteCheckStage.allCases {
                let outcome = stages[stage] ?? .notReached
                object[stage.rawValue] = ["status": outcome.status, "detail": outcome.detail ?? NSNull()] as [String: Any]
            }
            return object
        }
        func errorObject(_ error: WinRMErrorLike?) -> Any {
            guard let error else { return NSNull() }
            return ["kind": error.kind, "message": error.message, "code": error.code ?? NSNull()] as [String: Any]
        }
        let routeObjects: [[String: Any]] = routes.map { route in
            let health = route.health
            return [
                "route": route.route,
                "effective_route": route.explanation,
                "proxy": route.proxy?.description ?? NSNull(),
                "mode": route.mode?.rawValue ?? "direct",
                "proxy_auth": route.proxyAuth.rawValue,
                "stages": stageObject(route.stages),
                "hosts": health.hostCount,
                "hosts_ok": health.hostsOK,
                "auth_errors": health.authErrors,
                "affinity_errors": health.affinityErrors,
                "proxy_errors": health.proxyErrors,
                "proxy_auth_errors": health.proxyAuthErrors,
                "other_errors": health.otherErrors,
                "latest_rtt_ms": health.latestRTT.map { Int(($0 * 1000).rounded()) } ?? NSNull(),
                "verdict": health.verdict,
            ]
        }
        let hostObjects: [[String: Any]] = hosts.map { check in
            [
                "host": check.host.name,
                "address": check.host.address,
                "port": check.host.port,
                "transport": check.host.transport.rawValue,
                "auth": check.host.auth.rawValue,
                "route": check.route.routeName,
                "effective_route": check.route.explanation,
                "policy": check.findings.map {
                    ["severity": $0.severity.rawValue, "rule": $0.rule, "quote": $0.quote, "message": $0.message, "fix": $0.fix] as [String: Any]
                },
                "refusal": errorObject(check.refusal.map(WinRMErrorLike.init)),
                "stages": stageObject(check.stages),
                "error": errorObject(check.error.map(WinRMErrorLike.init)),
                "authentications": check.authentications,
                "requests": check.requests,
                "commands": check.commandsRun,
                "rtt_ms": check.roundTrip.map { Int(($0 * 1000).rounded()) } ?? NSNull(),
                "passed": probed ? check.passed : check.refusal == nil,
            ]
        }
        return [
            "inventory": inventoryFile,
            "probed": probed,
            "passed": passed,
            "inventory_warnings": inventoryWarnings,
            "routes": routeObjects,
            "hosts": hostObjects,
        ]
    }

    public func json() -> String {
        let data = (try? JSONSerialization.data(withJSONObject: jsonObject(), options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func milliseconds(_ seconds: TimeInterval?) -> String {
        guard let seconds else { return "-" }
        return seconds < 0.01 ? String(format: "%.1f ms", seconds * 1000) : "\(Int((seconds * 1000).rounded())) ms"
    }

    /// Left-aligned columns, two spaces apart.
    static func table(header: [String], rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

/// The JSON fields of an error.
struct WinRMErrorLike {
    var kind: String
    var message: String
    var code: String?

    init(_ error: WinRMTransport.WinRMError) {
        kind = error.kind.rawValue
        message = error.message
        code = error.code
    }
}
