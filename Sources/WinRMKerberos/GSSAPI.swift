import CGSSAPI
import Foundation

/// The one place where this module talks C: every `gss_*` call of WinRMKerberos lives in
/// `GSSAPI` and its extensions. Handles are owned by small classes that release them in
/// `deinit`; failures come out as `GSSAPI.Failure`, carrying the major/minor status and the
/// text of `gss_display_status` (read at once, because MIT keeps the detailed message of a
/// minor status in thread-local storage that the next call overwrites).
///
/// Library: MIT krb5 (libgssapi_krb5). MIT creates a fresh `krb5_context` inside each GSS
/// call that needs one, so `KRB5_CONFIG`, `KRB5CCNAME` and friends are read at that moment;
/// an established security context keeps the `krb5_context` it was created with.
enum GSSAPI {

    // MARK: Constants (values from <gssapi/gssapi.h>; function-like macros do not import)

    static let credentialUsageInitiate: gss_cred_usage_t = 1  // GSS_C_INITIATE
    static let credentialUsageAccept: gss_cred_usage_t = 2    // GSS_C_ACCEPT
    static let indefinite: OM_uint32 = 0xFFFF_FFFF             // GSS_C_INDEFINITE

    /// Request/return flags of gss_init_sec_context / gss_accept_sec_context.
    enum Flag {
        static let delegate: OM_uint32 = 1      // GSS_C_DELEG_FLAG
        static let mutual: OM_uint32 = 2        // GSS_C_MUTUAL_FLAG
        static let replay: OM_uint32 = 4        // GSS_C_REPLAY_FLAG
        static let sequence: OM_uint32 = 8      // GSS_C_SEQUENCE_FLAG
        static let confidentiality: OM_uint32 = 16  // GSS_C_CONF_FLAG
        static let integrity: OM_uint32 = 32    // GSS_C_INTEG_FLAG
    }

    /// Major status layout: calling error << 24 | routine error << 16 | supplementary bits.
    enum Major {
        static let complete: OM_uint32 = 0
        static let continueNeeded: OM_uint32 = 1 << 0   // GSS_S_CONTINUE_NEEDED
        static let duplicateToken: OM_uint32 = 1 << 1   // GSS_S_DUPLICATE_TOKEN
        static let oldToken: OM_uint32 = 1 << 2         // GSS_S_OLD_TOKEN
        static let unsequencedToken: OM_uint32 = 1 << 3 // GSS_S_UNSEQ_TOKEN
        static let gapToken: OM_uint32 = 1 << 4         // GSS_S_GAP_TOKEN
        static let routineErrorMask: OM_uint32 = 0x00FF_0000
        static let callingErrorMask: OM_uint32 = 0xFF00_0000

        static let badMech: OM_uint32 = 1 << 16
        static let badName: OM_uint32 = 2 << 16
        static let badNameType: OM_uint32 = 3 << 16
        static let badSignature: OM_uint32 = 6 << 16
        static let noCredentials: OM_uint32 = 7 << 16
        static let noContext: OM_uint32 = 8 << 16
        static let defectiveToken: OM_uint32 = 9 << 16
        static let defectiveCredential: OM_uint32 = 10 << 16
        static let credentialsExpired: OM_uint32 = 11 << 16
        static let contextExpired: OM_uint32 = 12 << 16
        static let failure: OM_uint32 = 13 << 16
        static let unavailable: OM_uint32 = 16 << 16
    }

    /// IOV buffer types of <gssapi/gssapi_ext.h>.
    enum IOVType {
        static let data: OM_uint32 = 1
        static let header: OM_uint32 = 2
        static let padding: OM_uint32 = 9
        static let flagAllocate: OM_uint32 = 0x0001_0000
    }

    // MARK: Mechanism OIDs

    /// 1.2.840.113554.1.2.2, exported by libgssapi_krb5.
    static var kerberosMechanism: gss_OID { gss_mech_krb5 }

    /// 1.3.6.1.5.5.2 (SPNEGO). MIT does not export a symbol for it, so the DER body of the
    /// OID lives in memory allocated once and never freed.
    static let spnegoMechanism: gss_OID = makeStaticOID([0x2B, 0x06, 0x01, 0x05, 0x05, 0x02])

    /// 1.2.840.48018.1.2.2, the Kerberos OID Windows announces in SPNEGO (MS KRB5).
    static let microsoftKerberosMechanism: gss_OID =
        makeStaticOID([0x2A, 0x86, 0x48, 0x82, 0xF7, 0x12, 0x01, 0x02, 0x02])

    private static func makeStaticOID(_ bytes: [UInt8]) -> gss_OID {
        let elements = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count)
        elements.initialize(from: bytes, count: bytes.count)
        let oid = UnsafeMutablePointer<gss_OID_desc>.allocate(capacity: 1)
        oid.initialize(to: gss_OID_desc(length: OM_uint32(bytes.count),
                                        elements: UnsafeMutableRawPointer(elements)))
        return oid
    }

    static func oidsEqual(_ a: gss_OID?, _ b: gss_OID?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        guard a.pointee.length == b.pointee.length else { return false }
        guard let ea = a.pointee.elements, let eb = b.pointee.elements else { return false }
        return memcmp(ea, eb, Int(a.pointee.length)) == 0
    }

    /// "kerberos", "spnego", or the dotted OID for anything else.
    static func mechanismName(_ oid: gss_OID?) -> String {
        guard let oid else { return "unknown" }
        if oidsEqual(oid, kerberosMechanism) || oidsEqual(oid, microsoftKerberosMechanism) {
            return "kerberos"
        }
        if oidsEqual(oid, spnegoMechanism) { return "spnego" }
        var minor: OM_uint32 = 0
        var text = gss_buffer_desc()
        guard gss_oid_to_str(&minor, oid, &text) == Major.complete else { return "unknown" }
        defer { gss_release_buffer(&minor, &text) }
        return string(from: text)
    }

    // MARK: Failures

    /// A GSS call that failed: which call, its statuses, the library's own words, and —
    /// when it can be recovered — the krb5 error code behind the minor status.
    struct Failure: Error {
        let operation: String
        let major: OM_uint32
        let minor: OM_uint32
        let message: String
        var kerberosCode: Int32? = nil

        var routineError: OM_uint32 { major & Major.routineErrorMask }
        var supplementary: OM_uint32 { major & 0xFFFF }
    }

    static func isError(_ major: OM_uint32) -> Bool {
        major & (Major.routineErrorMask | Major.callingErrorMask) != 0
    }

    static func failure(_ operation: String, major: OM_uint32, minor: OM_uint32,
                        mechanism: gss_OID? = nil) -> Failure {
        Failure(operation: operation, major: major, minor: minor,
                message: statusText(major: major, minor: minor, mechanism: mechanism),
                kerberosCode: kerberosCode(minor: minor, candidates: KerberosMinorStatus.all))
    }

    /// The krb5 error code behind a minor status.
    ///
    /// MIT's mechglue renumbers minor statuses so that codes of different mechanisms cannot
    /// collide (util_errmap.c): a (code, mechanism) pair keeps its own number the first time
    /// that number is seen, otherwise it gets a fake one from 100000 up. Through SPNEGO the
    /// krb5 code is registered by the inner call first, so the outer SPNEGO status always
    /// arrives renumbered, and no public call maps it back. What is public is
    /// gss_display_status, which unmaps internally, and MIT's krb5 mechanism describes the
    /// code of the last failure on this thread with its saved, detailed message while any
    /// other code gets its generic table text. So: a raw krb5 code is taken as is; otherwise
    /// the candidate whose description equals the failure's description is the code.
    /// Must run on the failing thread right after the failure.
    static func kerberosCode(minor: OM_uint32, candidates: [Int32]) -> Int32? {
        let direct = Int32(bitPattern: minor)
        if candidates.contains(direct) { return direct }
        guard minor != 0 else { return nil }
        let text = displayStatus(minor, type: 2, mechanism: nil).joined(separator: " ")
        guard !text.isEmpty else { return nil }
        for candidate in candidates {
            let candidateText = displayStatus(OM_uint32(bitPattern: candidate), type: 2,
                                              mechanism: kerberosMechanism).joined(separator: " ")
            if candidateText == text { return candidate }
        }
        return nil
    }

    /// gss_display_status for both the GSS-level (major) and mechanism-level (minor) codes,
    /// joined as "major text: minor text".
    static func statusText(major: OM_uint32, minor: OM_uint32, mechanism: gss_OID?) -> String {
        var parts: [String] = []
        // Supplementary bits alone (e.g. a duplicate token) have no routine text of their own;
        // gss_display_status still describes them.
        parts += displayStatus(major, type: 1 /* GSS_C_GSS_CODE */, mechanism: nil)
        if minor != 0 {
            parts += displayStatus(minor, type: 2 /* GSS_C_MECH_CODE */,
                                   mechanism: mechanism ?? kerberosMechanism)
        }
        // A supplementary-only major status also describes its empty routine part as "Success".
        let meaningful = parts.filter { !$0.isEmpty && $0 != "Success" }
        return (meaningful.isEmpty ? parts : meaningful).joined(separator: ": ")
    }

    static func displayStatus(_ code: OM_uint32, type: Int32, mechanism: gss_OID?) -> [String] {
        var texts: [String] = []
        var messageContext: OM_uint32 = 0
        repeat {
            var minor: OM_uint32 = 0
            var text = gss_buffer_desc()
            let major = gss_display_status(&minor, code, type, mechanism, &messageContext, &text)
            guard major == Major.complete else { break }
            texts.append(string(from: text))
            gss_release_buffer(&minor, &text)
        } while messageContext != 0 && texts.count < 8
        return texts
    }

    // MARK: Buffers

    static func string(from buffer: gss_buffer_desc) -> String {
        guard let value = buffer.value, buffer.length > 0 else { return "" }
        var bytes = [UInt8](UnsafeRawBufferPointer(start: value, count: buffer.length))
        // Some mechanisms count the terminating NUL in the length.
        while bytes.last == 0 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func data(from buffer: gss_buffer_desc) -> Data {
        guard let value = buffer.value, buffer.length > 0 else { return Data() }
        return Data(bytes: value, count: buffer.length)
    }

    /// Runs `body` with a gss_buffer_desc that points at a temporary copy of `bytes`, zeroed
    /// afterwards (for passwords: our copy does not outlive the call; the caller's String
    /// and MIT's own copy inside the credential are outside our reach).
    static func withBuffer<R>(_ bytes: [UInt8], _ body: (inout gss_buffer_desc) throws -> R) rethrows -> R {
        var copy = bytes
        defer { copy.withUnsafeMutableBytes { raw in
            if let base = raw.baseAddress { memset(base, 0, raw.count) } } }
        return try copy.withUnsafeMutableBytes { raw in
            var buffer = gss_buffer_desc(length: raw.count, value: raw.baseAddress)
            return try body(&buffer)
        }
    }

    static func withOIDSet<R>(_ oids: [gss_OID], _ body: (gss_OID_set) throws -> R) rethrows -> R {
        var descs = oids.map { $0.pointee }
        return try descs.withUnsafeMutableBufferPointer { elements in
            var set = gss_OID_set_desc(count: elements.count, elements: elements.baseAddress)
            return try withUnsafeMutablePointer(to: &set) { try body($0) }
        }
    }
}
