import ASCIIText
import Foundation

/// How a host is reached: plain HTTP (default port 5985) or HTTPS (default port 5986).
public enum Transport: String, Sendable, Equatable, Hashable, CaseIterable, CustomStringConvertible {
    case http
    case https

    /// The WinRM listener's default port for this transport.
    public var defaultPort: Int { self == .http ? 5985 : 5986 }
    public var description: String { rawValue }
}

/// The scheme used to authenticate to the WinRM server (independent of proxy authentication).
public enum HostAuth: String, Sendable, Equatable, Hashable, CaseIterable, CustomStringConvertible {
    case basic
    case ntlm
    case kerberos
    case negotiate

    /// Connection-based schemes authenticate a TCP connection, not a request, and can seal messages
    /// (MS-WSMV message encryption). Basic does neither.
    public var isConnectionBased: Bool { self != .basic }
    public var description: String { rawValue }
}

/// MS-WSMV message-level encryption ("sealing") of SOAP bodies.
public enum EncryptionMode: String, Sendable, Equatable, Hashable, CaseIterable, CustomStringConvertible {
    /// Seal over HTTP when the auth scheme can (ntlm/kerberos/negotiate); rely on TLS over HTTPS.
    case auto
    /// Always seal, even inside TLS. Needs a connection-based auth scheme.
    case always
    /// Never seal. Over HTTP this sends SOAP in clear text (needs `allow_unencrypted` on a direct route).
    case never
    public var description: String { rawValue }
}

/// The service class of the Kerberos service principal name (`HTTP/host` or `WSMAN/host`).
public enum SPNService: String, Sendable, Equatable, Hashable, CaseIterable, CustomStringConvertible {
    case http = "HTTP"
    case wsman = "WSMAN"
    public var description: String { rawValue }
}

/// TLS verification settings for a host (`tls`) or for an HTTPS proxy (`proxy_tls`).
public struct TLSSettings: Sendable, Equatable, Hashable {
    /// PEM file of CA certificates to trust instead of the system store.
    public var caFile: String?
    /// Pinned SHA-256 fingerprint of the server certificate: 64 lowercase hex digits, no colons.
    public var fingerprintSHA256: String?
    /// Whether to verify the certificate chain and name. `false` is reported as a warning.
    public var verify: Bool

    public init(caFile: String? = nil, fingerprintSHA256: String? = nil, verify: Bool = true) {
        self.caFile = caFile
        self.fingerprintSHA256 = fingerprintSHA256
        self.verify = verify
    }

    public static let standard = TLSSettings()
}

/// One WinRM host with every inventory default already applied.
///
/// Named `InventoryHost`, not `Host`, because Foundation on Linux exports a `Host` class and any file
/// importing both modules could not say plain `Host`. `Inventory.Host` is an alias.
public struct InventoryHost: Sendable, Equatable, Hashable {
    /// Unique name used in target expressions, summaries and the console.
    public var name: String
    /// DNS name or IP address to connect to (IPv6 without brackets). Defaults to `name`.
    public var address: String
    /// Effective port: explicit, else 5985 for http / 5986 for https.
    public var port: Int
    public var transport: Transport
    public var auth: HostAuth
    /// Name of the entry in `Inventory.credentials`, if any (Kerberos may use the ticket cache instead).
    public var credentialName: String?
    /// Name of the entry in `Inventory.routes`; always defined there (`direct` is implicit).
    public var routeName: String
    /// Group names, in file order, without duplicates.
    public var groups: [String]
    public var encryption: EncryptionMode
    public var tls: TLSSettings
    /// Opt-in for clear-text HTTP (Basic, or encryption `never`) on a direct route.
    public var allowUnencrypted: Bool
    /// WS-Management OperationTimeout, seconds.
    public var operationTimeout: Double
    /// TCP (and proxy) connect timeout, seconds.
    public var connectTimeout: Double
    public var spnService: SPNService
    /// Explicit Kerberos SPN, overriding `spnService/address`.
    public var spn: String?
    /// Request a forwardable (delegated) Kerberos ticket.
    public var kerberosDelegation: Bool
    /// URL path of the WinRM endpoint, `/wsman` unless set.
    public var path: String

    public init(name: String, address: String? = nil, port: Int? = nil, transport: Transport = .http,
                auth: HostAuth = .negotiate, credentialName: String? = nil, routeName: String = "direct",
                groups: [String] = [], encryption: EncryptionMode = .auto, tls: TLSSettings = .standard,
                allowUnencrypted: Bool = false, operationTimeout: Double = InventoryHost.defaultOperationTimeout,
                connectTimeout: Double = InventoryHost.defaultConnectTimeout, spnService: SPNService = .http,
                spn: String? = nil, kerberosDelegation: Bool = false, path: String = InventoryHost.defaultPath) {
        self.name = name
        self.address = address ?? name
        self.port = port ?? transport.defaultPort
        self.transport = transport
        self.auth = auth
        self.credentialName = credentialName
        self.routeName = routeName
        self.groups = groups
        self.encryption = encryption
        self.tls = tls
        self.allowUnencrypted = allowUnencrypted
        self.operationTimeout = operationTimeout
        self.connectTimeout = connectTimeout
        self.spnService = spnService
        self.spn = spn
        self.kerberosDelegation = kerberosDelegation
        self.path = path
    }

    public static let defaultOperationTimeout: Double = 20
    public static let defaultConnectTimeout: Double = 10
    public static let defaultPath = "/wsman"

    /// `http://address:port/path`, with IPv6 addresses in brackets.
    public var endpointURL: String {
        let hostPart = address.containsAnyASCII(of: ":") ? "[\(address)]" : address
        return "\(transport.rawValue)://\(hostPart):\(port)\(path)"
    }

    /// The Kerberos service principal name: `spn` if set, else `SERVICE/address`.
    public var servicePrincipalName: String {
        spn ?? "\(spnService.rawValue)/\(address)"
    }

    /// Whether SOAP bodies are sealed with MS-WSMV message encryption.
    /// `auto` seals over HTTP with a connection-based scheme and relies on TLS over HTTPS.
    public var usesMessageEncryption: Bool {
        switch encryption {
        case .never: return false
        case .always: return auth.isConnectionBased
        case .auto: return transport == .http && auth.isConnectionBased
        }
    }

    /// Whether anything sent to this host is protected on the wire (TLS or sealing).
    public var isProtectedOnTheWire: Bool {
        transport == .https || usesMessageEncryption
    }
}

extension Inventory {
    /// `Inventory.Host` reads naturally at call sites and cannot clash with Foundation's `Host`.
    public typealias Host = InventoryHost
}
