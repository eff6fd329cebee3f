import Foundation

/// krb5 error codes as they arrive in a GSS minor status. Values are the com_err codes of
/// <krb5/krb5.h> (ERROR_TABLE_BASE_krb5 = -1765328384 plus the protocol error number);
/// the test suite checks each against the library's own message text.
enum KerberosMinorStatus {
    static let principalExpired: Int32 = -1765328383          // KRB5KDC_ERR_NAME_EXP
    static let clientPrincipalUnknown: Int32 = -1765328378    // KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN
    static let serverPrincipalUnknown: Int32 = -1765328377    // KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN
    static let keyExpired: Int32 = -1765328361                // KRB5KDC_ERR_KEY_EXP
    static let preauthFailed: Int32 = -1765328360             // KRB5KDC_ERR_PREAUTH_FAILED
    static let badIntegrity: Int32 = -1765328353              // KRB5KRB_AP_ERR_BAD_INTEGRITY
    static let ticketExpired: Int32 = -1765328352             // KRB5KRB_AP_ERR_TKT_EXPIRED
    static let ticketNotYetValid: Int32 = -1765328351         // KRB5KRB_AP_ERR_TKT_NYV
    static let replay: Int32 = -1765328350                    // KRB5KRB_AP_ERR_REPEAT
    static let clockSkew: Int32 = -1765328347                 // KRB5KRB_AP_ERR_SKEW
    static let modified: Int32 = -1765328343                  // KRB5KRB_AP_ERR_MODIFIED
    static let badKeyVersion: Int32 = -1765328340             // KRB5KRB_AP_ERR_BADKEYVER
    static let noKey: Int32 = -1765328339                     // KRB5KRB_AP_ERR_NOKEY
    static let ticketNotForUs: Int32 = -1765328349            // KRB5KRB_AP_ERR_NOT_US
    static let cacheNotFound: Int32 = -1765328243             // KRB5_CC_NOTFOUND
    static let wrongPrincipal: Int32 = -1765328240            // KRB5KRB_AP_WRONG_PRINC
    static let kdcReplySkew: Int32 = -1765328236              // KRB5_KDCREP_SKEW
    static let realmUnknown: Int32 = -1765328230              // KRB5_REALM_UNKNOWN
    static let kdcUnreachable: Int32 = -1765328228            // KRB5_KDC_UNREACH
    static let keytabEntryNotFound: Int32 = -1765328203       // KRB5_KT_NOTFOUND
    static let cacheFileMissing: Int32 = -1765328189          // KRB5_FCC_NOFILE
    static let realmCannotResolve: Int32 = -1765328164        // KRB5_REALM_CANT_RESOLVE

    static let all: [Int32] = [
        principalExpired, clientPrincipalUnknown, serverPrincipalUnknown, keyExpired, preauthFailed,
        badIntegrity, ticketExpired, ticketNotYetValid, replay, clockSkew, modified, badKeyVersion, noKey,
        ticketNotForUs, cacheNotFound, wrongPrincipal, kdcReplySkew, realmUnknown, kdcUnreachable,
        keytabEntryNotFound, cacheFileMissing, realmCannotResolve,
    ]
}

/// Where in the exchange a GSS failure happened; the same krb5 code can mean different
/// things (BAD_INTEGRITY is a wrong password in the AS exchange, a wrong service key in
/// the acceptor, tampering in unwrap).
enum KerberosPhase {
    case acquiringInitiatorCredential
    case initiating
    case acquiringAcceptorCredential
    case accepting
    case protectingMessage
}

extension KerberosError {
    /// `spn` and `realm` name what was being reached, for the error text.
    init(_ failure: GSSAPI.Failure, phase: KerberosPhase, spn: String? = nil, principal: String? = nil,
         realm: String? = nil) {
        typealias Minor = KerberosMinorStatus
        typealias Major = GSSAPI.Major
        let initiatorSide = phase == .acquiringInitiatorCredential || phase == .initiating
        let acceptorSide = phase == .acquiringAcceptorCredential || phase == .accepting

        switch failure.kerberosCode ?? 0 {
        case Minor.clockSkew, Minor.kdcReplySkew, Minor.ticketNotYetValid:
            // A ticket "not yet valid" for the acceptor means its clock is behind the KDC's
            // (we never request postdated tickets): the same fix, synchronise the clocks.
            self = .clockSkew; return
        case Minor.serverPrincipalUnknown:
            self = .unknownServerPrincipal(spn: spn ?? "(unknown SPN)"); return
        case Minor.clientPrincipalUnknown where initiatorSide:
            self = .unknownClientPrincipal(principal: principal ?? "(default principal)"); return
        case Minor.preauthFailed:
            self = .preauthFailed; return
        case Minor.badIntegrity where phase == .acquiringInitiatorCredential:
            // Without required pre-authentication a wrong password shows up as an AS reply
            // that does not decrypt.
            self = .preauthFailed; return
        case Minor.kdcUnreachable, Minor.realmCannotResolve, Minor.realmUnknown:
            self = .kdcUnreachable(realm: realm ?? "(default realm)"); return
        case Minor.ticketExpired:
            self = .expiredTicket; return
        case Minor.cacheFileMissing:
            self = .noCredentials; return
        case Minor.cacheNotFound where initiatorSide:
            self = .noCredentials; return
        case Minor.replay:
            self = .integrity(detail: "replayed authenticator (\(failure.message))"); return
        case Minor.keytabEntryNotFound, Minor.noKey, Minor.badKeyVersion, Minor.wrongPrincipal, Minor.ticketNotForUs:
            self = .noServiceKey(detail: failure.message); return
        case Minor.badIntegrity where acceptorSide:
            // The ticket does not decrypt with the keytab's key (stale key version).
            self = .noServiceKey(detail: failure.message); return
        case Minor.badIntegrity, Minor.modified:
            self = .integrity(detail: failure.message); return
        default:
            break
        }

        let sequenceProblems = Major.duplicateToken | Major.oldToken | Major.unsequencedToken | Major.gapToken
        switch failure.routineError {
        case Major.badMech:
            self = .mechanismUnsupported
        case Major.noCredentials where initiatorSide:
            self = .noCredentials
        case Major.noCredentials where acceptorSide:
            self = .noServiceKey(detail: failure.message)
        case Major.credentialsExpired, Major.contextExpired:
            self = .expiredTicket
        case Major.badSignature:
            self = .integrity(detail: failure.message)
        case Major.defectiveToken where phase == .protectingMessage:
            self = .integrity(detail: failure.message)
        case 0 where failure.supplementary & sequenceProblems != 0:
            self = .integrity(detail: Self.sequenceDetail(failure.supplementary))
        default:
            self = .other(major: failure.major, minor: failure.minor,
                          message: "\(failure.operation): \(failure.message)")
        }
    }

    private static func sequenceDetail(_ bits: UInt32) -> String {
        if bits & GSSAPI.Major.duplicateToken != 0 { return "the message is a replay of one already received" }
        if bits & GSSAPI.Major.oldToken != 0 { return "the message is older than the replay window" }
        if bits & GSSAPI.Major.unsequencedToken != 0 { return "the message arrived out of order" }
        return "a message is missing from the sequence"
    }
}
