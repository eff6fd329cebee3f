import Foundation

/// The few SPNEGO (RFC 4178) tokens a Windows acceptor exchanges when NTLM runs inside `Negotiate`:
/// the client's NegTokenInit (in a GSS-API InitialContextToken) and NegTokenResp, and the server's
/// NegTokenResp. Definite-length DER only, which is all SPNEGO uses.
enum SPNEGOToken {
    /// 1.3.6.1.4.1.311.2.2.10
    static let ntlmOID: [UInt8] = [0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0A]
    /// 1.3.6.1.5.5.2
    static let spnegoOID: [UInt8] = [0x2B, 0x06, 0x01, 0x05, 0x05, 0x02]

    enum NegState: UInt8 {
        case acceptCompleted = 0
        case acceptIncomplete = 1
        case reject = 2
        case requestMIC = 3
    }

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    /// What the client sent.
    struct Incoming: Equatable {
        /// Mechanism OIDs (content bytes) of a NegTokenInit, in preference order.
        var mechTypes: [[UInt8]] = []
        /// DER of the `MechTypeList` SEQUENCE, which the mechListMIC covers.
        var mechTypeListDER: [UInt8]?
        /// `mechToken` (NegTokenInit) or `responseToken` (NegTokenResp).
        var mechToken: [UInt8]?
        var mechListMIC: [UInt8]?
        var isInit: Bool
    }

    static func isSPNEGO(_ token: Data) -> Bool {
        token.first == 0x60 || token.first == 0xA1
    }

    static func parse(_ token: Data) throws -> Incoming {
        let bytes = [UInt8](token)
        var reader = Reader(bytes[...])
        let outer = try reader.element()
        switch outer.tag {
        case 0x60:
            // InitialContextToken: thisMech OID, then [0] NegTokenInit.
            var inner = Reader(outer.content)
            let oid = try inner.element()
            guard oid.tag == 0x06, Array(oid.content) == spnegoOID else {
                throw ParseError(description: "InitialContextToken is not SPNEGO")
            }
            let negTokenInit = try inner.element()
            guard negTokenInit.tag == 0xA0 else { throw ParseError(description: "expected NegTokenInit [0]") }
            var seqReader = Reader(negTokenInit.content)
            let sequence = try seqReader.element()
            guard sequence.tag == 0x30 else { throw ParseError(description: "NegTokenInit is not a SEQUENCE") }
            var result = Incoming(isInit: true)
            var fields = Reader(sequence.content)
            while !fields.isAtEnd {
                let field = try fields.element()
                var value = Reader(field.content)
                switch field.tag {
                case 0xA0:
                    let list = try value.element()
                    result.mechTypeListDER = Array(list.raw)
                    var oids = Reader(list.content)
                    while !oids.isAtEnd {
                        let oid = try oids.element()
                        result.mechTypes.append(Array(oid.content))
                    }
                case 0xA2:
                    result.mechToken = Array(try value.element().content)
                case 0xA3:
                    result.mechListMIC = Array(try value.element().content)
                default:
                    break  // reqFlags [1], negHints [3 in MS variant]: not needed
                }
            }
            return result
        case 0xA1:
            var seqReader = Reader(outer.content)
            let sequence = try seqReader.element()
            guard sequence.tag == 0x30 else { throw ParseError(description: "NegTokenResp is not a SEQUENCE") }
            var result = Incoming(isInit: false)
            var fields = Reader(sequence.content)
            while !fields.isAtEnd {
                let field = try fields.element()
                var value = Reader(field.content)
                switch field.tag {
                case 0xA2: result.mechToken = Array(try value.element().content)
                case 0xA3: result.mechListMIC = Array(try value.element().content)
                default: break
                }
            }
            return result
        default:
            throw ParseError(description: String(format: "unexpected SPNEGO token tag 0x%02X", outer.tag))
        }
    }

    /// The acceptor's NegTokenResp.
    static func response(state: NegState, supportedMech: [UInt8]? = nil, responseToken: Data? = nil,
                         mechListMIC: Data? = nil) -> Data {
        var fields: [UInt8] = []
        fields += tlv(0xA0, tlv(0x0A, [state.rawValue]))
        if let mech = supportedMech { fields += tlv(0xA1, tlv(0x06, mech)) }
        if let token = responseToken { fields += tlv(0xA2, tlv(0x04, [UInt8](token))) }
        if let mic = mechListMIC { fields += tlv(0xA3, tlv(0x04, [UInt8](mic))) }
        return Data(tlv(0xA1, tlv(0x30, fields)))
    }

    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [tag]
        let n = content.count
        if n < 0x80 {
            out.append(UInt8(n))
        } else {
            var length: [UInt8] = []
            var rest = n
            while rest > 0 { length.insert(UInt8(rest & 0xFF), at: 0); rest >>= 8 }
            out.append(0x80 | UInt8(length.count))
            out += length
        }
        return out + content
    }

    struct Element {
        var tag: UInt8
        var content: ArraySlice<UInt8>
        var raw: ArraySlice<UInt8>
    }

    struct Reader {
        var bytes: ArraySlice<UInt8>
        init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }
        var isAtEnd: Bool { bytes.isEmpty }

        mutating func element() throws -> Element {
            let start = bytes.startIndex
            guard bytes.count >= 2 else { throw ParseError(description: "truncated DER element") }
            let tag = bytes[start]
            var index = start + 1
            var length = Int(bytes[index])
            index += 1
            if length & 0x80 != 0 {
                let count = length & 0x7F
                guard count > 0, count <= 4, bytes.endIndex - index >= count else {
                    throw ParseError(description: "unsupported DER length")
                }
                length = 0
                for _ in 0..<count { length = length << 8 | Int(bytes[index]); index += 1 }
            }
            guard bytes.endIndex - index >= length else { throw ParseError(description: "DER element overruns the token") }
            let element = Element(tag: tag, content: bytes[index..<(index + length)], raw: bytes[start..<(index + length)])
            bytes = bytes[(index + length)...]
            return element
        }
    }
}
