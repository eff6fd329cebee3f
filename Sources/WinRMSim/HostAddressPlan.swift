import Foundation

/// Names and loopback addresses of the simulated hosts: WIN0001 at the first address, then consecutive
/// IPv4 addresses, skipping `.0` and `.255` in the last octet (they read as network/broadcast addresses
/// to people and to some tools, even on loopback).
enum HostAddressPlan {
    struct Entry: Equatable {
        var name: String
        var address: String
    }

    enum PlanError: Error, CustomStringConvertible {
        case notIPv4(String)
        case notLoopback(String)
        case exhausted(first: String, count: Int)

        var description: String {
            switch self {
            case .notIPv4(let a): return "first simulator address '\(a)' is not a dotted IPv4 address (e.g. 127.1.0.1)"
            case .notLoopback(let a): return "first simulator address '\(a)' is not in 127.0.0.0/8; the simulator listens on loopback only"
            case .exhausted(let f, let n): return "\(n) hosts starting at \(f) do not fit in 127.0.0.0/8; choose a lower first address"
            }
        }
    }

    static func plan(count: Int, firstAddress: String, prefix: String) throws -> [Entry] {
        guard var value = parse(firstAddress) else { throw PlanError.notIPv4(firstAddress) }
        guard value >> 24 == 127 else { throw PlanError.notLoopback(firstAddress) }
        let width = max(4, String(count).count)
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        var index = 1
        while entries.count < count {
            let last = value & 0xFF
            if last == 0 || last == 255 {
                value += 1
                continue
            }
            guard value >> 24 == 127 else { throw PlanError.exhausted(first: firstAddress, count: count) }
            let number = String(index)
            let name = prefix + String(repeating: "0", count: max(0, width - number.count)) + number
            entries.append(Entry(name: name, address: format(value)))
            index += 1
            value += 1
        }
        return entries
    }

    static func parse(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }

    static func format(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    /// Network-order bytes of an IPv4 address (for certificate IP SANs).
    static func bytes(_ text: String) -> [UInt8]? {
        guard let v = parse(text) else { return nil }
        return [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }
}
