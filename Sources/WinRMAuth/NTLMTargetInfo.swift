import Foundation

/// AV_PAIR identifiers (MS-NLMP §2.2.2.1).
public enum NTLMAVID: UInt16, Sendable {
    case eol = 0
    case nbComputerName = 1
    case nbDomainName = 2
    case dnsComputerName = 3
    case dnsDomainName = 4
    case dnsTreeName = 5
    case flags = 6
    case timestamp = 7
    case singleHost = 8
    case targetName = 9
    case channelBindings = 10
}

/// Bits of the MsvAvFlags AV pair.
public struct NTLMAVFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let accountAuthenticationConstrained = NTLMAVFlags(rawValue: 0x1)
    /// The AUTHENTICATE message carries a MIC.
    public static let micPresent = NTLMAVFlags(rawValue: 0x2)
    public static let targetSPNFromUntrustedSource = NTLMAVFlags(rawValue: 0x4)
}

public struct NTLMAVPair: Equatable, Sendable {
    public var id: UInt16
    public var value: Data

    public init(id: UInt16, value: Data) {
        self.id = id
        self.value = value
    }
}

/// The TargetInfo AV pair list: in the CHALLENGE (server naming context) and, extended by the client,
/// inside the NTLMv2 client challenge blob. Order is kept as received; the terminating MsvAvEOL is implicit.
public struct NTLMTargetInfo: Equatable, Sendable {
    public private(set) var pairs: [NTLMAVPair] = []

    public init(pairs: [NTLMAVPair] = []) {
        self.pairs = pairs.filter { $0.id != NTLMAVID.eol.rawValue }
    }

    public subscript(id: NTLMAVID) -> Data? {
        get { pairs.first { $0.id == id.rawValue }?.value }
        set {
            if let index = pairs.firstIndex(where: { $0.id == id.rawValue }) {
                if let newValue { pairs[index].value = newValue } else { pairs.remove(at: index) }
            } else if let newValue {
                pairs.append(NTLMAVPair(id: id.rawValue, value: newValue))
            }
        }
    }

    public func string(_ id: NTLMAVID) -> String? {
        self[id].map { TextCoding.string(utf16LE: [UInt8]($0)) }
    }

    public mutating func setString(_ id: NTLMAVID, _ value: String) {
        self[id] = Data(TextCoding.utf16LE(value))
    }

    /// MsvAvTimestamp as a FILETIME (100 ns ticks since 1601-01-01 UTC).
    public var timestamp: UInt64? {
        get { self[.timestamp].flatMap { ByteReader($0).uint64(at: 0) } }
        set {
            guard let newValue else { self[.timestamp] = nil; return }
            var writer = ByteWriter()
            writer.append(newValue)
            self[.timestamp] = writer.data
        }
    }

    public var flags: NTLMAVFlags {
        get { NTLMAVFlags(rawValue: self[.flags].flatMap { ByteReader($0).uint32(at: 0) } ?? 0) }
        set {
            var writer = ByteWriter()
            writer.append(newValue.rawValue)
            self[.flags] = writer.data
        }
    }

    /// Serialized pairs followed by MsvAvEOL.
    public func encoded() -> Data {
        var writer = ByteWriter()
        for pair in pairs {
            writer.append(pair.id)
            writer.append(UInt16(pair.value.count))
            writer.append(contentsOf: pair.value)
        }
        writer.append(UInt16(NTLMAVID.eol.rawValue))
        writer.append(UInt16(0))
        return writer.data
    }

    /// Parses an AV pair list up to MsvAvEOL. Bytes after EOL are ignored (the NTLMv2 blob has 4 trailing zeros).
    /// - Parameters: `message`/`field` name the container for error reports.
    public static func decode(_ data: Data, message: String, field: String) throws -> NTLMTargetInfo {
        let reader = ByteReader(data)
        var pairs: [NTLMAVPair] = []
        var offset = 0
        while true {
            guard let id = reader.uint16(at: offset), let length = reader.uint16(at: offset + 2) else {
                throw NTLMError.malformed(
                    message: message, field: field,
                    detail: "AV pair list ends at byte \(offset) of \(reader.count) without MsvAvEOL")
            }
            if id == NTLMAVID.eol.rawValue { break }
            guard let value = reader.slice(at: offset + 4, count: Int(length)) else {
                throw NTLMError.malformed(
                    message: message, field: field,
                    detail: "AV pair \(id) at byte \(offset) declares length \(length) beyond the \(reader.count)-byte list")
            }
            pairs.append(NTLMAVPair(id: id, value: Data(value)))
            offset += 4 + Int(length)
        }
        return NTLMTargetInfo(pairs: pairs)
    }
}

/// Windows FILETIME helpers.
public enum FileTime {
    /// Seconds between 1601-01-01 and 1970-01-01.
    static let unixEpochOffsetSeconds: Double = 11_644_473_600

    public static func fileTime(from date: Date) -> UInt64 {
        UInt64(((date.timeIntervalSince1970 + unixEpochOffsetSeconds) * 10_000_000).rounded(.down))
    }

    public static func date(fromFileTime value: UInt64) -> Date {
        Date(timeIntervalSince1970: Double(value) / 10_000_000 - unixEpochOffsetSeconds)
    }
}
