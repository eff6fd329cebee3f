import Foundation

/// MD4 message digest (RFC 1320).
///
/// Only needed for the NT one-way function (NTOWF = MD4(UTF-16LE(password))); swift-crypto does not ship MD4.
/// Inputs are short (passwords), but the compression loop still works on a fixed 16-word block without
/// per-byte allocations.
public enum MD4 {
    public static let digestByteCount = 16

    public static func hash(_ data: Data) -> Data {
        Data(hash([UInt8](data)))
    }

    public static func hash(_ message: [UInt8]) -> [UInt8] {
        var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476)

        // Padding (RFC 1320 §3.1–3.2): 0x80, zeros to 56 mod 64, then the bit length as 64-bit little-endian.
        var padded = message
        let bitLength = UInt64(message.count) &* 8
        padded.append(0x80)
        while padded.count % 64 != 56 { padded.append(0) }
        for shift in stride(from: 0, to: 64, by: 8) {
            padded.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }

        var block = [UInt32](repeating: 0, count: 16)
        padded.withUnsafeBufferPointer { bytes in
            block.withUnsafeMutableBufferPointer { words in
                var blockStart = 0
                while blockStart < bytes.count {
                    for index in 0..<16 {
                        let base = blockStart + index * 4
                        words[index] = UInt32(bytes[base])
                            | UInt32(bytes[base + 1]) << 8
                            | UInt32(bytes[base + 2]) << 16
                            | UInt32(bytes[base + 3]) << 24
                    }
                    compress(&state, words)
                    blockStart += 64
                }
            }
        }

        var digest = [UInt8]()
        digest.reserveCapacity(16)
        for word in [state.0, state.1, state.2, state.3] {
            digest.append(UInt8(truncatingIfNeeded: word))
            digest.append(UInt8(truncatingIfNeeded: word >> 8))
            digest.append(UInt8(truncatingIfNeeded: word >> 16))
            digest.append(UInt8(truncatingIfNeeded: word >> 24))
        }
        return digest
    }

    @inline(__always)
    private static func rotateLeft(_ value: UInt32, _ count: UInt32) -> UInt32 {
        (value << count) | (value >> (32 - count))
    }

    /// One MD4 compression over a 16-word block: three rounds of 16 operations (RFC 1320 §3.4).
    private static func compress(_ state: inout (UInt32, UInt32, UInt32, UInt32), _ x: UnsafeMutableBufferPointer<UInt32>) {
        var a = state.0, b = state.1, c = state.2, d = state.3

        // Round 1: F(x,y,z) = (x & y) | (~x & z)
        @inline(__always) func round1(_ a: inout UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ k: Int, _ s: UInt32) {
            a = rotateLeft(a &+ ((b & c) | (~b & d)) &+ x[k], s)
        }
        // Round 2: G(x,y,z) = (x & y) | (x & z) | (y & z), constant sqrt(2)
        @inline(__always) func round2(_ a: inout UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ k: Int, _ s: UInt32) {
            a = rotateLeft(a &+ ((b & c) | (b & d) | (c & d)) &+ x[k] &+ 0x5A82_7999, s)
        }
        // Round 3: H(x,y,z) = x ^ y ^ z, constant sqrt(3)
        @inline(__always) func round3(_ a: inout UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ k: Int, _ s: UInt32) {
            a = rotateLeft(a &+ (b ^ c ^ d) &+ x[k] &+ 0x6ED9_EBA1, s)
        }

        for k in stride(from: 0, to: 16, by: 4) {
            round1(&a, b, c, d, k, 3)
            round1(&d, a, b, c, k + 1, 7)
            round1(&c, d, a, b, k + 2, 11)
            round1(&b, c, d, a, k + 3, 19)
        }
        for k in 0..<4 {
            round2(&a, b, c, d, k, 3)
            round2(&d, a, b, c, k + 4, 5)
            round2(&c, d, a, b, k + 8, 9)
            round2(&b, c, d, a, k + 12, 13)
        }
        for k in [0, 2, 1, 3] {
            round3(&a, b, c, d, k, 3)
            round3(&d, a, b, c, k + 8, 9)
            round3(&c, d, a, b, k + 4, 11)
            round3(&b, c, d, a, k + 12, 15)
        }

        state.0 = state.0 &+ a
        state.1 = state.1 &+ b
        state.2 = state.2 &+ c
        state.3 = state.3 &+ d
    }
}
