import Foundation

/// A user name and the NT hash of its password, as NTLM needs them.
///
/// Accepted user forms:
/// - `DOMAIN\user` → domain `DOMAIN`, user `user` (split at the first backslash).
/// - `user@dns.domain` (UPN) → user `user@dns.domain`, domain empty. This is what Windows SSPI and
///   pyspnego (`split_username`) send: the DC resolves the UPN itself, and NTOWFv2 is then computed over
///   UPPER("USER@DNS.DOMAIN") with an empty domain. Splitting the UPN into user/domain would produce a
///   different NTOWFv2 and fail against Windows. `upnSuffix` exposes the part after `@` for display/routing.
/// - `user` → domain empty (local account on the target).
///
/// The password itself is not retained: only its MD4 hash (NTOWFv1), and descriptions never print it.
public struct NTLMCredential: Sendable {
    public let domain: String
    public let user: String
    /// NTOWFv1 = MD4(UTF-16LE(password)).
    let ntHash: Data

    public init(user: String, password: String) {
        let (domain, user) = NTLMCredential.split(user)
        self.init(domain: domain, user: user, ntHash: NTLMCrypto.ntHash(password: password))
    }

    public init(domain: String, user: String, password: String) {
        self.init(domain: domain, user: user, ntHash: NTLMCrypto.ntHash(password: password))
    }

    /// For callers that store NT hashes rather than passwords. `ntHash` must be 16 bytes.
    public init(domain: String, user: String, ntHash: Data) {
        precondition(ntHash.count == 16, "an NT hash is 16 bytes")
        self.domain = domain
        self.user = user
        self.ntHash = ntHash
    }

    /// Splits `DOMAIN\user`; every other form keeps the whole string as the user name (see type docs).
    public static func split(_ name: String) -> (domain: String, user: String) {
        if let slash = name.firstIndex(of: "\\") {
            return (String(name[..<slash]), String(name[name.index(after: slash)...]))
        }
        return ("", name)
    }

    /// The DNS domain of a UPN-form user (`alice@corp.example` → `corp.example`), else nil.
    public var upnSuffix: String? {
        guard domain.isEmpty, let at = user.lastIndex(of: "@") else { return nil }
        let suffix = user[user.index(after: at)...]
        return suffix.isEmpty ? nil : String(suffix)
    }

    /// `DOMAIN\user`, or `user` when there is no domain.
    public var displayName: String {
        domain.isEmpty ? user : "\(domain)\\\(user)"
    }

    /// Server-side matching: user names compare case-insensitively (as Windows does); a credential registered
    /// without a domain accepts any domain the client names, one with a domain requires that domain.
    func matches(user otherUser: String, domain otherDomain: String) -> Bool {
        guard user.caseInsensitiveCompare(otherUser) == .orderedSame else { return false }
        return domain.isEmpty || domain.caseInsensitiveCompare(otherDomain) == .orderedSame
    }
}

extension NTLMCredential: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "NTLMCredential(\(displayName), password: <redacted>)" }
    public var debugDescription: String { description }
}
