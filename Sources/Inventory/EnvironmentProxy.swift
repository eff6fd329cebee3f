import Foundation

/// Whether a request goes straight to the host or through a proxy, and why.
public enum ProxyDecision: Sendable, Equatable {
    /// Connect directly; `reason` says why (e.g. `NO_PROXY matches .lab`).
    case direct(reason: String)
    /// Use `proxy`, taken from the environment variable `from` (e.g. `HTTPS_PROXY`).
    case proxy(ProxyURL, from: String)
    /// The variable is set but unusable; nothing may be sent (falling back to direct would silently
    /// bypass a proxy the operator asked for). `reason` never repeats the value, which may hold a password.
    case invalid(variable: String, reason: String)
}

/// The `"proxy": "env"` route: HTTP_PROXY / HTTPS_PROXY / NO_PROXY, as curl and most HTTP clients read them.
///
/// - The proxy variable follows the target's scheme: `http_proxy`/`HTTP_PROXY` for http targets,
///   `https_proxy`/`HTTPS_PROXY` for https targets (lower case first, like curl). Empty values count as unset.
///   `ALL_PROXY` is deliberately not used: it is often a SOCKS proxy meant for other tools.
/// - `no_proxy`/`NO_PROXY` is a comma- or space-separated list of:
///   `*` (everything), `host` or `.host` or `*.host` (that host and every name under it),
///   `host:port` (only that port), IPv4/IPv6 literals (`10.0.0.5`, `::1`, `[::1]:5985`),
///   and CIDR ranges (`127.1.0.0/16`, `fd00::/8`). Matching is case-insensitive.
/// - A value without a scheme means `http://`; a missing port means 80 (http) or 443 (https).
public enum EnvironmentProxy {
    public static func resolve(scheme: Transport, host: String, port: Int, environment: [String: String]) -> ProxyDecision {
        let candidates = scheme == .https ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy", "HTTP_PROXY"]
        guard let (variable, value) = firstSet(candidates, in: environment) else {
            return .direct(reason: "\(candidates[1]) is not set")
        }
        if let (noProxyVariable, list) = firstSet(["no_proxy", "NO_PROXY"], in: environment),
           let entry = matchingNoProxyEntry(list, host: host, port: port) {
            return .direct(reason: "\(noProxyVariable) matches \(entry)")
        }
        switch ProxyURL.parseEnvironmentValue(value) {
        case .success(let url):
            return .proxy(url, from: variable)
        case .failure(let error):
            return .invalid(variable: variable, reason: "\(variable) \(error.message)")
        }
    }

    /// The first entry of a NO_PROXY list that matches the host (and port), as written, or nil.
    public static func matchingNoProxyEntry(_ list: String, host: String, port: Int) -> String? {
        let target = normalizedHost(host)
        let targetAddress = IPAddress.parse(target)
        let entries = list.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
        for entry in entries where matches(entry: entry, host: target, address: targetAddress, port: port) {
            return entry
        }
        return nil
    }

    private static func firstSet(_ names: [String], in environment: [String: String]) -> (String, String)? {
        for name in names {
            if let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty { return (name, value) }
        }
        return nil
    }

    private static func normalizedHost(_ host: String) -> String {
        var host = host.lowercased()
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.hasSuffix(".") { host.removeLast() }
        return host
    }

    private static func matches(entry rawEntry: String, host: String, address: [UInt8]?, port: Int) -> Bool {
        var entry = rawEntry.lowercased()
        if entry == "*" { return true }

        // CIDR range: only IP literal targets can be in it (no DNS lookups here).
        if entry.contains("/") {
            guard let range = CIDRRange(entry), let address else { return false }
            return range.contains(address)
        }

        // Split off a port: "[v6]:port", "host:port"; a bare IPv6 literal has several colons and no port.
        var entryPort: Int?
        if entry.hasPrefix("[") {
            guard let close = entry.firstIndex(of: "]") else { return false }
            let rest = entry[entry.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let value = Int(rest.dropFirst()) else { return false }
                entryPort = value
            } else if !rest.isEmpty {
                return false
            }
            entry = String(entry[entry.index(after: entry.startIndex)..<close])
        } else if entry.filter({ $0 == ":" }).count == 1, let colon = entry.firstIndex(of: ":") {
            guard let value = Int(entry[entry.index(after: colon)...]) else { return false }
            entryPort = value
            entry = String(entry[..<colon])
        }
        if let entryPort, entryPort != port { return false }

        if let entryAddress = IPAddress.parse(entry) {
            return address == entryAddress
        }

        // Domain: "example.com", ".example.com" and "*.example.com" all match example.com and every name
        // under it, at a label boundary ("ample.com" does not match "example.com").
        if entry.hasPrefix("*.") { entry.removeFirst(2) } else if entry.hasPrefix(".") { entry.removeFirst() }
        if entry.hasSuffix(".") { entry.removeLast() }
        guard !entry.isEmpty, address == nil else { return false }
        return host == entry || host.hasSuffix("." + entry)
    }
}
