import CGSSAPI
import Foundation

/// Which GSS mechanism the client speaks: SPNEGO (`Authorization: Negotiate`, restricted to
/// Kerberos inside) or raw Kerberos (`Authorization: Kerberos`).
public enum KerberosMechanism: String, Sendable, CaseIterable {
    case spnego
    case kerberos

    var oid: gss_OID { self == .spnego ? GSSAPI.spnegoMechanism : GSSAPI.kerberosMechanism }
}

/// Where the client's Kerberos identity comes from. Printing, interpolating or dumping a
/// value never shows the password.
public enum KerberosCredential: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The default ticket cache: KRB5CCNAME, else krb5.conf default_ccache_name (filled by kinit).
    case defaultCache
    /// A named ticket cache ("FILE:/path", "KEYRING:…", "DIR:…"), read without touching the
    /// environment.
    case cache(String)
    /// User principal ("user@REALM", or "user" for the default realm) and password. MIT
    /// keeps the tickets in a private MEMORY ccache and a copy of the password inside the
    /// GSS credential (to renew the TGT) until the credential is released; nothing goes to
    /// disk and KRB5CCNAME is neither read nor written.
    case password(principal: String, password: String)

    /// Without the password.
    public var description: String {
        switch self {
        case .defaultCache: return "default ticket cache"
        case .cache(let name): return "ticket cache \(name)"
        case .password(let principal, _): return "password for \(principal)"
        }
    }

    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["credential": description]) }
}

/// Flags of an established context (what was actually granted, not what was asked).
public struct KerberosContextFlags: OptionSet, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let delegation = KerberosContextFlags(rawValue: GSSAPI.Flag.delegate)
    public static let mutualAuthentication = KerberosContextFlags(rawValue: GSSAPI.Flag.mutual)
    public static let replayDetection = KerberosContextFlags(rawValue: GSSAPI.Flag.replay)
    public static let sequenceDetection = KerberosContextFlags(rawValue: GSSAPI.Flag.sequence)
    public static let confidentiality = KerberosContextFlags(rawValue: GSSAPI.Flag.confidentiality)
    public static let integrity = KerberosContextFlags(rawValue: GSSAPI.Flag.integrity)

    public var description: String {
        let names: [(KerberosContextFlags, String)] = [
            (.delegation, "delegation"), (.mutualAuthentication, "mutual"), (.replayDetection, "replay"),
            (.sequenceDetection, "sequence"), (.confidentiality, "confidentiality"), (.integrity, "integrity"),
        ]
        return "[" + names.filter { contains($0.0) }.map(\.1).joined(separator: ", ") + "]"
    }
}

/// A client credential acquired once (one AS exchange for a password) and shared by many
/// client contexts, e.g. one per connection to each host of a fleet. Thread-safe: MIT locks
/// the credential internally.
public final class KerberosAcquiredCredential: @unchecked Sendable {
    public let mechanism: KerberosMechanism
    let gss: GSSAPI.Credential
    /// The client principal, e.g. "operator@WINFLEET.TEST".
    public let principal: String
    private let realm: String?

    public init(_ credential: KerberosCredential, mechanism: KerberosMechanism) throws {
        self.mechanism = mechanism
        var principalHint: String?
        var realmHint: String?
        do {
            switch credential {
            case .password(let principal, let password):
                let name = try GSSAPI.Name(importing: principal, kind: .kerberosPrincipal)
                principalHint = name.kerberosPrincipal ?? principal
                realmHint = principalHint.flatMap(Self.realm(of:))
                gss = try GSSAPI.Credential.initiator(principal: name, password: Array(password.utf8),
                                                      mechanism: mechanism.oid)
            case .defaultCache:
                gss = try GSSAPI.Credential.initiator(cache: nil, mechanism: mechanism.oid)
            case .cache(let name):
                gss = try GSSAPI.Credential.initiator(cache: name, mechanism: mechanism.oid)
            }
            if mechanism == .spnego {
                try gss.restrictNegotiation(to: [GSSAPI.kerberosMechanism])
            }
        } catch let failure as GSSAPI.Failure {
            throw KerberosError(failure, phase: .acquiringInitiatorCredential,
                                principal: principalHint, realm: realmHint)
        }
        principal = gss.principalAndLifetime.principal ?? principalHint ?? ""
        realm = Self.realm(of: principal) ?? realmHint
    }

    /// Seconds until the TGT expires (MIT renews password credentials by itself).
    public var remainingLifetime: UInt32 { gss.principalAndLifetime.lifetime }

    /// The user's realm, used to name the realm when its KDC cannot be reached.
    var clientRealm: String? { realm }

    static func realm(of principal: String) -> String? {
        guard let at = principal.lastIndex(of: "@") else { return nil }
        let realm = principal[principal.index(after: at)...]
        return realm.isEmpty ? nil : String(realm)
    }
}
