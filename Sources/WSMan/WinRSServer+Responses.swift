import Foundation

/// One `rsp:Stream` chunk of a Receive response.
public struct ReceiveChunk: Sendable, Equatable {
    /// `stdout` or `stderr` (or another stream name the shell declared).
    public var stream: String
    public var data: Data

    public init(stream: String, data: Data) {
        self.stream = stream
        self.data = data
    }

    public static func stdout(_ data: Data) -> ReceiveChunk { ReceiveChunk(stream: "stdout", data: data) }
    public static func stderr(_ data: Data) -> ReceiveChunk { ReceiveChunk(stream: "stderr", data: data) }
}

/// Response builders. Namespace declarations, prefixes and element order copy the responses
/// recorded from Windows (see fixtures/windows-responses): `s:`, `a:`, `x:`, `w:`, `rsp:`, `p:`,
/// `xml:lang="en-US"` on the envelope, a fresh `a:MessageID`, `a:To` anonymous, `a:RelatesTo`
/// the request's MessageID.
extension WinRSServer {
    private enum Declared {
        case s, a, x, e, n, w, rsp, p

        var attribute: (String, String) {
            switch self {
            case .s: return ("xmlns:s", WSManNamespace.soap)
            case .a: return ("xmlns:a", WSManNamespace.addressing)
            case .x: return ("xmlns:x", WSManNamespace.transfer)
            case .e: return ("xmlns:e", WSManNamespace.eventing)
            case .n: return ("xmlns:n", WSManNamespace.enumeration)
            case .w: return ("xmlns:w", WSManNamespace.wsman)
            case .rsp: return ("xmlns:rsp", WSManNamespace.shell)
            case .p: return ("xmlns:p", WSManNamespace.wsmv)
            }
        }
    }

    /// Writes envelope, header and `<s:Body>`; `body` writes the body's content.
    private static func response(action: String, relatesTo: String?, declaring namespaces: [Declared],
                                 locale: String = "en-US", capacity: Int = 1024,
                                 body: (inout XMLWriter) -> Void) -> String {
        var w = XMLWriter(capacity: 900 + capacity)
        w.open("s:Envelope", [("xml:lang", locale)] + namespaces.map(\.attribute))
        w.open("s:Header")
        w.element("a:Action", text: action)
        w.element("a:MessageID", text: WSMan.newMessageID())
        w.element("a:To", text: WSManURI.anonymous)
        if let relatesTo = relatesTo {
            w.element("a:RelatesTo", text: relatesTo)
        }
        w.close("s:Header")
        w.open("s:Body")
        body(&w)
        w.close("s:Body")
        w.close("s:Envelope")
        return w.output
    }

    // MARK: Create

    /// CreateResponse: `x:ResourceCreated` with the ShellId selector, then the `rsp:Shell` echo
    /// newer Windows versions add.
    /// - Parameters:
    ///   - address: the endpoint URL the client used (`a:Address`).
    ///   - owner: account that owns the shell, e.g. `vagrant` or `DOMAIN\user`.
    ///   - clientIP: the peer address as seen by the server.
    ///   - idleTimeoutSeconds: the idle timeout in force (7200 is the Windows default).
    ///   - options: the shell options the client asked for (environment, working directory, streams).
    public static func createResponse(relatesTo: String, shellID: String, address: String, owner: String,
                                      clientIP: String, idleTimeoutSeconds: Double = 7200,
                                      options: ShellOptions = ShellOptions(),
                                      resourceURI: String = WSManURI.cmdShell) -> String {
        response(action: WSManAction.createResponse, relatesTo: relatesTo, declaring: [.s, .a, .x, .w, .rsp, .p],
                 capacity: 1200) { w in
            w.open("x:ResourceCreated")
            w.element("a:Address", text: address)
            w.open("a:ReferenceParameters")
            w.element("w:ResourceURI", text: resourceURI)
            w.open("w:SelectorSet")
            w.element("w:Selector", [("Name", "ShellId")], text: shellID)
            w.close("w:SelectorSet")
            w.close("a:ReferenceParameters")
            w.close("x:ResourceCreated")
            writeShell(&w, shellID: shellID, owner: owner, clientIP: clientIP, idleTimeoutSeconds: idleTimeoutSeconds,
                       options: options, resourceURI: resourceURI, declareNamespace: true)
        }
    }

    /// The answer to a WS-Transfer Get of a shell (`winrm get windows/shell/cmd?ShellId=…`):
    /// the shell's properties. Clients use it as a keep-alive that touches the shell.
    public static func getShellResponse(relatesTo: String, shellID: String, owner: String, clientIP: String,
                                        idleTimeoutSeconds: Double = 7200, options: ShellOptions = ShellOptions(),
                                        resourceURI: String = WSManURI.cmdShell) -> String {
        response(action: WSManAction.getResponse, relatesTo: relatesTo, declaring: [.s, .a, .w, .rsp, .p],
                 capacity: 900) { w in
            writeShell(&w, shellID: shellID, owner: owner, clientIP: clientIP, idleTimeoutSeconds: idleTimeoutSeconds,
                       options: options, resourceURI: resourceURI, declareNamespace: false)
        }
    }

    /// `rsp:Shell` with the properties Windows reports for a shell (Create and Get answers).
    static func writeShell(_ w: inout XMLWriter, shellID: String, owner: String, clientIP: String,
                           idleTimeoutSeconds: Double, options: ShellOptions, resourceURI: String,
                           declareNamespace: Bool) {
        w.open("rsp:Shell", declareNamespace ? [("xmlns:rsp", WSManNamespace.shell)] : [])
        w.element("rsp:ShellId", text: shellID)
        w.element("rsp:ResourceUri", text: resourceURI)
        w.element("rsp:Owner", text: owner)
        w.element("rsp:ClientIP", text: clientIP)
        w.shellEnvironment(options.environment)
        if let directory = options.workingDirectory {
            w.element("rsp:WorkingDirectory", text: directory)
        }
        w.element("rsp:IdleTimeOut", text: WSManDuration.formatMilliseconds(seconds: idleTimeoutSeconds))
        w.element("rsp:InputStreams", text: options.inputStreams)
        w.element("rsp:OutputStreams", text: options.outputStreams)
        w.element("rsp:ShellRunTime", text: "P0DT0H0M0S")
        w.element("rsp:ShellInactivity", text: "P0DT0H0M0S")
        w.close("rsp:Shell")
    }

    // MARK: Command

    public static func commandResponse(relatesTo: String, commandID: String) -> String {
        response(action: WSManAction.commandResponse, relatesTo: relatesTo, declaring: [.s, .a, .x, .w, .rsp, .p]) { w in
            w.open("rsp:CommandResponse")
            w.element("rsp:CommandId", text: commandID)
            w.close("rsp:CommandResponse")
        }
    }

    // MARK: Receive

    /// ReceiveResponse with stdout chunks, then stderr chunks, then (when `done`) the two
    /// `End="true"` markers, then `rsp:CommandState` Done (with `rsp:ExitCode` when given) or Running.
    /// Empty chunks are left out.
    public static func receiveResponse(relatesTo: String, commandID: String, stdout: [Data] = [],
                                       stderr: [Data] = [], done: Bool, exitCode: Int32? = nil) -> String {
        receiveResponse(relatesTo: relatesTo, commandID: commandID,
                        chunks: stdout.map(ReceiveChunk.stdout) + stderr.map(ReceiveChunk.stderr),
                        done: done, exitCode: exitCode)
    }

    /// ReceiveResponse with chunks in the given order (interleaved stdout/stderr as produced).
    public static func receiveResponse(relatesTo: String, commandID: String, chunks: [ReceiveChunk],
                                       done: Bool, exitCode: Int32? = nil) -> String {
        let payload = chunks.reduce(0) { $0 + ($1.data.count + 2) / 3 * 4 + 120 }
        return response(action: WSManAction.receiveResponse, relatesTo: relatesTo, declaring: [.s, .a, .w, .rsp, .p],
                        capacity: payload + 400) { w in
            w.open("rsp:ReceiveResponse")
            for chunk in chunks where !chunk.data.isEmpty {
                w.element("rsp:Stream", [("Name", chunk.stream), ("CommandId", commandID)],
                          text: chunk.data.base64EncodedString())
            }
            if done {
                w.element("rsp:Stream", [("Name", "stdout"), ("CommandId", commandID), ("End", "true")], text: "")
                w.element("rsp:Stream", [("Name", "stderr"), ("CommandId", commandID), ("End", "true")], text: "")
                w.open("rsp:CommandState", [("CommandId", commandID), ("State", WSManURI.commandStateDone)])
                if let exitCode = exitCode {
                    w.element("rsp:ExitCode", text: String(exitCode))
                }
                w.close("rsp:CommandState")
            } else {
                w.element("rsp:CommandState", [("CommandId", commandID), ("State", WSManURI.commandStateRunning)],
                          text: "")
            }
            w.close("rsp:ReceiveResponse")
        }
    }

    // MARK: Send, Signal, Delete

    public static func sendResponse(relatesTo: String) -> String {
        response(action: WSManAction.sendResponse, relatesTo: relatesTo, declaring: [.s, .a, .x, .w, .rsp, .p]) { w in
            w.raw("<rsp:SendResponse/>")
        }
    }

    public static func signalResponse(relatesTo: String) -> String {
        response(action: WSManAction.signalResponse, relatesTo: relatesTo, declaring: [.s, .a, .x, .w, .rsp, .p]) { w in
            w.raw("<rsp:SignalResponse/>")
        }
    }

    public static func deleteResponse(relatesTo: String) -> String {
        response(action: WSManAction.deleteResponse, relatesTo: relatesTo, declaring: [.s, .a, .w, .p]) { _ in }
    }

    // MARK: Faults

    /// A WS-Management fault in Windows' shape (send it with HTTP 500).
    /// - Parameters:
    ///   - relatesTo: the request's MessageID; nil when it could not be read.
    ///   - code: the `f:WSManFault/@Code` (e.g. 2150858793).
    ///   - machine: `f:WSManFault/@Machine`, the server's name or address.
    ///   - message: `f:Message` text.
    ///   - subcode: `s:Subcode/s:Value`, e.g. `w:TimedOut`, `w:InvalidSelectors`.
    ///   - soapCode: `s:Receiver` (server-side condition) or `s:Sender` (bad request).
    ///   - reason: `s:Reason/s:Text`.
    ///   - faultDetail: optional `w:FaultDetail` URI Windows adds to some faults.
    public static func fault(relatesTo: String?, code: UInt32, machine: String, message: String,
                             subcode: String, soapCode: String, reason: String,
                             faultDetail: String? = nil) -> String {
        faultEnvelope(relatesTo: relatesTo, subcode: subcode, soapCode: soapCode, reason: reason) { w in
            if let faultDetail = faultDetail {
                w.element("w:FaultDetail", text: faultDetail)
            }
            w.open("f:WSManFault", [("xmlns:f", WSManNamespace.wsmanfault), ("Code", String(code)), ("Machine", machine)])
            w.element("f:Message", text: message)
            w.close("f:WSManFault")
        }
    }

    /// Windows' text for fault 2150858793.
    public static let operationTimeoutText =
        "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "
    /// Windows' reason text for fault 2150858843.
    public static let invalidSelectorsText =
        "The WS-Management service cannot process the request because the request contained invalid selectors for the resource. "
    /// Windows' message for fault 2150858843 caused by an unknown CommandId.
    public static let unknownCommandText =
        "The Windows Remote Shell received a request to perform an operation on a command identifier that does not exist. "
        + "Either the command has completed execution or the client specified an invalid command identifier. "

    /// Fault 2150858793 `w:TimedOut`: a Receive saw no output within OperationTimeout.
    public static func operationTimeoutFault(relatesTo: String, machine: String) -> String {
        fault(relatesTo: relatesTo, code: WSManFault.operationTimeoutCode, machine: machine,
              message: operationTimeoutText, subcode: "w:TimedOut", soapCode: "s:Receiver",
              reason: operationTimeoutText)
    }

    /// Fault 2150858843 `w:InvalidSelectors`: unknown ShellId, or (`unknownCommand`) unknown CommandId.
    public static func invalidSelectorsFault(relatesTo: String, machine: String, unknownCommand: Bool = false) -> String {
        fault(relatesTo: relatesTo, code: WSManFault.invalidSelectorsCode, machine: machine,
              message: unknownCommand ? unknownCommandText : invalidSelectorsText,
              subcode: "w:InvalidSelectors", soapCode: "s:Sender", reason: invalidSelectorsText,
              faultDetail: WSManURI.faultDetailUnexpectedSelectors)
    }

    /// The fault Windows answers a malformed request with.
    public static func fault(for error: WinRSRequestError, machine: String) -> String {
        fault(relatesTo: error.messageID, code: error.code, machine: machine, message: error.message,
              subcode: error.subcode, soapCode: "s:Sender", reason: error.message)
    }

    /// A fault whose detail is a `p:MSFT_WmiError` (the form newer servers use for quota errors).
    public static func wmiErrorFault(relatesTo: String?, code: UInt32, message: String, subcode: String = "w:InternalError",
                                     soapCode: String = "s:Receiver", reason: String) -> String {
        faultEnvelope(relatesTo: relatesTo, subcode: subcode, soapCode: soapCode, reason: reason) { w in
            w.open("p:MSFT_WmiError", [
                ("b:IsCIM_Error", "true"),
                ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
                ("xmlns:b", "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd"),
                ("xmlns:p", WSManNamespace.wmiError),
                ("xmlns:cim", "http://schemas.dmtf.org/wbem/wscim/1/common"),
                ("xsi:type", "p:MSFT_WmiError_Type"),
            ])
            w.element("p:Message", [("xsi:type", "cim:cimString")], text: message)
            w.element("p:MessageID", [("xsi:type", "cim:cimString")],
                      text: "HRESULT 0x" + String(code, radix: 16))
            w.element("p:error_Code", [("xsi:type", "cim:cimUnsignedInt")], text: String(code))
            w.element("p:error_Type", [("xsi:type", "cim:cimString")], text: "HRESULT")
            w.close("p:MSFT_WmiError")
        }
    }

    private static func faultEnvelope(relatesTo: String?, subcode: String, soapCode: String, reason: String,
                                      detail: (inout XMLWriter) -> Void) -> String {
        response(action: WSManAction.wsmanFault, relatesTo: relatesTo, declaring: [.s, .a, .x, .e, .n, .w, .p],
                 capacity: 800) { w in
            w.open("s:Fault")
            w.open("s:Code")
            w.element("s:Value", text: soapCode)
            w.open("s:Subcode")
            w.element("s:Value", text: subcode)
            w.close("s:Subcode")
            w.close("s:Code")
            w.open("s:Reason")
            w.element("s:Text", [("xml:lang", "en-US")], text: reason)
            w.close("s:Reason")
            w.open("s:Detail")
            detail(&w)
            w.close("s:Detail")
            w.close("s:Fault")
        }
    }
}
