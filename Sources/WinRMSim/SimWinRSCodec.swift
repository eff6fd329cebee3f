import Foundation
import WSMan

/// Glue between SOAP (module WSMan) and the engine's own request/outcome types.
enum SimWinRSCodec {
    static func hostRequest(from request: WinRSIncomingRequest) -> SimHostRequest {
        let operation: SimHostRequest.Operation
        switch request.action {
        case .create(let options):
            operation = .create(environment: options.environment.map { ($0.name, $0.value) },
                                workingDirectory: options.workingDirectory,
                                idleTimeoutSeconds: options.idleTimeoutSeconds.map(Double.init),
                                codepage: options.codepage)
        case .command(let command, let arguments, _):
            operation = .command(command: command, arguments: arguments)
        case .send(let commandID, _, let data, let end):
            operation = .send(commandID: commandID, data: data, end: end)
        case .receive(let commandID):
            operation = .receive(commandID: commandID)
        case .signal(let commandID, let code):
            operation = .signal(commandID: commandID, code: code)
        case .delete:
            operation = .delete
        case .other(let action):
            operation = .other(action: action)
        }
        return SimHostRequest(operation: operation, shellID: request.shellID,
                              operationTimeoutSeconds: request.operationTimeoutSeconds,
                              maxEnvelopeSize: request.maxEnvelopeSize)
    }

    /// Short action name for counters.
    static func actionName(_ request: WinRSIncomingRequest) -> String {
        switch request.action {
        case .create: return "Create"
        case .command: return "Command"
        case .send: return "Send"
        case .receive: return "Receive"
        case .signal: return "Signal"
        case .delete: return "Delete"
        case .other(let action): return action
        }
    }

    /// The SOAP answer for an outcome; HTTP status 200, or 500 for faults (as Windows).
    static func render(_ outcome: SimHostOutcome, request: WinRSIncomingRequest, endpoint: String,
                       machine: String) -> (status: Int, body: String)? {
        let relatesTo = request.messageID
        switch outcome {
        case .created(let shellID, let owner, let clientIP, let idle, _):
            var options = ShellOptions()
            if case .create(let requested) = request.action { options = requested }
            return (200, WinRSServer.createResponse(relatesTo: relatesTo, shellID: shellID, address: endpoint,
                                                     owner: owner, clientIP: clientIP, idleTimeoutSeconds: idle,
                                                     options: options,
                                                     resourceURI: request.resourceURI ?? WSManURI.cmdShell))
        case .shellProperties(let shellID, let owner, let clientIP, let idle):
            return (200, WinRSServer.getShellResponse(relatesTo: relatesTo, shellID: shellID, owner: owner, clientIP: clientIP,
                                                      idleTimeoutSeconds: idle, resourceURI: request.resourceURI ?? WSManURI.cmdShell))
        case .commandStarted(let commandID):
            return (200, WinRSServer.commandResponse(relatesTo: relatesTo, commandID: commandID))
        case .sent:
            return (200, WinRSServer.sendResponse(relatesTo: relatesTo))
        case .received(let commandID, let streams, let state):
            let chunks = streams.map { ReceiveChunk(stream: $0.0.rawValue, data: $0.1) }
            switch state {
            case .running:
                return (200, WinRSServer.receiveResponse(relatesTo: relatesTo, commandID: commandID, chunks: chunks,
                                                          done: false))
            case .done(let exitCode):
                return (200, WinRSServer.receiveResponse(relatesTo: relatesTo, commandID: commandID, chunks: chunks,
                                                          done: true, exitCode: exitCode))
            }
        case .signalled:
            return (200, WinRSServer.signalResponse(relatesTo: relatesTo))
        case .deleted:
            return (200, WinRSServer.deleteResponse(relatesTo: relatesTo))
        case .fault(let fault):
            return (500, renderFault(fault, relatesTo: relatesTo, machine: machine))
        case .wait:
            return nil
        }
    }

    static func renderFault(_ fault: SimHostOutcome.Fault, relatesTo: String, machine: String) -> String {
        switch fault {
        case .unknownShell:
            return WinRSServer.invalidSelectorsFault(relatesTo: relatesTo, machine: machine)
        case .unknownCommand:
            return WinRSServer.invalidSelectorsFault(relatesTo: relatesTo, machine: machine, unknownCommand: true)
        case .missingShellID:
            return WinRSServer.invalidSelectorsFault(relatesTo: relatesTo, machine: machine)
        case .operationTimedOut:
            return WinRSServer.operationTimeoutFault(relatesTo: relatesTo, machine: machine)
        case .quotaExceeded:
            let text = "The WS-Management service cannot process the request. This user is allowed a maximum number of 1500 concurrent operations, which has been exceeded. Close existing operations for this user, or raise the quota for this user. "
            return WinRSServer.wmiErrorFault(relatesTo: relatesTo, code: WSManFault.quotaMaxOperationsCode,
                                             message: text, reason: text)
        case .actionNotSupported(let action):
            // ERROR_WSMAN_ACTION_NOT_SUPPORTED (0x80338002); the simulator implements WinRS cmd shells only.
            let text = "The WS-Management service cannot process the request. The resource URI does not support the \(action) operation. "
            return WinRSServer.fault(relatesTo: relatesTo, code: 2150858754, machine: machine, message: text,
                                     subcode: "a:ActionNotSupported", soapCode: "s:Sender", reason: text)
        }
    }
}
