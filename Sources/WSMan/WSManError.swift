/// Why a WS-Management exchange did not produce the expected response.
public enum WSManError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The server answered with a SOAP fault.
    case fault(WSManFault)
    /// The HTTP body is not a SOAP envelope (proxy error page, empty 500, plain text).
    /// `summary` says what came back and from where, e.g. `from 127.0.0.1:3128: text/html page "…"`.
    case notSOAP(status: Int, contentType: String?, summary: String)
    /// The response's `a:RelatesTo` is not the request's MessageID.
    case relatesToMismatch(expected: String, got: String?)
    /// A SOAP envelope of the wrong shape (missing element, wrong action, bad base64).
    case unexpectedResponse(String)

    public var description: String {
        switch self {
        case .fault(let fault):
            return fault.description
        case .notSOAP(let status, _, let summary):
            return "HTTP \(status) \(summary) — not a WinRM (SOAP) response"
        case .relatesToMismatch(let expected, let got):
            let gotText = got.map { "RelatesTo \($0)" } ?? "no RelatesTo"
            return "response carries \(gotText) but the request's MessageID is \(expected): it answers a "
                + "different request (responses out of order, e.g. a proxy without connection affinity); "
                + "reconnect the session"
        case .unexpectedResponse(let detail):
            return "unexpected WS-Management response: \(detail)"
        }
    }

    /// The fault, when this error is one.
    public var fault: WSManFault? {
        if case .fault(let fault) = self { return fault }
        return nil
    }
}
