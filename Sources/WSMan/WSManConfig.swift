import Foundation

/// The parts of the WinRM service configuration (`winrm get winrm/config`) that bound a client.
public struct WSManServiceConfig: Sendable, Equatable {
    /// `cfg:MaxEnvelopeSizekb` (150 on 2008-era hosts, 500 later). Requests may use up to this × 1024 bytes.
    public var maxEnvelopeSizeKB: Int?
    /// `cfg:MaxTimeoutms`: the largest OperationTimeout the server accepts.
    public var maxTimeoutMs: Int?
    /// `cfg:Service/cfg:MaxConcurrentOperationsPerUser`.
    public var maxConcurrentOperationsPerUser: Int?
    /// `cfg:Winrs/cfg:MaxShellsPerUser`.
    public var maxShellsPerUser: Int?
    /// `cfg:Winrs/cfg:IdleTimeout` in milliseconds.
    public var shellIdleTimeoutMs: Int?

    public init(maxEnvelopeSizeKB: Int? = nil, maxTimeoutMs: Int? = nil, maxConcurrentOperationsPerUser: Int? = nil,
                maxShellsPerUser: Int? = nil, shellIdleTimeoutMs: Int? = nil) {
        self.maxEnvelopeSizeKB = maxEnvelopeSizeKB
        self.maxTimeoutMs = maxTimeoutMs
        self.maxConcurrentOperationsPerUser = maxConcurrentOperationsPerUser
        self.maxShellsPerUser = maxShellsPerUser
        self.shellIdleTimeoutMs = shellIdleTimeoutMs
    }
}

/// Reading the service configuration (transfer `Get` on the config resource), as pypsrp's
/// `update_max_payload_size` does. Needs an administrator account on the target.
public enum WSManConfig {
    public static func getRequest(_ ctx: WSManEndpointContext) -> WSManRequest {
        WSMan.request(ctx, action: WSManAction.get, resourceURI: WSManURI.config)
    }

    public static func parse(_ data: Data, request: WSManRequest) throws -> WSManServiceConfig {
        try parse(envelope: WSManResponse.document(data), request: request)
    }

    public static func parse(envelope: XMLNode, request: WSManRequest) throws -> WSManServiceConfig {
        let body = try WinRSResponse.validatedBody(envelope, request: request)
        let cfg = WSManNamespace.config
        guard let config = body.child(cfg, "Config") else {
            throw WSManError.unexpectedResponse("GetResponse without cfg:Config")
        }
        func number(_ node: XMLNode?) -> Int? { node.flatMap { Int($0.trimmedText) } }
        return WSManServiceConfig(
            maxEnvelopeSizeKB: number(config.child(cfg, "MaxEnvelopeSizekb")),
            maxTimeoutMs: number(config.child(cfg, "MaxTimeoutms")),
            maxConcurrentOperationsPerUser: number(config.child(cfg, "Service")?.child(cfg, "MaxConcurrentOperationsPerUser")),
            maxShellsPerUser: number(config.child(cfg, "Winrs")?.child(cfg, "MaxShellsPerUser")),
            shellIdleTimeoutMs: number(config.child(cfg, "Winrs")?.child(cfg, "IdleTimeout")))
    }
}

extension WinRSServer {
    /// GetResponse for the config resource with the values that matter to clients.
    public static func configResponse(relatesTo: String, config: WSManServiceConfig) -> String {
        var w = XMLWriter(capacity: 1400)
        w.open("s:Envelope", [("xml:lang", "en-US"), ("xmlns:s", WSManNamespace.soap),
                              ("xmlns:a", WSManNamespace.addressing), ("xmlns:x", WSManNamespace.transfer),
                              ("xmlns:w", WSManNamespace.wsman), ("xmlns:p", WSManNamespace.wsmv)])
        w.open("s:Header")
        w.element("a:Action", text: WSManAction.getResponse)
        w.element("a:MessageID", text: WSMan.newMessageID())
        w.element("a:To", text: WSManURI.anonymous)
        w.element("a:RelatesTo", text: relatesTo)
        w.close("s:Header")
        w.open("s:Body")
        w.open("cfg:Config", [("xmlns:cfg", WSManNamespace.config)])
        if let value = config.maxEnvelopeSizeKB { w.element("cfg:MaxEnvelopeSizekb", text: String(value)) }
        if let value = config.maxTimeoutMs { w.element("cfg:MaxTimeoutms", text: String(value)) }
        if let value = config.maxConcurrentOperationsPerUser {
            w.open("cfg:Service")
            w.element("cfg:MaxConcurrentOperationsPerUser", text: String(value))
            w.close("cfg:Service")
        }
        if config.shellIdleTimeoutMs != nil || config.maxShellsPerUser != nil {
            w.open("cfg:Winrs")
            if let value = config.shellIdleTimeoutMs { w.element("cfg:IdleTimeout", text: String(value)) }
            if let value = config.maxShellsPerUser { w.element("cfg:MaxShellsPerUser", text: String(value)) }
            w.close("cfg:Winrs")
        }
        w.close("cfg:Config")
        w.close("s:Body")
        w.close("s:Envelope")
        return w.output
    }
}
