import Synchronization

/// Fresh upper-case GUIDs for message, session, shell and command ids.
///
/// Foundation's `UUID()` asks the kernel for 16 random bytes every time; a fleet run needs one id per
/// request, thousands a second, and they need to be unique, not secret. So the process draws one
/// random 128-bit seed and numbers its ids: the low half is a bijective mix of a counter, which makes
/// two ids of one process differ always, and the seed makes ids of two processes differ with the odds
/// of random GUIDs. The version (4) and variant bits are set as RFC 9562 asks.
public enum MessageIdentifier {
    private static let seed: (UInt64, UInt64) = {
        var generator = SystemRandomNumberGenerator()
        return (generator.next(), generator.next())
    }()
    private static let counter = Atomic<UInt64>(0)

    /// `XXXXXXXX-XXXX-4XXX-YXXX-XXXXXXXXXXXX`, upper case.
    public static func next() -> String {
        let count = counter.wrappingAdd(1, ordering: .relaxed).newValue
        let high = (seed.0 & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let low = (mix(seed.1 &+ count) & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return format(high: high, low: low)
    }

    /// SplitMix64's finaliser: a bijection on 64-bit values.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func format(high: UInt64, low: UInt64) -> String {
        let digits: StaticString = "0123456789ABCDEF"
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            func put(_ value: UInt64, nibbles: Int) {
                for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
                    buffer[index] = digits.utf8Start[Int((value >> UInt64(shift)) & 0xF)]
                    index += 1
                }
            }
            func dash() { buffer[index] = UInt8(ascii: "-"); index += 1 }
            put(high >> 32, nibbles: 8); dash()
            put((high >> 16) & 0xFFFF, nibbles: 4); dash()
            put(high & 0xFFFF, nibbles: 4); dash()
            put(low >> 48, nibbles: 4); dash()
            put(low & 0xFFFF_FFFF_FFFF, nibbles: 12)
            return index
        }
    }
}
