import Foundation

// NTLM message codecs (MS-NLMP §2.2.1). Each message starts with "NTLMSSP\0" and a message type;
// variable-length fields are described by (Len, MaxLen, BufferOffset) triples pointing into a payload
// that follows the fixed header. Decoders validate every triple against the message length and report the
// field by its MS-NLMP name.

/// The VERSION structure (MS-NLMP §2.2.2.10). Informational only; it is never used for decisions.
public struct NTLMVersion: Equatable, Sendable {
    public var major: UInt8
    public var minor: UInt8
    public var build: UInt16
    /// NTLMRevisionCurrent; 15 (NTLMSSP_REVISION_W2K3) for every current Windows.
    public var revision: UInt8

    public init(major: UInt8, minor: UInt8, build: UInt16, revision: UInt8 = 15) {
        self.major = major
        self.minor = minor
        self.build = build
        self.revision = revision
    }

    /// What we announce: Windows Server 2019 (10.0.17763).
    public static let winfleetDefault = NTLMVersion(major: 10, minor: 0, build: 17763)

    func encoded() -> [UInt8] {
        [major, minor, UInt8(truncatingIfNeeded: build), UInt8(truncatingIfNeeded: build >> 8), 0, 0, 0, revision]
    }

    static func decode(_ bytes: [UInt8]) -> NTLMVersion {
        NTLMVersion(major: bytes[0], minor: bytes[1], build: UInt16(bytes[2]) | UInt16(bytes[3]) << 8, revision: bytes[7])
    }
}

enum NTLMMessageType: UInt32 {
    case negotiate = 1
    case challenge = 2
    case authenticate = 3

    var name: String {
        switch self {
        case .negotiate: return "NEGOTIATE"
        case .challenge: return "CHALLENGE"
        case .authenticate: return "AUTHENTICATE"
        }
    }
}

let ntlmSignature: [UInt8] = Array("NTLMSSP\0".utf8)

/// Shared decode helpers that turn every bounds problem into `NTLMError.malformed` naming the field.
struct NTLMMessageReader {
    let reader: ByteReader
    let type: NTLMMessageType

    init(_ data: Data, expecting type: NTLMMessageType, minimumLength: Int) throws {
        self.reader = ByteReader(data)
        self.type = type
        guard reader.count >= minimumLength else {
            throw malformed("Header", "message is \(reader.count) bytes; a \(type.name) message needs at least \(minimumLength)")
        }
        guard reader.slice(at: 0, count: 8) == ntlmSignature else {
            let got = Data(reader.slice(at: 0, count: 8) ?? []).hexString
            throw malformed("Signature", "expected \"NTLMSSP\\0\" (4e544c4d53535000), got \(got)")
        }
        let messageType = reader.uint32(at: 8) ?? 0
        guard messageType == type.rawValue else {
            throw malformed("MessageType", "expected \(type.rawValue) (\(type.name)), got \(messageType)")
        }
    }

    func malformed(_ field: String, _ detail: String) -> NTLMError {
        .malformed(message: type.name, field: field, detail: detail)
    }

    func uint32(at offset: Int, field: String) throws -> UInt32 {
        guard let value = reader.uint32(at: offset) else {
            throw malformed(field, "needs 4 bytes at offset \(offset), message length \(reader.count)")
        }
        return value
    }

    func bytes(at offset: Int, count: Int, field: String) throws -> [UInt8] {
        guard let value = reader.slice(at: offset, count: count) else {
            throw malformed(field, "needs \(count) bytes at offset \(offset), message length \(reader.count)")
        }
        return value
    }

    /// Reads a (Len, MaxLen, BufferOffset) triple at `headerOffset` and returns the bytes it describes
    /// plus the buffer offset (used to detect where the payload starts).
    func payload(descriptorAt headerOffset: Int, field: String) throws -> (bytes: [UInt8], offset: Int) {
        guard let length = reader.uint16(at: headerOffset), let offset = reader.uint32(at: headerOffset + 4) else {
            throw malformed(field, "descriptor at offset \(headerOffset) truncated, message length \(reader.count)")
        }
        if length == 0 { return ([], Int(offset)) }
        guard let value = reader.slice(at: Int(offset), count: Int(length)) else {
            throw malformed(field, "offset \(offset) + length \(length) beyond message length \(reader.count)")
        }
        return (value, Int(offset))
    }
}

/// Builds a message: fixed header first, then payload fields whose descriptors are patched in as they are appended.
struct NTLMMessageWriter {
    private(set) var writer = ByteWriter(capacity: 256)
    private var pending: [(descriptorOffset: Int, bytes: [UInt8])] = []

    init(type: NTLMMessageType) {
        writer.append(contentsOf: ntlmSignature)
        writer.append(type.rawValue)
    }

    mutating func append(_ value: UInt32) { writer.append(value) }
    mutating func append(bytes: [UInt8]) { writer.append(contentsOf: bytes) }

    /// Reserves an 8-byte descriptor for a payload field; the field is laid out by `finish()` in call order.
    mutating func descriptor(for bytes: [UInt8]) {
        pending.append((writer.count, bytes))
        writer.appendZeros(8)
    }

    /// Lays out payload fields in the order their descriptors were reserved, unless `order` says otherwise.
    mutating func finish(payloadOrder order: [Int]? = nil) -> Data {
        let layout = order ?? Array(pending.indices)
        for index in layout {
            let field = pending[index]
            var descriptor = ByteWriter()
            descriptor.append(UInt16(field.bytes.count))
            descriptor.append(UInt16(field.bytes.count))
            descriptor.append(UInt32(writer.count))
            writer.replace(at: field.descriptorOffset, with: descriptor.bytes)
            writer.append(contentsOf: field.bytes)
        }
        return writer.data
    }
}

private func encodeText(_ string: String, unicode: Bool) -> [UInt8] {
    unicode ? TextCoding.utf16LE(string) : TextCoding.oem(string)
}

private func decodeText(_ bytes: [UInt8], unicode: Bool) -> String {
    unicode ? TextCoding.string(utf16LE: bytes) : TextCoding.string(oem: bytes)
}

// MARK: - NEGOTIATE_MESSAGE

public struct NTLMNegotiateMessage: Equatable, Sendable {
    public var flags: NTLMNegotiateFlags
    /// OEM-encoded per spec; we never send these (Windows clients do not either).
    public var domain: String?
    public var workstation: String?
    public var version: NTLMVersion?

    public init(flags: NTLMNegotiateFlags, domain: String? = nil, workstation: String? = nil, version: NTLMVersion? = nil) {
        self.flags = flags
        self.domain = domain
        self.workstation = workstation
        self.version = version
    }

    /// Flags are written verbatim; the Version field is laid out when `flags` contains VERSION.
    public func encoded() -> Data {
        var message = NTLMMessageWriter(type: .negotiate)
        message.append(flags.rawValue)
        message.descriptor(for: domain.map(TextCoding.oem) ?? [])
        message.descriptor(for: workstation.map(TextCoding.oem) ?? [])
        if flags.contains(.version) { message.append(bytes: (version ?? .winfleetDefault).encoded()) }
        return message.finish()
    }

    public static func decode(_ data: Data) throws -> NTLMNegotiateMessage {
        let message = try NTLMMessageReader(data, expecting: .negotiate, minimumLength: 16)
        let flags = NTLMNegotiateFlags(rawValue: try message.uint32(at: 12, field: "NegotiateFlags"))
        var result = NTLMNegotiateMessage(flags: flags)
        // Old clients send a 16-byte NEGOTIATE with no descriptors at all.
        if message.reader.count >= 32 {
            let domain = try message.payload(descriptorAt: 16, field: "DomainNameFields")
            let workstation = try message.payload(descriptorAt: 24, field: "WorkstationFields")
            if flags.contains(.oemDomainSupplied) { result.domain = TextCoding.string(oem: domain.bytes) }
            if flags.contains(.oemWorkstationSupplied) { result.workstation = TextCoding.string(oem: workstation.bytes) }
            if flags.contains(.version), message.reader.count >= 40 {
                result.version = NTLMVersion.decode(try message.bytes(at: 32, count: 8, field: "Version"))
            }
        }
        return result
    }
}

// MARK: - CHALLENGE_MESSAGE

public struct NTLMChallengeMessage: Equatable, Sendable {
    public var flags: NTLMNegotiateFlags
    public var serverChallenge: Data
    public var targetName: String?
    public var targetInfo: NTLMTargetInfo?
    public var version: NTLMVersion?

    public init(flags: NTLMNegotiateFlags, serverChallenge: Data, targetName: String? = nil,
                targetInfo: NTLMTargetInfo? = nil, version: NTLMVersion? = nil) {
        precondition(serverChallenge.count == 8, "ServerChallenge must be 8 bytes")
        self.flags = flags
        self.serverChallenge = serverChallenge
        self.targetName = targetName
        self.targetInfo = targetInfo
        self.version = version
    }

    /// Flags are written verbatim (the MS-NLMP example carries a TargetName without REQUEST_TARGET);
    /// the Version field is laid out when `flags` contains VERSION.
    public func encoded() -> Data {
        let unicode = flags.contains(.unicode)
        var message = NTLMMessageWriter(type: .challenge)
        message.descriptor(for: targetName.map { encodeText($0, unicode: unicode) } ?? [])
        message.append(flags.rawValue)
        message.append(bytes: [UInt8](serverChallenge))
        message.append(bytes: [UInt8](repeating: 0, count: 8))
        message.descriptor(for: targetInfo.map { [UInt8]($0.encoded()) } ?? [])
        if flags.contains(.version) { message.append(bytes: (version ?? .winfleetDefault).encoded()) }
        return message.finish()
    }

    /// Decodes and validates a CHALLENGE. Every structural problem throws `NTLMError.malformed` naming the field.
    /// A missing TargetInfo is not an error here (NTLMv1 servers omit it); the NTLMv2 client rejects it.
    public static func decode(_ data: Data) throws -> NTLMChallengeMessage {
        let message = try NTLMMessageReader(data, expecting: .challenge, minimumLength: 48)
        let flags = NTLMNegotiateFlags(rawValue: try message.uint32(at: 20, field: "NegotiateFlags"))
        let serverChallenge = Data(try message.bytes(at: 24, count: 8, field: "ServerChallenge"))
        let targetName = try message.payload(descriptorAt: 12, field: "TargetNameFields")
        let targetInfoField = try message.payload(descriptorAt: 40, field: "TargetInfoFields")

        var result = NTLMChallengeMessage(flags: flags, serverChallenge: serverChallenge)
        if !targetName.bytes.isEmpty || flags.contains(.requestTarget) {
            result.targetName = decodeText(targetName.bytes, unicode: flags.contains(.unicode))
        }
        if flags.contains(.targetInfo), !targetInfoField.bytes.isEmpty {
            result.targetInfo = try NTLMTargetInfo.decode(Data(targetInfoField.bytes), message: "CHALLENGE", field: "TargetInfo")
        }
        // The Version field exists only when the payload starts after it.
        let payloadStart = [targetName, targetInfoField].filter { !$0.bytes.isEmpty }.map(\.offset).min() ?? message.reader.count
        if flags.contains(.version), payloadStart >= 56, message.reader.count >= 56 {
            result.version = NTLMVersion.decode(try message.bytes(at: 48, count: 8, field: "Version"))
        }
        return result
    }
}

// MARK: - AUTHENTICATE_MESSAGE

public struct NTLMAuthenticateMessage: Equatable, Sendable {
    public var flags: NTLMNegotiateFlags
    public var lmChallengeResponse: Data
    public var ntChallengeResponse: Data
    public var domain: String
    public var user: String
    public var workstation: String
    public var encryptedRandomSessionKey: Data
    public var version: NTLMVersion?
    /// 16-byte MIC, or nil for the legacy layout without a MIC field.
    public var mic: Data?

    /// Byte offset of the MIC inside an encoded AUTHENTICATE message that has one.
    public static let micOffset = 72

    public init(flags: NTLMNegotiateFlags, lmChallengeResponse: Data, ntChallengeResponse: Data,
                domain: String, user: String, workstation: String, encryptedRandomSessionKey: Data,
                version: NTLMVersion?, mic: Data?) {
        self.flags = flags
        self.lmChallengeResponse = lmChallengeResponse
        self.ntChallengeResponse = ntChallengeResponse
        self.domain = domain
        self.user = user
        self.workstation = workstation
        self.encryptedRandomSessionKey = encryptedRandomSessionKey
        self.version = version
        self.mic = mic
    }

    /// Layout: 64-byte header, Version (8) when VERSION is set or a MIC follows, MIC (16) when present,
    /// then the payload in the order Windows uses (and the MS-NLMP §4.2 examples show):
    /// DomainName, UserName, Workstation, LmChallengeResponse, NtChallengeResponse, EncryptedRandomSessionKey.
    public func encoded() -> Data {
        let unicode = flags.contains(.unicode)
        var message = NTLMMessageWriter(type: .authenticate)
        message.descriptor(for: [UInt8](lmChallengeResponse))              // 0
        message.descriptor(for: [UInt8](ntChallengeResponse))              // 1
        message.descriptor(for: encodeText(domain, unicode: unicode))      // 2
        message.descriptor(for: encodeText(user, unicode: unicode))        // 3
        message.descriptor(for: encodeText(workstation, unicode: unicode)) // 4
        message.descriptor(for: [UInt8](encryptedRandomSessionKey))        // 5
        message.append(flags.rawValue)
        if flags.contains(.version) || mic != nil {
            message.append(bytes: flags.contains(.version) ? (version ?? .winfleetDefault).encoded() : [UInt8](repeating: 0, count: 8))
        }
        if let mic {
            precondition(mic.count == 16, "MIC must be 16 bytes")
            message.append(bytes: [UInt8](mic))
        }
        return message.finish(payloadOrder: [2, 3, 4, 0, 1, 5])
    }

    public static func decode(_ data: Data) throws -> NTLMAuthenticateMessage {
        let message = try NTLMMessageReader(data, expecting: .authenticate, minimumLength: 64)
        let flags = NTLMNegotiateFlags(rawValue: try message.uint32(at: 60, field: "NegotiateFlags"))
        let lm = try message.payload(descriptorAt: 12, field: "LmChallengeResponseFields")
        let nt = try message.payload(descriptorAt: 20, field: "NtChallengeResponseFields")
        let domain = try message.payload(descriptorAt: 28, field: "DomainNameFields")
        let user = try message.payload(descriptorAt: 36, field: "UserNameFields")
        let workstation = try message.payload(descriptorAt: 44, field: "WorkstationFields")
        let sessionKey = try message.payload(descriptorAt: 52, field: "EncryptedRandomSessionKeyFields")

        // Optional Version and MIC fields exist only if the payload starts after them.
        let fields = [lm, nt, domain, user, workstation, sessionKey]
        let payloadStart = fields.filter { !$0.bytes.isEmpty }.map(\.offset).min() ?? message.reader.count
        let unicode = flags.contains(.unicode)
        var version: NTLMVersion?
        if flags.contains(.version), payloadStart >= 72 {
            version = NTLMVersion.decode(try message.bytes(at: 64, count: 8, field: "Version"))
        }
        var mic: Data?
        if payloadStart >= 88 {
            mic = Data(try message.bytes(at: micOffset, count: 16, field: "MIC"))
        }
        return NTLMAuthenticateMessage(
            flags: flags,
            lmChallengeResponse: Data(lm.bytes), ntChallengeResponse: Data(nt.bytes),
            domain: decodeText(domain.bytes, unicode: unicode), user: decodeText(user.bytes, unicode: unicode),
            workstation: decodeText(workstation.bytes, unicode: unicode),
            encryptedRandomSessionKey: Data(sessionKey.bytes), version: version, mic: mic)
    }
}
