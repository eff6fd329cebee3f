import Foundation

/// How a simulated host authenticates clients. Mirrors the `winrm/config/service/auth` switches of a
/// Windows host. Negotiate is always enabled, as on Windows (NTLM tokens, raw or in `Negotiate`/`NTLM`
/// headers); `.basic` additionally enables `Basic=true`. `.ntlm` and `.negotiate` are the Windows default
/// (Basic off) and differ only in what the inventory tells clients to use.
///
/// Kerberos (a domain-joined host) needs a keytab (`SimulatorConfig.keytab`): `.negotiate` with a keytab
/// accepts Kerberos (raw, or inside SPNEGO) as well as NTLM under `Negotiate`, and `Kerberos` as a scheme
/// of its own; `.kerberos` accepts Kerberos only, as a host where policy blocks NTLM
/// ("Network security: Restrict NTLM"). `.ntlm` never accepts Kerberos.
public enum SimAuth: String, Sendable, CaseIterable {
    case basic
    case ntlm
    case negotiate
    case kerberos

    /// Whether the `Negotiate` scheme is enabled: always, as on a default Windows host.
    var acceptsNegotiate: Bool { true }
    /// Whether NTLM tokens are accepted (not on a Kerberos-only host).
    var acceptsNTLM: Bool { self != .kerberos }
    /// Whether Kerberos is accepted when a keytab is configured.
    var acceptsKerberos: Bool { self == .negotiate || self == .kerberos }
    /// Whether the `Basic` scheme is enabled.
    var acceptsBasic: Bool { self == .basic }
}

/// One local account of the simulated fleet. `user` may carry a domain (`WINFLEET\operator`) or a UPN.
public struct SimUser: Sendable, Equatable {
    public var user: String
    public var password: String
    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }
}

/// Faults the simulator injects on purpose, so that clients can be tested against the failures real
/// fleets produce. Every field is off by default.
public struct FaultInjection: Sendable, Equatable {
    /// Close the TCP connection after every N-th WinRS (SOAP) request on a connection. Authentication legs
    /// (empty-body 401/200 round trips) are not counted, so the handshake always completes.
    public var dropConnectionEvery: Int?
    /// With `dropConnectionEvery`: process the N-th request (a Command really starts) but close the
    /// connection instead of answering — the client cannot know whether the request took effect.
    /// When false the answer is sent first and the connection is closed right after it.
    public var dropBeforeResponse: Bool
    /// A shell expires after it has started N commands: the next request naming it gets the
    /// unknown-shell fault 2150858843, as when WinRM restarted or the shell idled out.
    public var expireShellsAfterCommands: Int?
    /// Every N-th Command request on a host is refused with the MSFT_WmiError quota fault 2150859174
    /// (MaxConcurrentOperationsPerUser exceeded); the command is not started.
    public var quotaFaultEvery: Int?
    /// Hosts (by name) that answer `slowMilliseconds` later than the others.
    public var slowHosts: Set<String>
    public var slowMilliseconds: Int
    /// Hosts (by name) that are in the inventory but do not listen: connections are refused.
    public var unreachableHosts: Set<String>
    /// Hosts (by name) that reject every credential (wrong password, locked account...).
    public var authFailHosts: Set<String>
    /// Flip one byte of the encrypted data of every sealed response (after sealing), as a
    /// middlebox that alters traffic would: the client's integrity check must refuse it.
    public var corruptSealedResponses: Bool

    public init(dropConnectionEvery: Int? = nil,
                dropBeforeResponse: Bool = false,
                expireShellsAfterCommands: Int? = nil,
                quotaFaultEvery: Int? = nil,
                slowHosts: Set<String> = [],
                slowMilliseconds: Int = 2000,
                unreachableHosts: Set<String> = [],
                authFailHosts: Set<String> = [],
                corruptSealedResponses: Bool = false) {
        self.dropConnectionEvery = dropConnectionEvery
        self.dropBeforeResponse = dropBeforeResponse
        self.expireShellsAfterCommands = expireShellsAfterCommands
        self.quotaFaultEvery = quotaFaultEvery
        self.slowHosts = slowHosts
        self.slowMilliseconds = slowMilliseconds
        self.unreachableHosts = unreachableHosts
        self.authFailHosts = authFailHosts
        self.corruptSealedResponses = corruptSealedResponses
    }

    public static let none = FaultInjection()
}

/// Everything that shapes a simulated fleet. Defaults are those of a fresh Windows Server 2016+ host
/// except where noted.
public struct SimulatorConfig: Sendable {
    /// The documented demo account: `WINFLEET\operator` / `winfleet-demo`.
    public static let demoUser = SimUser(user: "WINFLEET\\operator", password: "winfleet-demo")

    public var hostCount: Int
    /// First loopback address; hosts take consecutive addresses, skipping `.0` and `.255` in the last octet.
    public var firstAddress: String
    /// Listening port of every host; nil means 5985 (http) or 5986 (https).
    public var port: Int?
    public var https: Bool
    public var auth: SimAuth
    public var users: [SimUser]
    /// `winrm/config/service AllowUnencrypted`: plaintext bodies (and Basic) over http.
    public var allowUnencrypted: Bool
    /// Over https with NTLM, require the tls-server-end-point channel binding of our certificate
    /// (`CbtHardeningLevel=Strict`). Ignored over http.
    public var requireChannelBinding: Bool
    /// Delay added before every response, in milliseconds.
    public var latencyMilliseconds: Int
    /// `MaxTimeoutms`: the longest OperationTimeout a request may ask for; longer ones are capped.
    public var operationTimeoutCapSeconds: Double
    /// OperationTimeout used when a request carries none.
    public var defaultOperationTimeoutSeconds: Double
    /// `winrm/config/winrs IdleTimeout`: a shell without requests for this long is removed.
    public var shellIdleTimeoutSeconds: Double
    /// `MaxEnvelopeSizekb` in bytes: larger request bodies are refused with HTTP 413.
    public var maxEnvelopeSize: Int
    /// Close the TCP connection right after the 200 that ends an NTLM handshake (a proxy without
    /// connection affinity does this; the source document warns about it).
    public var dropAfterAuth: Bool
    public var hostNamePrefix: String
    /// Close a keep-alive connection after this many seconds without a request (HTTP.sys
    /// `IdleConnectionTimeout`, 120 s on Windows). nil (default) keeps idle connections open.
    public var connectionIdleTimeoutSeconds: Double?
    /// Keytab with the hosts' `HTTP/<name>.<realm lower-cased>@<realm>` keys (scripts/test-kdc writes
    /// one); with `.negotiate` or `.kerberos`, the hosts accept Kerberos through GSS-API with it.
    public var keytab: String?
    /// The hosts' Kerberos realm; a host's DNS name is its name lower-cased + "." + the realm lower-cased
    /// (WIN0001 → win0001.winfleet.test, SPN HTTP/win0001.winfleet.test@WINFLEET.TEST).
    public var realm: String
    /// MIT replay cache for the hosts' acceptors ("none:" disables replay detection, "file2:/path");
    /// nil uses MIT's default.
    public var kerberosReplayCache: String?
    public var faults: FaultInjection

    public init(hostCount: Int = 1,
                firstAddress: String = "127.1.0.1",
                port: Int? = nil,
                https: Bool = false,
                auth: SimAuth = .ntlm,
                users: [SimUser] = [SimulatorConfig.demoUser],
                allowUnencrypted: Bool = false,
                requireChannelBinding: Bool = true,
                latencyMilliseconds: Int = 0,
                operationTimeoutCapSeconds: Double = 60,
                defaultOperationTimeoutSeconds: Double = 60,
                shellIdleTimeoutSeconds: Double = 7200,
                maxEnvelopeSize: Int = 512_000,
                dropAfterAuth: Bool = false,
                hostNamePrefix: String = "WIN",
                connectionIdleTimeoutSeconds: Double? = nil,
                keytab: String? = nil,
                realm: String = "WINFLEET.TEST",
                kerberosReplayCache: String? = nil,
                faults: FaultInjection = .none) {
        self.hostCount = hostCount
        self.firstAddress = firstAddress
        self.port = port
        self.https = https
        self.auth = auth
        self.users = users
        self.allowUnencrypted = allowUnencrypted
        self.requireChannelBinding = requireChannelBinding
        self.latencyMilliseconds = latencyMilliseconds
        self.operationTimeoutCapSeconds = operationTimeoutCapSeconds
        self.defaultOperationTimeoutSeconds = defaultOperationTimeoutSeconds
        self.shellIdleTimeoutSeconds = shellIdleTimeoutSeconds
        self.maxEnvelopeSize = maxEnvelopeSize
        self.dropAfterAuth = dropAfterAuth
        self.hostNamePrefix = hostNamePrefix
        self.connectionIdleTimeoutSeconds = connectionIdleTimeoutSeconds
        self.keytab = keytab
        self.realm = realm
        self.kerberosReplayCache = kerberosReplayCache
        self.faults = faults
    }

    /// The port every host listens on.
    public var effectivePort: Int { port ?? (https ? 5986 : 5985) }

    /// Whether the hosts accept Kerberos.
    public var acceptsKerberos: Bool { auth.acceptsKerberos && keytab != nil }

    /// DNS name of a simulated host: "win0001.winfleet.test".
    public func dnsName(host name: String) -> String {
        name.lowercased() + "." + realm.lowercased()
    }

    /// The host's Kerberos service principal: "HTTP/win0001.winfleet.test@WINFLEET.TEST".
    public func servicePrincipal(host name: String) -> String {
        "HTTP/\(dnsName(host: name))@\(realm.uppercased())"
    }
}
