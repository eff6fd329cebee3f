import Foundation

/// Answers "is the winfleet process that started this run still alive?" for runs started on this machine.
enum ProcessLiveness {
    /// A token that identifies one process life: boot id + start time of `pid` (Linux /proc). Two processes
    /// with the same pid (pid reuse, or a restarted container where winfleet gets the same pid) differ in
    /// it. Nil where /proc is not available.
    static func startToken(of pid: Int32) -> String? {
        guard pid > 0,
              let bootID = readSmallFile("/proc/sys/kernel/random/boot_id")?
                  .trimmingCharacters(in: .whitespacesAndNewlines),
              let stat = readSmallFile("/proc/\(pid)/stat"),
              let commandEnd = stat.lastIndex(of: ")") else { return nil }
        // Fields after "pid (comm)" start with field 3 (state); field 22 is the start time in clock ticks.
        let fields = stat[stat.index(after: commandEnd)...].split(separator: " ")
        guard fields.count > 19 else { return nil }
        return "\(bootID):\(fields[19])"
    }

    /// False only when sure the process is gone: no such pid, or the pid now belongs to another process
    /// (its start token differs from the recorded one).
    static func isAlive(pid: Int32, recordedStartToken: String?) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 && errno != EPERM { return false }  // EPERM: alive, owned by another user
        if let recordedStartToken, let current = startToken(of: pid), current != recordedStartToken {
            return false
        }
        return true
    }

    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }
}

/// `close(2)`, callable from types that have a `close()` method of their own.
func closeFileDescriptor(_ fd: Int32) {
    close(fd)
}
