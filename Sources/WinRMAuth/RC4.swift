import Foundation

/// RC4 stream cipher keeping its running state (i, j, S) between calls.
///
/// NTLM sealing uses one long-lived RC4 "handle" per direction: every sealed message and every
/// signature checksum continues the same keystream, so this must be a stateful value, not a function.
/// The permutation is stored inline (no heap array, so no copy-on-write check or copy can happen
/// while a message is processed) and the loops run over raw pointers.
public struct RC4 {
    private var permutation = InlineArray<256, UInt8>(repeating: 0)
    private var i: UInt8 = 0
    private var j: UInt8 = 0

    /// Key scheduling (KSA). The key must be 1...256 bytes.
    public init(key: [UInt8]) {
        precondition(!key.isEmpty && key.count <= 256, "RC4 key must be 1...256 bytes, got \(key.count)")
        withUnsafeMutableBytes(of: &permutation) { raw in
            let s = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            for index in 0..<256 { s[index] = UInt8(index) }
            var j: UInt8 = 0
            for index in 0..<256 {
                j = j &+ s[index] &+ key[index % key.count]
                let t = s[index]
                s[index] = s[Int(j)]
                s[Int(j)] = t
            }
        }
    }

    public init(key: Data) {
        self.init(key: [UInt8](key))
    }

    /// XORs the keystream into `buffer` in place.
    public mutating func process(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        let out = base.assumingMemoryBound(to: UInt8.self)
        let count = buffer.count
        var i = self.i
        var j = self.j
        withUnsafeMutableBytes(of: &permutation) { raw in
            let s = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            for offset in 0..<count {
                i = i &+ 1
                let si = s[Int(i)]
                j = j &+ si
                let sj = s[Int(j)]
                s[Int(i)] = sj
                s[Int(j)] = si
                out[offset] ^= s[Int(si &+ sj)]
            }
        }
        self.i = i
        self.j = j
    }

    public mutating func process(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { process($0) }
    }

    public mutating func process(_ data: inout Data) {
        data.withUnsafeMutableBytes { process($0) }
    }

    /// Returns the encryption (equivalently decryption) of `data`, advancing the keystream.
    public mutating func processed(_ data: Data) -> Data {
        var copy = data
        process(&copy)
        return copy
    }

    /// Advances the keystream by `count` bytes without producing output.
    public mutating func discard(_ count: Int) {
        var scratch = [UInt8](repeating: 0, count: min(count, 4096))
        var remaining = count
        while remaining > 0 {
            let chunk = min(remaining, scratch.count)
            scratch.withUnsafeMutableBytes { process(UnsafeMutableRawBufferPointer(rebasing: $0[0..<chunk])) }
            remaining -= chunk
        }
    }

    /// RC4K from MS-NLMP §6: a one-shot encryption with a fresh key schedule.
    public static func oneShot(key: Data, _ data: Data) -> Data {
        var cipher = RC4(key: key)
        return cipher.processed(data)
    }
}
