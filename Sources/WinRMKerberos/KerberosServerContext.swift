import CGSSAPI
import Foundation

/// The server (acceptor) side, for the simulated Windows hosts: accepts SPNEGO
/// (`Authorization: Negotiate`) and raw Kerberos (`Authorization: Kerberos`) tokens with keys
/// from a keytab, then wraps/unwraps MS-WSMV messages in the server direction.
///
/// The keytab is handed to MIT as a credential-store element (gss_acquire_cred_from), so
/// KRB5_KTNAME is not read or changed and each simulated host can have its own keytab in
/// the same process. KRB5_CONFIG must point at a krb5.conf for the realm before the first
/// step (MIT reads it when the call needs a krb5 context).
public final class KerberosServerContext: @unchecked Sendable {
    public let keytab: String
    public let servicePrincipal: String?
    private let credential: GSSAPI.Credential
    private let context = GSSAPI.SecurityContext()
    private let lock = NSLock()
    private var complete = false
    private var failed = false
    private var lastErrorToken: Data?
    private var details: GSSAPI.SecurityContext.Details?

    /// - Parameters:
    ///   - keytab: path (or "FILE:/path") of a keytab holding the HTTP/ keys.
    ///   - servicePrincipal: accept only this principal ("HTTP/host@REALM" or "HTTP@host");
    ///     nil accepts a ticket for any principal in the keytab.
    ///   - replayCache: MIT replay-cache name for authenticators ("none:" disables it,
    ///     "file2:/path" picks a file); nil uses MIT's default (a file in /var/tmp or
    ///     KRB5RCACHEDIR, shared by every acceptor of this user).
    public init(keytab: String, servicePrincipal: String? = nil, replayCache: String? = nil) throws {
        self.keytab = keytab
        self.servicePrincipal = servicePrincipal
        let path = keytab.hasPrefix("FILE:") ? String(keytab.dropFirst(5)) : keytab
        if !keytab.contains(":") || keytab.hasPrefix("FILE:"), !FileManager.default.fileExists(atPath: path) {
            throw KerberosError.noServiceKey(detail: "keytab \(path) does not exist")
        }
        do {
            let name = try servicePrincipal.map { spn in
                try GSSAPI.Name(importing: spn, kind: spn.contains("/") ? .kerberosPrincipal : .hostBasedService)
            }
            credential = try GSSAPI.Credential.acceptor(keytab: keytab, name: name, replayCache: replayCache)
        } catch let failure as GSSAPI.Failure {
            throw KerberosError(failure, phase: .acquiringAcceptorCredential, spn: servicePrincipal)
        }
    }

    /// Consumes the client's token (from `Authorization: Negotiate|Kerberos <base64>`) and
    /// returns the token for `WWW-Authenticate` (on the 200 when complete, on a 401 when
    /// more legs are needed). On failure the error is thrown and `errorToken` may hold a
    /// token for the client (a KRB-ERROR, e.g. clock skew) to send with the 401.
    public func step(_ input: Data) throws -> (token: Data?, complete: Bool) {
        lock.lock(); defer { lock.unlock() }
        if complete {
            throw KerberosError.other(major: GSSAPI.Major.failure, minor: 0,
                                      message: "the context is already established; a new Authorization "
                                          + "header needs a new server context")
        }
        if failed {
            throw KerberosError.other(major: GSSAPI.Major.noContext, minor: 0,
                                      message: "the context failed earlier; start a new one")
        }
        lastErrorToken = nil
        do {
            let result = try context.accept(credential: credential, input: input, errorToken: &lastErrorToken)
            complete = result.complete
            if complete { details = context.details() }
            return (result.token, result.complete)
        } catch let failure as GSSAPI.Failure {
            failed = true
            throw KerberosError(failure, phase: .accepting, spn: servicePrincipal)
        }
    }

    public var isComplete: Bool { lock.lock(); defer { lock.unlock() }; return complete }

    /// The token the library produced for the client when the last step failed, if any.
    public var errorToken: Data? { lock.lock(); defer { lock.unlock() }; return lastErrorToken }

    /// The authenticated client ("operator@WINFLEET.TEST"), once complete.
    public var clientPrincipal: String? { lock.lock(); defer { lock.unlock() }; return details?.initiator }

    /// "kerberos" once complete (SPNEGO reports the mechanism it carried), "unknown" before.
    public var negotiatedMechanism: String {
        lock.lock(); defer { lock.unlock() }
        return details?.mechanism ?? "unknown"
    }

    /// What the client asked for and got (mutual authentication, delegation, …).
    public var establishedFlags: KerberosContextFlags {
        lock.lock(); defer { lock.unlock() }
        return KerberosContextFlags(rawValue: details?.flags ?? 0)
    }

    /// Encrypts one response message (see `KerberosClientContext.wrap`).
    public func wrap(_ plaintext: Data) throws -> (header: Data, payload: Data) {
        lock.lock(); defer { lock.unlock() }
        try requireComplete()
        return try context.wrapMessage(plaintext)
    }

    /// Decrypts and verifies one request message; tampering or replay throws `.integrity`.
    public func unwrap(header: Data, payload: Data) throws -> Data {
        lock.lock(); defer { lock.unlock() }
        try requireComplete()
        return try context.unwrapMessage(header: header, payload: payload)
    }

    private func requireComplete() throws {
        guard complete else {
            throw KerberosError.other(major: GSSAPI.Major.noContext, minor: 0,
                                      message: "the Kerberos context is not established yet")
        }
    }
}
