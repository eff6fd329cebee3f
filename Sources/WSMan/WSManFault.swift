import ASCIIText
import Foundation

/// A SOAP fault returned by a WinRM service, with the WS-Management details Windows adds
/// (`f:WSManFault` or, on newer servers and for quota errors, `p:MSFT_WmiError`).
public struct WSManFault: Error, Equatable, Sendable, CustomStringConvertible {
    /// `f:WSManFault/@Code` or `p:MSFT_WmiError/p:error_Code` (an HRESULT as unsigned decimal).
    public var code: UInt32?
    /// `f:WSManFault/@Machine`.
    public var machine: String?
    /// The most specific human-readable text: `f:Message` (including nested `f:ProviderFault`
    /// text), `p:Message`, else the SOAP reason; whitespace-trimmed.
    public var message: String
    /// `s:Code/s:Value`, e.g. `s:Receiver` or `s:Sender` (as written, prefix included).
    public var soapCode: String?
    /// `s:Code/s:Subcode/s:Value`, e.g. `w:TimedOut`, `w:InvalidSelectors`.
    public var subcode: String?
    /// `s:Reason/s:Text`, trimmed.
    public var reason: String?
    /// The first `f:ProviderFault` as `provider (path)`, e.g. `Shell cmd plugin (%systemroot%\system32\winrscmd.dll)`.
    public var providerFault: String?
    /// `p:MSFT_WmiError/p:MessageID`, e.g. `HRESULT 0x803381a6`.
    public var messageID: String?
    /// `w:FaultDetail`, e.g. `…/faultDetail/UnexpectedSelectors`.
    public var faultDetail: String?
    /// `a:RelatesTo` of the fault envelope, when present.
    public var relatesTo: String?

    public init(code: UInt32? = nil, machine: String? = nil, message: String, soapCode: String? = nil,
                subcode: String? = nil, reason: String? = nil, providerFault: String? = nil,
                messageID: String? = nil, faultDetail: String? = nil, relatesTo: String? = nil) {
        self.code = code
        self.machine = machine
        self.message = message
        self.soapCode = soapCode
        self.subcode = subcode
        self.reason = reason
        self.providerFault = providerFault
        self.messageID = messageID
        self.faultDetail = faultDetail
        self.relatesTo = relatesTo
    }

    /// 0x80338029 ERROR_WSMAN_OPERATION_TIMEDOUT: Receive saw no output within OperationTimeout.
    public static let operationTimeoutCode: UInt32 = 2150858793
    /// 0x8033805B ERROR_WSMAN_UNEXPECTED_SELECTORS: unknown ShellId (or CommandId).
    public static let invalidSelectorsCode: UInt32 = 2150858843
    /// 0x803381A5 ERROR_WSMAN_QUOTA_MAX_SHELLS (MaxShellsPerUser).
    public static let quotaMaxShellsCode: UInt32 = 2150859173
    /// 0x803381A6 ERROR_WSMAN_QUOTA_MAX_OPERATIONS (MaxConcurrentOperationsPerUser).
    public static let quotaMaxOperationsCode: UInt32 = 2150859174
    /// 0x80338041 `w:SchemaValidationError`: the request was malformed.
    public static let schemaValidationCode: UInt32 = 2150858817

    /// Benign: re-issue the Receive.
    public var isOperationTimeout: Bool { code == WSManFault.operationTimeoutCode }
    /// The shell (or the command) is unknown to the server: idle-timed-out, deleted, service restarted.
    /// Windows uses the same code for an unknown CommandId.
    public var isShellGone: Bool { code == WSManFault.invalidSelectorsCode }
    /// A per-user quota is exhausted (shells or concurrent operations).
    public var isQuota: Bool {
        code == WSManFault.quotaMaxShellsCode || code == WSManFault.quotaMaxOperationsCode
    }

    /// `0x80338029` style rendering of `code`.
    public var hexCode: String? {
        code.map { "0x" + String($0, radix: 16, uppercase: true) }
    }

    public var description: String {
        var text = "WS-Management fault"
        if let code = code {
            text += " \(code) (\(hexCode!)"
            if let subcode = subcode { text += ", \(subcode)" }
            text += ")"
        } else if let subcode = subcode ?? soapCode {
            text += " \(subcode)"
        }
        if let machine = machine, !machine.isEmpty { text += " from \(machine)" }
        text += ": " + message
        if let reason = reason, !reason.isEmpty, !message.contains(reason) {
            text += " (\(reason))"
        }
        return text
    }
}

extension WSManFault {
    /// The fault in a SOAP envelope, nil when its body holds no `s:Fault`.
    public static func parse(envelope: XMLNode) -> WSManFault? {
        guard let fault = envelope.child(WSManNamespace.soap, "Body")?.child(WSManNamespace.soap, "Fault") else {
            return nil
        }
        var result = parse(fault: fault)
        result.relatesTo = envelope.path((WSManNamespace.soap, "Header"), (WSManNamespace.addressing, "RelatesTo"))?
            .trimmedText
        return result
    }

    /// Reads an `s:Fault` element.
    public static func parse(fault: XMLNode) -> WSManFault {
        let soap = WSManNamespace.soap
        let codeNode = fault.child(soap, "Code")
        let soapCode = nonEmpty(codeNode?.child(soap, "Value")?.trimmedText)
        let subcode = nonEmpty(codeNode?.child(soap, "Subcode")?.child(soap, "Value")?.trimmedText)
        let reason = nonEmpty(fault.child(soap, "Reason")?.child(soap, "Text")?.trimmedText)
        let detail = fault.child(soap, "Detail")

        var result = WSManFault(message: "", soapCode: soapCode, subcode: subcode, reason: reason)
        result.faultDetail = nonEmpty(detail?.child(WSManNamespace.wsman, "FaultDetail")?.trimmedText)

        if let wsmanFault = detail?.child(WSManNamespace.wsmanfault, "WSManFault") {
            result.code = wsmanFault.attribute("Code").flatMap(parseCode)
            result.machine = nonEmpty(wsmanFault.attribute("Machine"))
            if let messageNode = wsmanFault.child(WSManNamespace.wsmanfault, "Message") {
                result.message = collapse(messageNode.allText)
                if let provider = messageNode.descendant(WSManNamespace.wsmanfault, "ProviderFault") {
                    let name = provider.attribute("provider") ?? "provider"
                    if let path = provider.attribute("path"), !path.isEmpty {
                        result.providerFault = "\(name) (\(path))"
                    } else {
                        result.providerFault = name
                    }
                }
            }
        } else if let wmiError = detail?.child(WSManNamespace.wmiError, "MSFT_WmiError") {
            let wmi = WSManNamespace.wmiError
            result.code = wmiError.child(wmi, "error_Code").flatMap { parseCode($0.trimmedText) }
            result.messageID = nonEmpty(wmiError.child(wmi, "MessageID")?.trimmedText)
            result.message = nonEmpty(wmiError.child(wmi, "Message")?.trimmedText)
                ?? nonEmpty(wmiError.child(wmi, "error_WindowsErrorMessage")?.trimmedText) ?? ""
        }
        if result.message.isEmpty {
            result.message = reason ?? "no error message in fault (\(subcode ?? soapCode ?? "no fault code"))"
        }
        return result
    }

    /// Decimal (`2150858793`), negative HRESULT (`-2144108503`) or hex (`0x80338029`).
    static func parseCode(_ text: String) -> UInt32? {
        let trimmed = text.trimmingASCIIWhitespace
        if let value = UInt32(trimmed) { return value }
        if let value = Int32(trimmed) { return UInt32(bitPattern: value) }
        if trimmed.lowercased().hasPrefix("0x") { return UInt32(trimmed.dropFirst(2), radix: 16) }
        return nil
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text = text, !text.isEmpty else { return nil }
        return text
    }

    /// Trims and folds the whitespace runs of nested message text into single spaces.
    private static func collapse(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
