import Foundation

/// What the console needs from the engine. The engine runs beside the UI (its own threads); every method
/// here must return quickly and never block on the network.
///
/// Call sequence: the console calls `setUpdateHandler` once, then `snapshot()` whenever the handler fired
/// (at most ~30 times a second), and the intent methods (`startRun`, `cancel` …) as the user asks.
public protocol ConsoleEngine: AnyObject {
    /// The current, coalesced state. Cheap: a value copy.
    func snapshot() -> FleetSnapshot
    /// Called from any thread whenever the snapshot changed. The console only sets a flag in it.
    func setUpdateHandler(_ handler: @escaping @Sendable () -> Void)
    func startRun(command: String, powershell: Bool, hosts: [String])
    /// Expands a target expression ("web[01-20],@iis,route:dmz"). Errors are shown in the status line.
    func resolveTarget(_ expression: String) throws -> [String]
    func cancel(host: String)
    func cancelRun()
    func setThrottle(_ n: Int)
    /// The per-host results of a past run (from the store).
    func openHistoryRun(id: Int64) -> [RunHostRow]
    /// A one-line account of what is still pending in the active run (shown on the first ctrl-c).
    func pendingSummary() -> String
}
