// Namespace URIs, action URIs and other fixed strings of WS-Management and WinRS (MS-WSMV).
// Prefixes differ between our requests (wsa:, wsman:, wsmv:) and Windows responses (a:, w:, p:),
// so everything in this module matches on namespace URI, never on prefix.

/// XML namespace URIs used by WS-Management and WinRS messages.
public enum WSManNamespace {
    /// SOAP 1.2 envelope (`s:`).
    public static let soap = "http://www.w3.org/2003/05/soap-envelope"
    /// WS-Addressing (`wsa:` in requests, `a:` in Windows responses).
    public static let addressing = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
    /// DMTF WS-Management (`wsman:` in requests, `w:` in responses).
    public static let wsman = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
    /// Microsoft WS-Management extensions (`wsmv:` in requests, `p:` in responses).
    public static let wsmv = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
    /// Windows Remote Shell (`rsp:`).
    public static let shell = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
    /// WS-Transfer (`x:`).
    public static let transfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
    /// WS-Eventing (`e:`), declared on Windows fault envelopes.
    public static let eventing = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
    /// WS-Enumeration (`n:`), declared on Windows fault envelopes.
    public static let enumeration = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
    /// Fault detail `f:WSManFault`.
    public static let wsmanfault = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
    /// Fault detail `p:MSFT_WmiError` (newer servers, quota errors).
    public static let wmiError = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/MSFT_WmiError"
    /// Alias kept for the name used in the module brief.
    public static let MSFT_WmiError = wmiError
    /// WS-Management configuration resource (`cfg:`).
    public static let config = "http://schemas.microsoft.com/wbem/wsman/1/config"
    /// The reserved `xml:` prefix (`xml:lang`).
    public static let xml = "http://www.w3.org/XML/1998/namespace"
    /// PowerShell serialization (CLIXML) namespace.
    public static let powerShellCLIXML = "http://schemas.microsoft.com/powershell/2004/04"
}

/// `wsa:Action` URIs of the messages this module builds and parses.
public enum WSManAction {
    public static let create = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
    public static let createResponse = "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse"
    public static let delete = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
    public static let deleteResponse = "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse"
    public static let get = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
    public static let getResponse = "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse"
    public static let command = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
    public static let commandResponse = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse"
    public static let send = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send"
    public static let sendResponse = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SendResponse"
    public static let receive = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive"
    public static let receiveResponse = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse"
    public static let signal = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal"
    public static let signalResponse = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SignalResponse"
    /// Action of a WS-Management fault sent by Windows.
    public static let wsmanFault = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
    /// Generic WS-Addressing fault action (e.g. s:MustUnderstand faults).
    public static let addressingFault = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"

    /// The action a successful response to `requestAction` carries (`…/X` → `…/XResponse`).
    public static func response(to requestAction: String) -> String {
        requestAction + "Response"
    }
}

/// Fixed URIs used in WS-Management headers and WinRS bodies.
public enum WSManURI {
    /// `wsa:ReplyTo/wsa:Address` and the `a:To` of every Windows response.
    public static let anonymous = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
    /// Resource URI of the cmd.exe WinRS shell.
    public static let cmdShell = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
    /// Resource URI of the default PowerShell remoting (PSRP) endpoint.
    public static let powerShell = "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"
    /// Resource URI of the WinRM service configuration (`Get` returns `cfg:Config`).
    public static let config = "http://schemas.microsoft.com/wbem/wsman/1/config"
    /// Prefix of `rsp:CommandState/@State` values.
    public static let commandStatePrefix = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/"
    public static let commandStateDone = commandStatePrefix + "Done"
    public static let commandStateRunning = commandStatePrefix + "Running"
    public static let commandStatePending = commandStatePrefix + "Pending"
    /// `w:FaultDetail` Windows adds to invalid-selector faults.
    public static let faultDetailUnexpectedSelectors =
        "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors"
}
