import CGSSAPI
import Foundation

/// The client side of a Kerberos or SPNEGO exchange with a WinRM server, and afterwards the
/// MS-WSMV message encryption on that connection.
///
/// Usage (HTTP, RFC 4559): `step(nil)` → send `Authorization: Negotiate <base64 token>`
/// (or `Kerberos` for `.kerberos`); on 401 with a token, `step(token)` and send again; on the
/// final 200, feed the token of `WWW-Authenticate` to `step` too — with mutual
/// authentication the context is complete only after that (and the server's subkey is
/// learned from it, so wrap/unwrap need it).
///
/// One context per connection; calls are serialised internally, but WinRM's sequence
/// numbers require the caller to wrap and unwrap messages in request order anyway.
public final class KerberosClientContext: @unchecked Sendable {
    public let mechanism: KerberosMechanism
    /// The service principal as given ("HTTP@host" or "HTTP/host@REALM").
    public let targetName: String
    private let credential: KerberosAcquiredCredential
    private let target: GSSAPI.Name
    private let servicePrincipal: String
    private let requestFlags: OM_uint32
    private let context = GSSAPI.SecurityContext()
    private let lock = NSLock()
    private var complete = false
    private var failed = false

    /// - Parameters:
    ///   - targetName: "HTTP@host.domain" (host-based service; realm from [domain_realm]) or,
    ///     when it contains '/', an explicit principal "HTTP/host.domain@REALM".
    ///   - credential: acquired now (for a password: the AS exchange happens here).
    ///   - delegate: ask for a forwarded TGT (needs a forwardable TGT: `forwardable = true`
    ///     in krb5.conf [libdefaults] or `kinit -f`).
    ///   - mutual: require the server to prove its identity (the final 200 carries its token).
    public convenience init(targetName: String, mechanism: KerberosMechanism, credential: KerberosCredential,
                            delegate: Bool = false, mutual: Bool = true) throws {
        let acquired = try KerberosAcquiredCredential(credential, mechanism: mechanism)
        try self.init(targetName: targetName, credential: acquired, delegate: delegate, mutual: mutual)
    }

    /// Shares an already acquired credential (one TGT for many connections).
    public init(targetName: String, credential: KerberosAcquiredCredential,
                delegate: Bool = false, mutual: Bool = true) throws {
        self.mechanism = credential.mechanism
        self.targetName = targetName
        self.credential = credential
        let kind: GSSAPI.NameKind = targetName.contains("/") ? .kerberosPrincipal : .hostBasedService
        do {
            target = try GSSAPI.Name(importing: targetName, kind: kind)
        } catch let failure as GSSAPI.Failure {
            throw KerberosError(failure, phase: .initiating, spn: targetName)
        }
        servicePrincipal = target.kerberosPrincipal ?? targetName
        var flags = GSSAPI.Flag.replay | GSSAPI.Flag.sequence | GSSAPI.Flag.confidentiality | GSSAPI.Flag.integrity
        if mutual { flags |= GSSAPI.Flag.mutual }
        if delegate { flags |= GSSAPI.Flag.delegate }
        requestFlags = flags
    }

    /// Produces the next token for the server. `input` is nil for the first call, then the
    /// server's token. Returns `complete == true` when the context is established; a token
    /// returned together with completion must still be sent. Once complete, further
    /// input is ignored.
    public func step(_ input: Data?) throws -> (token: Data?, complete: Bool) {
        lock.lock(); defer { lock.unlock() }
        if complete {
            // A final WWW-Authenticate token after completion (RFC 4559 allows one) carries
            // nothing the established context still needs.
            return (nil, true)
        }
        if failed {
            throw KerberosError.other(major: GSSAPI.Major.noContext, minor: 0,
                                      message: "the context failed earlier; start a new one")
        }
        do {
            let result = try context.initiate(credential: credential.gss, target: target, mechanism: mechanism.oid,
                                              flags: requestFlags, input: input)
            complete = result.complete
            return (result.token, result.complete)
        } catch let failure as GSSAPI.Failure {
            failed = true
            throw KerberosError(failure, phase: .initiating, spn: servicePrincipal,
                                principal: credential.principal,
                                realm: Self.realm(ofService: servicePrincipal) ?? credential.clientRealm)
        }
    }

    public var isComplete: Bool { lock.lock(); defer { lock.unlock() }; return complete }

    /// "kerberos" once established (also under SPNEGO, where it is the mechanism SPNEGO
    /// chose); before that the mechanism asked for ("spnego" or "kerberos").
    public var negotiatedMechanism: String {
        lock.lock(); defer { lock.unlock() }
        guard complete, let details = context.details() else { return mechanism.rawValue }
        return details.mechanism
    }

    /// What the established context grants (mutual authentication, delegation, …).
    public var establishedFlags: KerberosContextFlags {
        lock.lock(); defer { lock.unlock() }
        guard complete, let details = context.details() else { return [] }
        return KerberosContextFlags(rawValue: details.flags)
    }

    /// The client principal the context authenticated as.
    public var clientPrincipal: String { credential.principal }

    /// The service principal with its realm ("HTTP/win0001.winfleet.test@WINFLEET.TEST").
    public var serverPrincipal: String { servicePrincipal }

    /// Encrypts one WinRM message: `header` goes after the 4-byte little-endian length in
    /// the multipart body, `payload` (encrypted data, plus padding for RC4) follows it.
    /// `payload.count - plaintext.count` is the padding length (0 for AES).
    public func wrap(_ plaintext: Data) throws -> (header: Data, payload: Data) {
        lock.lock(); defer { lock.unlock() }
        try requireComplete()
        return try context.wrapMessage(plaintext)
    }

    /// Decrypts and verifies one message from the server; a tampered, replayed or
    /// out-of-order message throws `.integrity`.
    public func unwrap(header: Data, payload: Data) throws -> Data {
        lock.lock(); defer { lock.unlock() }
        try requireComplete()
        return try context.unwrapMessage(header: header, payload: payload)
    }

    private func requireComplete() throws {
        guard complete else {
            throw KerberosError.other(major: GSSAPI.Major.noContext, minor: 0,
                                      message: "the Kerberos context is not established yet; finish the "
                                          + "authentication (including the server's final token) first")
        }
    }

    static func realm(ofService principal: String) -> String? {
        KerberosAcquiredCredential.realm(of: principal)
    }
}
