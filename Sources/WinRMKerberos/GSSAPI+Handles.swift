import CGSSAPI
import Foundation

extension GSSAPI {

    // MARK: Names

    enum NameKind {
        /// "HTTP@host" (GSS_C_NT_HOSTBASED_SERVICE): the realm comes from [domain_realm].
        case hostBasedService
        /// "HTTP/host@REALM" or "user@REALM" (GSS_KRB5_NT_PRINCIPAL_NAME).
        case kerberosPrincipal
    }

    final class Name {
        let handle: gss_name_t

        init(importing text: String, kind: NameKind) throws {
            var minor: OM_uint32 = 0
            var output: gss_name_t?
            let type: gss_OID = kind == .hostBasedService ? GSS_C_NT_HOSTBASED_SERVICE : GSS_KRB5_NT_PRINCIPAL_NAME
            let major = GSSAPI.withBuffer(Array(text.utf8)) { buffer in
                gss_import_name(&minor, &buffer, type, &output)
            }
            guard !GSSAPI.isError(major), let output else {
                throw GSSAPI.failure("gss_import_name(\(text))", major: major, minor: minor)
            }
            handle = output
        }

        init(adopting handle: gss_name_t) { self.handle = handle }

        deinit {
            var minor: OM_uint32 = 0
            var name: gss_name_t? = handle
            gss_release_name(&minor, &name)
        }

        /// The name as the library prints it (for Kerberos: "HTTP/host@REALM").
        var displayString: String { GSSAPI.displayName(handle) ?? "" }

        /// The Kerberos principal this name maps to, with the realm filled in from
        /// krb5.conf ([domain_realm] for host-based names, default_realm for bare users).
        var kerberosPrincipal: String? {
            var minor: OM_uint32 = 0
            var canonical: gss_name_t?
            let major = gss_canonicalize_name(&minor, handle, GSSAPI.kerberosMechanism, &canonical)
            guard !GSSAPI.isError(major), let canonical else { return nil }
            defer { var n: gss_name_t? = canonical; gss_release_name(&minor, &n) }
            return GSSAPI.displayName(canonical)
        }
    }

    static func displayName(_ name: gss_name_t?) -> String? {
        guard let name else { return nil }
        var minor: OM_uint32 = 0
        var text = gss_buffer_desc()
        guard !isError(gss_display_name(&minor, name, &text, nil)) else { return nil }
        defer { gss_release_buffer(&minor, &text) }
        return string(from: text)
    }

    // MARK: Credentials

    final class Credential {
        let handle: gss_cred_id_t

        private init(handle: gss_cred_id_t) { self.handle = handle }

        deinit {
            // For a password credential MIT destroys its private MEMORY ccache and frees
            // its copy of the password here (cred->destroy_ccache, cred->password).
            var minor: OM_uint32 = 0
            var cred: gss_cred_id_t? = handle
            gss_release_cred(&minor, &cred)
        }

        /// gss_acquire_cred_with_password: MIT copies the password into the credential
        /// (to refresh the TGT later) and stores the tickets in a private MEMORY ccache that
        /// is destroyed with the credential; nothing is written to disk. Asking for the
        /// lifetime makes MIT run the AS exchange now, so a wrong password or an unreachable
        /// KDC fails here instead of in the first step.
        static func initiator(principal: Name, password: [UInt8], mechanism: gss_OID) throws -> Credential {
            var minor: OM_uint32 = 0
            var output: gss_cred_id_t?
            var lifetime: OM_uint32 = 0
            let major = GSSAPI.withOIDSet([mechanism]) { mechs in
                GSSAPI.withBuffer(password) { buffer in
                    gss_acquire_cred_with_password(&minor, principal.handle, &buffer, 0, mechs,
                                                   GSSAPI.credentialUsageInitiate, &output, nil, &lifetime)
                }
            }
            guard !GSSAPI.isError(major), let output else {
                throw GSSAPI.failure("gss_acquire_cred_with_password", major: major, minor: minor)
            }
            return Credential(handle: output)
        }

        /// Tickets from a ccache: `cache` nil means the default one (KRB5CCNAME, else
        /// krb5.conf default_ccache_name); otherwise a ccache name such as "FILE:/path" or
        /// "KEYRING:persistent:0", read through gss_acquire_cred_from without touching the
        /// environment.
        static func initiator(cache: String?, mechanism: gss_OID) throws -> Credential {
            var minor: OM_uint32 = 0
            var output: gss_cred_id_t?
            var lifetime: OM_uint32 = 0
            let major: OM_uint32 = GSSAPI.withOIDSet([mechanism]) { mechs in
                if let cache {
                    return GSSAPI.withCredentialStore(["ccache": cache]) { store in
                        gss_acquire_cred_from(&minor, nil, 0, mechs, GSSAPI.credentialUsageInitiate,
                                              store, &output, nil, &lifetime)
                    }
                }
                return gss_acquire_cred(&minor, nil, 0, mechs, GSSAPI.credentialUsageInitiate,
                                        &output, nil, &lifetime)
            }
            guard !GSSAPI.isError(major), let output else {
                throw GSSAPI.failure("gss_acquire_cred(ccache \(cache ?? "default"))", major: major, minor: minor)
            }
            let credential = Credential(handle: output)
            // MIT returns a credential even for an expired TGT; the remaining lifetime says so.
            if lifetime == 0 {
                throw GSSAPI.Failure(operation: "gss_acquire_cred", major: Major.credentialsExpired,
                                     minor: 0, message: "the tickets in the cache have expired")
            }
            return credential
        }

        /// Acceptor credential from a keytab given as a cred-store element, so the process
        /// environment (KRB5_KTNAME) is left alone and several acceptors with different
        /// keytabs can live in one process. `name` nil accepts any key in the keytab.
        static func acceptor(keytab: String, name: Name?, replayCache: String?) throws -> Credential {
            var minor: OM_uint32 = 0
            var output: gss_cred_id_t?
            var store = ["keytab": keytab.contains(":") ? keytab : "FILE:" + keytab]
            if let replayCache { store["rcache"] = replayCache }
            let major = GSSAPI.withCredentialStore(store) { store in
                gss_acquire_cred_from(&minor, name?.handle, 0, nil, GSSAPI.credentialUsageAccept,
                                      store, &output, nil, nil)
            }
            guard !GSSAPI.isError(major), let output else {
                throw GSSAPI.failure("gss_acquire_cred_from(keytab \(keytab))", major: major, minor: minor)
            }
            return Credential(handle: output)
        }

        /// Restricts what SPNEGO offers to Kerberos, so a gss-ntlmssp plug-in, if one is
        /// installed, never takes over (NTLM is done by WinRMAuth, not here).
        func restrictNegotiation(to mechanisms: [gss_OID]) throws {
            var minor: OM_uint32 = 0
            let major = GSSAPI.withOIDSet(mechanisms) { set in gss_set_neg_mechs(&minor, handle, set) }
            guard !GSSAPI.isError(major) else {
                throw GSSAPI.failure("gss_set_neg_mechs", major: major, minor: minor)
            }
        }

        /// The principal and remaining lifetime (seconds) of an initiator credential.
        var principalAndLifetime: (principal: String?, lifetime: UInt32) {
            var minor: OM_uint32 = 0
            var name: gss_name_t?
            var lifetime: OM_uint32 = 0
            let major = gss_inquire_cred(&minor, handle, &name, &lifetime, nil, nil)
            guard !GSSAPI.isError(major) else { return (nil, 0) }
            defer { var n = name; gss_release_name(&minor, &n) }
            return (GSSAPI.displayName(name), lifetime)
        }
    }

    /// Builds a gss_key_value_set_desc ("keytab" → "FILE:/x", …) for gss_acquire_cred_from.
    static func withCredentialStore<R>(_ elements: [String: String],
                                       _ body: (UnsafePointer<gss_key_value_set_desc>) -> R) -> R {
        var cStrings: [UnsafeMutablePointer<CChar>] = []
        defer { cStrings.forEach { free($0) } }
        var descs: [gss_key_value_element_desc] = []
        for (key, value) in elements.sorted(by: { $0.key < $1.key }) {
            let k = strdup(key)!, v = strdup(value)!
            cStrings += [k, v]
            descs.append(gss_key_value_element_desc(key: UnsafePointer(k), value: UnsafePointer(v)))
        }
        return descs.withUnsafeMutableBufferPointer { buffer in
            var set = gss_key_value_set_desc(count: OM_uint32(buffer.count), elements: buffer.baseAddress)
            return withUnsafePointer(to: &set) { body($0) }
        }
    }

    // MARK: Security contexts

    struct StepResult {
        var token: Data?
        var complete: Bool
    }

    /// One GSS security context (either side). Not thread-safe: callers serialise.
    final class SecurityContext {
        private(set) var handle: gss_ctx_id_t?

        init() {}

        deinit {
            guard handle != nil else { return }
            var minor: OM_uint32 = 0
            gss_delete_sec_context(&minor, &handle, nil)
        }

        func initiate(credential: Credential, target: Name, mechanism: gss_OID,
                      flags: OM_uint32, input: Data?) throws -> StepResult {
            var minor: OM_uint32 = 0
            var output = gss_buffer_desc()
            var actualMechanism: gss_OID?
            let call = { (inputBuffer: UnsafeMutablePointer<gss_buffer_desc>?) -> OM_uint32 in
                gss_init_sec_context(&minor, credential.handle, &self.handle, target.handle, mechanism,
                                     flags, 0, nil, inputBuffer, &actualMechanism, &output, nil, nil)
            }
            let major: OM_uint32
            if let input, !input.isEmpty {
                major = GSSAPI.withBuffer([UInt8](input)) { buffer in call(&buffer) }
            } else {
                major = call(nil)
            }
            let token = GSSAPI.data(from: output)
            var releaseMinor: OM_uint32 = 0
            gss_release_buffer(&releaseMinor, &output)
            guard !GSSAPI.isError(major) else {
                throw GSSAPI.failure("gss_init_sec_context", major: major, minor: minor,
                                     mechanism: actualMechanism)
            }
            return StepResult(token: token.isEmpty ? nil : token,
                              complete: major & Major.continueNeeded == 0)
        }

        /// On failure the library may still have produced a token for the peer (a KRB-ERROR,
        /// possibly inside an SPNEGO reject); it is returned through `errorToken`.
        func accept(credential: Credential, input: Data, errorToken: inout Data?) throws -> StepResult {
            var minor: OM_uint32 = 0
            var output = gss_buffer_desc()
            var actualMechanism: gss_OID?
            let major = GSSAPI.withBuffer([UInt8](input)) { buffer in
                gss_accept_sec_context(&minor, &handle, credential.handle, &buffer, nil,
                                       nil, &actualMechanism, &output, nil, nil, nil)
            }
            let token = GSSAPI.data(from: output)
            var releaseMinor: OM_uint32 = 0
            gss_release_buffer(&releaseMinor, &output)
            guard !GSSAPI.isError(major) else {
                errorToken = token.isEmpty ? nil : token
                throw GSSAPI.failure("gss_accept_sec_context", major: major, minor: minor,
                                     mechanism: actualMechanism)
            }
            return StepResult(token: token.isEmpty ? nil : token,
                              complete: major & Major.continueNeeded == 0)
        }

        struct Details {
            var mechanism: String
            var flags: OM_uint32
            var initiator: String?
            var lifetime: UInt32
        }

        /// gss_inquire_context. Under SPNEGO, MIT answers with the negotiated inner mechanism
        /// once the context is complete.
        func details() -> Details? {
            guard let handle else { return nil }
            var minor: OM_uint32 = 0
            var source: gss_name_t?
            var mechanism: gss_OID?
            var flags: OM_uint32 = 0
            var lifetime: OM_uint32 = 0
            let major = gss_inquire_context(&minor, handle, &source, nil, &lifetime, &mechanism,
                                            &flags, nil, nil)
            guard !GSSAPI.isError(major) else { return nil }
            defer { var n = source; if n != nil { gss_release_name(&minor, &n) } }
            return Details(mechanism: GSSAPI.mechanismName(mechanism), flags: flags,
                           initiator: GSSAPI.displayName(source), lifetime: lifetime)
        }
    }
}
