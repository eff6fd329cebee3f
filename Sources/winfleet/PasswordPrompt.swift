import Foundation
import Inventory

/// Asks for a password on the terminal without echo (never shown, never stored). Used when a
/// credential's password is in neither its environment variable nor its file.
enum PasswordPrompt {
    static func ask(_ credential: Credential, because error: Error) -> String? {
        let tty = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard tty >= 0 else { return nil }
        defer { close(tty) }
        write(tty, "winfleet: \(error)\nPassword for \(credential.username) (credential \(credential.name)): ")
        var saved = termios()
        tcgetattr(tty, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(tty, TCSAFLUSH, &silent)
        defer {
            tcsetattr(tty, TCSAFLUSH, &saved)
            write(tty, "\n")
        }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(tty, &byte, 1) == 1, byte != 10, byte != 13 {
            bytes.append(byte)
        }
        let password = String(decoding: bytes, as: UTF8.self)
        bytes.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices { buffer[index] = 0 }
        }
        return password
    }

    private static func write(_ fd: Int32, _ text: String) {
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
    }
}

/// Passwords live in this process's memory while it runs; a core file would carry them to disk.
enum CoreDumps {
    static func disable() {
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(Int32(RLIMIT_CORE.rawValue), &none)
    }
}
