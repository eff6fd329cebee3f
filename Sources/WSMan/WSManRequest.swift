import Foundation

/// Where and how a client talks to one WinRM endpoint; constant for a client's lifetime
/// except `maxEnvelopeSize`, which may be raised after reading the server configuration.
public struct WSManEndpointContext: Sendable, Equatable {
    /// Endpoint URL written into `wsa:To`, e.g. `https://host:5986/wsman`.
    public var to: String
    /// `wsman:OperationTimeout`; Receive long-polls this long before Windows answers with fault 2150858793.
    public var operationTimeoutSeconds: Int
    /// `wsman:MaxEnvelopeSize` in bytes (153600 is accepted by every server version).
    public var maxEnvelopeSize: Int
    /// `xml:lang` of `wsman:Locale` and `wsmv:DataLocale`.
    public var locale: String
    /// `wsmv:SessionId`, `uuid:` + upper-case UUID, constant per client.
    public var sessionID: String
    /// `wsman:ResourceURI` of shell operations (cmd.exe WinRS unless changed).
    public var resourceURI: String

    public init(to: String, operationTimeoutSeconds: Int = 20, maxEnvelopeSize: Int = 153600,
                locale: String = "en-US", sessionID: String = WSManEndpointContext.newSessionID(),
                resourceURI: String = WSManURI.cmdShell) {
        self.to = to
        self.operationTimeoutSeconds = operationTimeoutSeconds
        self.maxEnvelopeSize = maxEnvelopeSize
        self.locale = locale
        self.sessionID = sessionID
        self.resourceURI = resourceURI
    }

    /// A fresh `uuid:XXXXXXXX-…` session id (upper case, as pypsrp and Windows write them).
    public static func newSessionID() -> String {
        "uuid:" + MessageIdentifier.next()
    }
}

/// One SOAP request ready to be sent.
public struct WSManRequest: Sendable, Equatable {
    /// `wsa:MessageID`; the response's `a:RelatesTo` must equal it.
    public let messageID: String
    /// The complete envelope.
    public let xml: String
    /// `wsa:Action`.
    public let action: String
    /// ShellId selector, when the request addresses a shell.
    public let shellID: String?
    /// CommandId the request is about (Send, Receive, Signal), used to filter Receive output.
    public let commandID: String?

    public init(messageID: String, xml: String, action: String, shellID: String? = nil, commandID: String? = nil) {
        self.messageID = messageID
        self.xml = xml
        self.action = action
        self.shellID = shellID
        self.commandID = commandID
    }

    /// The envelope as UTF-8 bytes for the HTTP body (`application/soap+xml;charset=UTF-8`).
    public var body: Data { Data(xml.utf8) }
}

/// One `wsman:Option` of a request's `wsman:OptionSet`.
public struct WSManOption: Sendable, Equatable {
    public var name: String
    public var value: String
    /// Adds `MustComply="true"`: the server must fail rather than ignore the option.
    public var mustComply: Bool

    public init(name: String, value: String, mustComply: Bool = false) {
        self.name = name
        self.value = value
        self.mustComply = mustComply
    }
}

/// Envelope construction shared by all WS-Management requests.
public enum WSMan {
    /// A fresh `uuid:` message id, upper case.
    public static func newMessageID() -> String {
        "uuid:" + MessageIdentifier.next()
    }

    /// Builds a request envelope with the full header Windows expects, in the order pypsrp sends
    /// (and the recorded fixtures show): Action, DataLocale, Locale, MaxEnvelopeSize, MessageID,
    /// OperationTimeout, ReplyTo, ResourceURI, SessionId, To, OptionSet, SelectorSet.
    ///
    /// - Parameters:
    ///   - resourceURI: overrides `ctx.resourceURI` (e.g. the config resource for `Get`).
    ///   - shellID: adds `wsman:SelectorSet/wsman:Selector Name="ShellId"`.
    ///   - body: writes the children of `s:Body` using the `rsp:` prefix for the shell namespace;
    ///     nil gives `<s:Body />`.
    public static func request(_ ctx: WSManEndpointContext, action: String, resourceURI: String? = nil,
                               shellID: String? = nil, commandID: String? = nil,
                               options: [WSManOption] = [], bodyCapacity: Int = 0,
                               body: ((inout XMLWriter) -> Void)? = nil) -> WSManRequest {
        let messageID = newMessageID()
        var w = XMLWriter(capacity: 1600 + bodyCapacity)
        var envelopeAttributes: [(String, String)] = []
        if body != nil { envelopeAttributes.append(("xmlns:rsp", WSManNamespace.shell)) }
        envelopeAttributes += [
            ("xmlns:s", WSManNamespace.soap),
            ("xmlns:wsa", WSManNamespace.addressing),
            ("xmlns:wsman", WSManNamespace.wsman),
            ("xmlns:wsmv", WSManNamespace.wsmv),
        ]
        w.open("s:Envelope", envelopeAttributes)
        w.open("s:Header")
        w.element("wsa:Action", [("s:mustUnderstand", "true")], text: action)
        w.empty("wsmv:DataLocale", [("s:mustUnderstand", "false"), ("xml:lang", ctx.locale)])
        w.empty("wsman:Locale", [("s:mustUnderstand", "false"), ("xml:lang", ctx.locale)])
        w.element("wsman:MaxEnvelopeSize", [("s:mustUnderstand", "true")], text: String(ctx.maxEnvelopeSize))
        w.element("wsa:MessageID", text: messageID)
        w.element("wsman:OperationTimeout", text: WSManDuration.format(seconds: ctx.operationTimeoutSeconds))
        w.open("wsa:ReplyTo")
        w.element("wsa:Address", [("s:mustUnderstand", "true")], text: WSManURI.anonymous)
        w.close("wsa:ReplyTo")
        w.element("wsman:ResourceURI", [("s:mustUnderstand", "true")], text: resourceURI ?? ctx.resourceURI)
        w.element("wsmv:SessionId", [("s:mustUnderstand", "false")], text: ctx.sessionID)
        w.element("wsa:To", text: ctx.to)
        if !options.isEmpty {
            w.open("wsman:OptionSet", [("s:mustUnderstand", "true")])
            for option in options {
                var attributes: [(String, String)] = []
                if option.mustComply { attributes.append(("MustComply", "true")) }
                attributes.append(("Name", option.name))
                w.element("wsman:Option", attributes, text: option.value)
            }
            w.close("wsman:OptionSet")
        }
        if let shellID = shellID {
            w.open("wsman:SelectorSet")
            w.element("wsman:Selector", [("Name", "ShellId")], text: shellID)
            w.close("wsman:SelectorSet")
        }
        w.close("s:Header")
        if let body = body {
            w.open("s:Body")
            body(&w)
            w.close("s:Body")
        } else {
            w.empty("s:Body")
        }
        w.close("s:Envelope")
        return WSManRequest(messageID: messageID, xml: w.output, action: action,
                            shellID: shellID, commandID: commandID)
    }
}
