import Foundation

/// Keeps a `RouteHealth` up to date from a `FleetEngine`'s updates (the console reads `snapshot`).
/// The only I/O-side part: it looks up the host's round-trip time, which `RunUpdate` does not carry.
public final class RouteHealthMonitor: @unchecked Sendable {
    private let lock = NSLock()
    private var health: RouteHealth
    /// Called after every change, with the new figures (on the engine's reporting thread).
    public var onChange: (@Sendable (RouteHealth) -> Void)?

    /// Starts observing `engine`; every route of its plans starts at zero.
    public init(engine: FleetEngine) {
        health = RouteHealth(plans: engine.plans)
        engine.observe { [weak self, weak engine] update in
            guard let self else { return }
            var roundTrip: TimeInterval?
            if case .result(let result) = update {
                // 0 means the session never got an answer: no figure rather than a false one.
                roundTrip = engine?.session(result.host)?.roundTripTime.flatMap { $0 > 0 ? $0 : nil }
            }
            self.apply(update, roundTrip: roundTrip)
        }
    }

    public var snapshot: RouteHealth { lock.withLock { health } }

    func apply(_ update: RunUpdate, roundTrip: TimeInterval?) {
        let changed = lock.withLock { () -> RouteHealth? in
            let before = health
            health.apply(update, roundTrip: roundTrip)
            return health == before ? nil : health
        }
        if let changed { onChange?(changed) }
    }
}
