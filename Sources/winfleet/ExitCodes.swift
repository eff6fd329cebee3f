import ArgumentParser
import Foundation

/// The exit statuses of `winfleet run` (a contract for scripts).
enum RunExit {
    static let allOK: Int32 = 0
    static let commandFailed: Int32 = 1
    static let hostError: Int32 = 2
    static let usage: Int32 = 64
}

/// Prints a diagnostic line to stderr.
func diagnose(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Stops with `usage` status after printing `message` (inventory, target or policy problems).
func failUsage(_ message: String) -> ExitCode {
    diagnose(message)
    return ExitCode(RunExit.usage)
}
