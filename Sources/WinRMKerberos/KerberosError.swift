import Foundation

/// What went wrong with Kerberos, named for the cause, each with the fix in its description.
/// Passwords never appear in these values.
public enum KerberosError: Error, CustomStringConvertible, Equatable, Sendable {
    /// This machine's clock and the KDC's or the server's differ by more than the allowed
    /// skew (5 minutes by default).
    case clockSkew
    /// The KDC does not know the service principal (wrong host name or SPN not registered).
    case unknownServerPrincipal(spn: String)
    /// The KDC does not know the user.
    case unknownClientPrincipal(principal: String)
    /// No usable ticket cache and no password.
    case noCredentials
    /// The ticket (or the credential it came from) has expired.
    case expiredTicket
    /// No KDC of the realm answered.
    case kdcUnreachable(realm: String)
    /// The KDC rejected the password.
    case preauthFailed
    /// The requested mechanism is not available in this GSS-API library.
    case mechanismUnsupported
    /// A wrapped message or a token failed its cryptographic or sequence check
    /// (tampered, replayed, out of order, or not encrypted).
    case integrity(detail: String)
    /// Server side: the keytab has no key matching what the client's ticket was issued for.
    case noServiceKey(detail: String)
    /// Anything else, with the GSS major/minor statuses and the library's own text.
    case other(major: UInt32, minor: UInt32, message: String)

    public var description: String {
        switch self {
        case .clockSkew:
            return "Kerberos clock skew: this machine's clock differs from the KDC's or the server's by more than "
                + "the allowed skew (5 minutes by default); synchronise the clocks (NTP)"
        case .unknownServerPrincipal(let spn):
            return "Kerberos: the KDC does not know the service principal \(spn); check the host name or the SPN "
                + "setting (WinRM uses HTTP/<fqdn>), or register the SPN"
        case .unknownClientPrincipal(let principal):
            return "Kerberos: the KDC does not know the user \(principal); check the user name and realm"
        case .noCredentials:
            return "Kerberos: no credentials — the ticket cache (KRB5CCNAME or the default cache) is missing or "
                + "empty; run kinit or give the credential a password"
        case .expiredTicket:
            return "Kerberos: the ticket has expired; run kinit again (or use a password credential, which renews itself)"
        case .kdcUnreachable(let realm):
            return "Kerberos: no KDC for realm \(realm) could be reached; check [realms] \(realm) kdc = … in krb5.conf "
                + "(KRB5_CONFIG), the network path and the KDC service"
        case .preauthFailed:
            return "Kerberos: the KDC rejected the password (pre-authentication failed); check the password, "
                + "and whether the account is locked"
        case .mechanismUnsupported:
            return "Kerberos: the GSS-API library does not support the requested mechanism (Kerberos or SPNEGO)"
        case .integrity(let detail):
            return "Kerberos message integrity check failed: \(detail)"
        case .noServiceKey(let detail):
            return "Kerberos: the service keytab has no key for this ticket (\(detail)); re-export the keytab for the SPN"
        case .other(let major, let minor, let message):
            return "Kerberos error (GSS major 0x\(String(major, radix: 16)), minor \(Int32(bitPattern: minor))): \(message)"
        }
    }
}
