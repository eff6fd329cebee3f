import Foundation

/// How requests pass through an HTTP proxy.
public enum ProxyMode: String, Sendable, Equatable, Hashable, CaseIterable, CustomStringConvertible {
    /// `CONNECT host:port`, then the WinRM conversation inside one end-to-end TCP stream. Keeps
    /// connection affinity, so connection-based authentication survives the proxy. The default.
    case tunnel
    /// Plain HTTP requests with an absolute URI to the proxy; affinity depends on the proxy.
    /// HTTPS targets are always tunnelled regardless.
    case forward
    public var description: String { rawValue }
}

/// How winfleet authenticates to the proxy itself (independent from authentication to the host).
public enum ProxyAuthScheme: String, Sendable, Equatable, Hashable, CaseIterable, CustomStringConvertible {
    case none
    case basic
    case digest
    case ntlm
    case negotiate
    public var description: String { rawValue }
}

/// Where a route's proxy comes from.
public enum ProxySetting: Sendable, Equatable, Hashable {
    /// No proxy: connect straight to the host.
    case none
    /// Taken from HTTP_PROXY / HTTPS_PROXY / NO_PROXY at run time (see `EnvironmentProxy`).
    case environment
    /// A fixed proxy.
    case url(ProxyURL)
}

/// A proxy address: scheme (how winfleet talks to the proxy), host and port. Never carries credentials.
public struct ProxyURL: Sendable, Equatable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable, Equatable, Hashable, CaseIterable {
        /// Plain TCP to the proxy.
        case http
        /// TLS to the proxy (the proxy's certificate is checked with the route's `proxy_tls`).
        case https
    }

    public var scheme: Scheme
    /// Host name or IP address (IPv6 without brackets).
    public var host: String
    public var port: Int

    public init(scheme: Scheme, host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// `host:port`, with IPv6 addresses in brackets.
    public var hostAndPort: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// `scheme://host:port`, the form libcurl's CURLOPT_PROXY takes.
    public var description: String { "\(scheme.rawValue)://\(hostAndPort)" }

    /// Why a proxy URL string was rejected. Messages never repeat the input, which may hold a password.
    public enum ParseError: Error, Equatable, Sendable {
        case missingScheme
        case unsupportedScheme(String)
        case containsCredentials
        case missingHost
        case missingPort
        case invalidPort
        case hasPathOrQuery
        case invalidHost

        public var message: String {
            switch self {
            case .missingScheme: return "has no scheme"
            case .unsupportedScheme(let scheme): return "uses scheme \"\(scheme)\"; only http and https proxies are supported"
            case .containsCredentials: return "contains user:password@ — proxy credentials do not belong in the URL"
            case .missingHost: return "has no host"
            case .missingPort: return "has no port"
            case .invalidPort: return "has a port that is not a number from 1 to 65535"
            case .hasPathOrQuery: return "has a path, query or fragment; a proxy URL is only scheme://host:port"
            case .invalidHost: return "has an invalid host"
            }
        }
    }

    /// Parses `http://host:port` or `https://host:port` as written in an inventory: scheme and port are required.
    public static func parse(_ text: String) -> Result<ProxyURL, ParseError> {
        parse(text, schemeRequired: true, portRequired: true)
    }

    /// Parses a proxy environment variable value the way common HTTP clients do: a missing scheme means
    /// `http://`, a missing port means 80 for http and 443 for https.
    public static func parseEnvironmentValue(_ text: String) -> Result<ProxyURL, ParseError> {
        parse(text, schemeRequired: false, portRequired: false)
    }

    private static func parse(_ text: String, schemeRequired: Bool, portRequired: Bool) -> Result<ProxyURL, ParseError> {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        let scheme: Scheme
        if let separator = rest.range(of: "://") {
            let schemeText = rest[..<separator.lowerBound].lowercased()
            guard let known = Scheme(rawValue: schemeText) else { return .failure(.unsupportedScheme(schemeText)) }
            scheme = known
            rest = rest[separator.upperBound...]
        } else {
            if schemeRequired { return .failure(.missingScheme) }
            scheme = .http
        }
        // Only a trailing "/" may follow the authority.
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) {
            if rest[slash...] != "/" { return .failure(.hasPathOrQuery) }
            rest = rest[..<slash]
        }
        if rest.contains("@") { return .failure(.containsCredentials) }
        guard !rest.isEmpty else { return .failure(.missingHost) }

        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return .failure(.invalidHost) }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return .failure(.invalidHost) }
                portText = after.dropFirst()
            }
            guard IPAddress.parseIPv6(String(host)) != nil else { return .failure(.invalidHost) }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
            if host.contains(":") { return .failure(.invalidHost) }  // bare IPv6 needs brackets
        } else {
            host = rest
        }
        guard !host.isEmpty else { return .failure(.missingHost) }
        guard host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" || $0 == ":" || $0 == "%" }) else {
            return .failure(.invalidHost)
        }
        let port: Int
        if let portText {
            guard !portText.isEmpty else { return .failure(.missingPort) }
            guard portText.allSatisfy(\.isASCIIDigit), let value = Int(portText), (1...65535).contains(value) else {
                return .failure(.invalidPort)
            }
            port = value
        } else {
            if portRequired { return .failure(.missingPort) }
            port = scheme == .http ? 80 : 443
        }
        return .success(ProxyURL(scheme: scheme, host: host.lowercased(), port: port))
    }
}

/// A named way to reach hosts: direct, through the proxy in the environment, or through a fixed proxy.
public struct Route: Sendable, Equatable, Hashable {
    public var name: String
    public var proxy: ProxySetting
    /// `tunnel` unless set. Ignored for HTTPS targets, which are always tunnelled.
    public var mode: ProxyMode
    public var proxyAuth: ProxyAuthScheme
    /// Name of the entry in `Inventory.credentials` used to authenticate to the proxy.
    public var proxyCredential: String?
    /// TLS settings for an `https://` proxy.
    public var proxyTLS: TLSSettings

    public init(name: String, proxy: ProxySetting = .none, mode: ProxyMode = .tunnel,
                proxyAuth: ProxyAuthScheme = .none, proxyCredential: String? = nil,
                proxyTLS: TLSSettings = .standard) {
        self.name = name
        self.proxy = proxy
        self.mode = mode
        self.proxyAuth = proxyAuth
        self.proxyCredential = proxyCredential
        self.proxyTLS = proxyTLS
    }

    /// The name of the route hosts use when they name none and the inventory defines none called so.
    public static let implicitDirectName = "direct"

    /// The implicit direct route.
    public static let direct = Route(name: implicitDirectName)
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
