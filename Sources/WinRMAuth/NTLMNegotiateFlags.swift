import Foundation

/// NegotiateFlags of MS-NLMP §2.2.2.5.
public struct NTLMNegotiateFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let unicode = NTLMNegotiateFlags(rawValue: 0x0000_0001)
    public static let oem = NTLMNegotiateFlags(rawValue: 0x0000_0002)
    public static let requestTarget = NTLMNegotiateFlags(rawValue: 0x0000_0004)
    public static let sign = NTLMNegotiateFlags(rawValue: 0x0000_0010)
    public static let seal = NTLMNegotiateFlags(rawValue: 0x0000_0020)
    public static let datagram = NTLMNegotiateFlags(rawValue: 0x0000_0040)
    public static let lmKey = NTLMNegotiateFlags(rawValue: 0x0000_0080)
    public static let ntlm = NTLMNegotiateFlags(rawValue: 0x0000_0200)
    public static let anonymous = NTLMNegotiateFlags(rawValue: 0x0000_0800)
    public static let oemDomainSupplied = NTLMNegotiateFlags(rawValue: 0x0000_1000)
    public static let oemWorkstationSupplied = NTLMNegotiateFlags(rawValue: 0x0000_2000)
    public static let alwaysSign = NTLMNegotiateFlags(rawValue: 0x0000_8000)
    public static let targetTypeDomain = NTLMNegotiateFlags(rawValue: 0x0001_0000)
    public static let targetTypeServer = NTLMNegotiateFlags(rawValue: 0x0002_0000)
    public static let extendedSessionSecurity = NTLMNegotiateFlags(rawValue: 0x0008_0000)
    public static let identify = NTLMNegotiateFlags(rawValue: 0x0010_0000)
    public static let requestNonNTSessionKey = NTLMNegotiateFlags(rawValue: 0x0040_0000)
    public static let targetInfo = NTLMNegotiateFlags(rawValue: 0x0080_0000)
    public static let version = NTLMNegotiateFlags(rawValue: 0x0200_0000)
    public static let key128 = NTLMNegotiateFlags(rawValue: 0x2000_0000)
    public static let keyExchange = NTLMNegotiateFlags(rawValue: 0x4000_0000)
    public static let key56 = NTLMNegotiateFlags(rawValue: 0x8000_0000)

    /// What our client asks for in NEGOTIATE: NTLMv2 with extended session security, signing and
    /// 128-bit sealing with a client-chosen (key-exchanged) session key.
    public static let clientDefault: NTLMNegotiateFlags = [
        .unicode, .requestTarget, .sign, .seal, .ntlm, .alwaysSign,
        .extendedSessionSecurity, .version, .key128, .keyExchange, .key56,
    ]

    /// Everything our server is willing to echo back from a client's NEGOTIATE.
    static let serverSupported: NTLMNegotiateFlags = [
        .unicode, .requestTarget, .sign, .seal, .ntlm, .alwaysSign,
        .extendedSessionSecurity, .version, .key128, .keyExchange, .key56,
    ]
}

extension NTLMNegotiateFlags: CustomStringConvertible {
    public var description: String {
        let names: [(NTLMNegotiateFlags, String)] = [
            (.unicode, "UNICODE"), (.oem, "OEM"), (.requestTarget, "REQUEST_TARGET"), (.sign, "SIGN"),
            (.seal, "SEAL"), (.datagram, "DATAGRAM"), (.lmKey, "LM_KEY"), (.ntlm, "NTLM"),
            (.anonymous, "ANONYMOUS"), (.oemDomainSupplied, "OEM_DOMAIN_SUPPLIED"),
            (.oemWorkstationSupplied, "OEM_WORKSTATION_SUPPLIED"), (.alwaysSign, "ALWAYS_SIGN"),
            (.targetTypeDomain, "TARGET_TYPE_DOMAIN"), (.targetTypeServer, "TARGET_TYPE_SERVER"),
            (.extendedSessionSecurity, "EXTENDED_SESSIONSECURITY"), (.identify, "IDENTIFY"),
            (.requestNonNTSessionKey, "REQUEST_NON_NT_SESSION_KEY"), (.targetInfo, "TARGET_INFO"),
            (.version, "VERSION"), (.key128, "128"), (.keyExchange, "KEY_EXCH"), (.key56, "56"),
        ]
        let present = names.filter { contains($0.0) }.map(\.1)
        return String(format: "0x%08x", rawValue) + (present.isEmpty ? "" : " [" + present.joined(separator: "|") + "]")
    }
}
