// Turns a classified error into a plain sentence (what happened) and a remedy (what to do), naming the
// route and proxy where the error is the route's doing. A pure function: the health view and the output
// view show its result, the tests pin it.

public struct ErrorExplanation: Equatable, Sendable {
    public var title: String
    public var explanation: String
    public var remedy: String

    public init(title: String, explanation: String, remedy: String) {
        self.title = title
        self.explanation = explanation
        self.remedy = remedy
    }

    /// The order problems are listed in: the ones an operator can fix in configuration first.
    public static let kindOrder = ["auth", "affinity", "proxy_auth", "proxy", "policy", "tls", "network", "timeout",
                                   "wsman_fault", "protocol"]

    public static func explain(_ error: ErrorInfo, route: RouteSummary?, mechanism: String? = nil) -> ErrorExplanation {
        let routeName = route?.name ?? "(unknown route)"
        let isDirect = route.map { $0.proxy == "direct" || $0.mode == "direct" } ?? true
        let proxyText = route.map { isDirect ? "" : " \($0.name) (\($0.proxy))" } ?? ""
        switch error.kind {
        case "auth":
            let kerberos = mechanism == "kerberos"
            return ErrorExplanation(
                title: "authentication refused",
                explanation: "the host refused the credentials (HTTP 401 after the last handshake leg)"
                    + (kerberos ? "; Kerberos was used" : ""),
                remedy: kerberos
                    ? "check the user and realm, that an SPN HTTP/<host> exists, and that clocks are within 5 minutes"
                    : "check user (DOMAIN\\user or user@REALM) and password, and that the account may use WinRM "
                        + "(Administrators or Remote Management Users on the host)")
        case "affinity":
            if isDirect {
                return ErrorExplanation(
                    title: "connection affinity lost",
                    explanation: "the TCP connection changed between the authentication legs on route \(routeName): "
                        + "NTLM and Negotiate authenticate one TCP connection, not a client",
                    remedy: "make the load balancer or server keep the connection (no per-request balancing, "
                        + "longer keep-alive), or use Kerberos, which is not bound to a connection")
            }
            if route?.mode == "tunnel" {
                return ErrorExplanation(
                    title: "connection affinity lost",
                    explanation: "the proxy\(proxyText) closed the CONNECT tunnel between the authentication legs: "
                        + "NTLM needs one TCP connection end to end",
                    remedy: "raise the proxy's idle and persistent-connection timeouts for this route, "
                        + "or use Kerberos")
            }
            return ErrorExplanation(
                title: "connection affinity lost",
                explanation: "the proxy\(proxyText) did not keep connection affinity: NTLM needs one TCP connection "
                    + "end to end",
                remedy: "use mode tunnel for route \(routeName), or a proxy that pins connection-auth connections")
        case "proxy_auth":
            return ErrorExplanation(
                title: "proxy wants credentials",
                explanation: "the proxy\(proxyText) answered 407 Proxy Authentication Required",
                remedy: "give route \(routeName) proxy credentials, or let the proxy pass the WinRM hosts "
                    + "without authentication")
        case "proxy":
            return ErrorExplanation(
                title: "proxy refused or failed",
                explanation: "the proxy\(proxyText) could not or would not reach the host (refused CONNECT, "
                    + "502/503, or the proxy is down)",
                remedy: "check that the proxy runs and its ACL allows CONNECT to ports 5985/5986 "
                    + "(squid allows CONNECT only to SSL_ports by default)")
        case "policy":
            return ErrorExplanation(
                title: "refused by policy",
                explanation: "winfleet's policy refused this connection before sending credentials",
                remedy: "use HTTPS or message encryption, or change the route or host settings the message names")
        case "tls":
            return ErrorExplanation(
                title: "TLS failed",
                explanation: "the HTTPS handshake failed (untrusted certificate, wrong name, or old protocol)",
                remedy: "trust the issuing CA, or fix the certificate's name to match the host address")
        case "network":
            return ErrorExplanation(
                title: "host unreachable",
                explanation: isDirect
                    ? "no connection to the host (DNS, refused, or unreachable)"
                    : "the proxy\(proxyText) could not be reached, or it could not reach the host",
                remedy: "check the address and port (5985 HTTP, 5986 HTTPS), the firewall, and that the WinRM "
                    + "listener exists (winrm quickconfig)")
        case "timeout":
            return ErrorExplanation(
                title: "timed out",
                explanation: "no answer within the timeout",
                remedy: "raise the command or connect timeout, or check the host's load")
        case "wsman_fault":
            if error.code == "2150858843" {
                return ErrorExplanation(
                    title: "shell gone",
                    explanation: "the host no longer knows the shell (it expired after the idle timeout)",
                    remedy: "nothing to do: winfleet opens a new shell; shorten the keep-alive interval if it recurs")
            }
            if error.code == "2150859173" || error.code == "2150859174" {
                return ErrorExplanation(
                    title: "quota exceeded",
                    explanation: "the host refused another shell or operation (WinRM quota)",
                    remedy: "lower the throttle, or raise MaxShellsPerUser / MaxConcurrentOperationsPerUser on the host")
            }
            return ErrorExplanation(
                title: "WinRM fault",
                explanation: "the WinRM service returned a fault" + (error.code.map { " (code \($0))" } ?? ""),
                remedy: "read the fault message; the WinRM service's event log on the host has the details")
        case "protocol":
            return ErrorExplanation(
                title: "protocol error",
                explanation: "the reply was not what WS-Management prescribes",
                remedy: "report it with the recorded exchange (winfleet --log-level debug)")
        default:
            return ErrorExplanation(
                title: error.kind,
                explanation: "the engine reported an error of kind \(error.kind)",
                remedy: "read the message for details")
        }
    }
}
