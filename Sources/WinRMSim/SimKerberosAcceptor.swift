import Foundation
import WinRMAuth
import WinRMKerberos

/// Kerberos acceptance for one simulated host, as a domain-joined Windows host does it with its
/// computer account's keys: gss_accept_sec_context with the host's key from a keytab, only for the
/// host's own SPN (a ticket for another host is refused like on Windows).
struct SimKerberosAcceptor {
    var keytab: String
    /// "HTTP/win0001.winfleet.test@WINFLEET.TEST".
    var servicePrincipal: String
    var replayCache: String?

    /// A fresh acceptor context for one handshake. Throws `KerberosError` (e.g. a missing keytab).
    func makeContext() throws -> KerberosServerContext {
        try KerberosServerContext(keytab: keytab, servicePrincipal: servicePrincipal, replayCache: replayCache)
    }

    /// krb5 mechanism OIDs (content bytes): RFC 1964 and the one Windows announces in SPNEGO.
    static let kerberosOIDs: [[UInt8]] = [
        [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x12, 0x01, 0x02, 0x02],
        [0x2A, 0x86, 0x48, 0x82, 0xF7, 0x12, 0x01, 0x02, 0x02],
    ]

    /// The mechanism OID of a GSS InitialContextToken (0x60 <len> 06 <len> <oid> …), if it is one.
    static func initialTokenMechanism(_ token: Data) -> [UInt8]? {
        var reader = SPNEGOToken.Reader([UInt8](token)[...])
        guard let outer = try? reader.element(), outer.tag == 0x60 else { return nil }
        var inner = SPNEGOToken.Reader(outer.content)
        guard let oid = try? inner.element(), oid.tag == 0x06 else { return nil }
        return Array(oid.content)
    }

    /// A raw Kerberos AP-REQ (not wrapped in SPNEGO), as `Authorization: Kerberos` or pypsrp's
    /// `auth="kerberos"` under `Negotiate` send it.
    static func isRawKerberos(_ token: Data) -> Bool {
        initialTokenMechanism(token).map { kerberosOIDs.contains($0) } ?? false
    }
}

/// What seals bodies on an authenticated connection, and the MS-WSMV protocol name its sealed
/// responses carry.
struct SimSealing {
    let sealer: MessageSealer
    let protocolName: String
}

/// MS-WSMV sealing in the server direction with an established Kerberos context.
final class KerberosServerSealer: MessageSealer {
    let context: KerberosServerContext

    init(context: KerberosServerContext) { self.context = context }

    func wrap(_ plaintext: Data) throws -> (header: Data, payload: Data) { try context.wrap(plaintext) }

    func unwrap(header: Data, payload: Data) throws -> Data { try context.unwrap(header: header, payload: payload) }
}
