import Foundation
import NIOCore
import WinRMAuth

/// What every connection of one simulated host shares: its engine, the fleet's settings and counters.
final class SimHostListener: @unchecked Sendable {
    let engine: SimHostEngine
    let config: SimulatorConfig
    let counters: SimCounterStore
    /// tls-server-end-point application data clients must bind (https + requireChannelBinding).
    let expectedChannelBindings: Data?

    init(engine: SimHostEngine, config: SimulatorConfig, counters: SimCounterStore, expectedChannelBindings: Data?) {
        self.engine = engine
        self.config = config
        self.counters = counters
        self.expectedChannelBindings = expectedChannelBindings
    }

    var name: String { engine.name }
    var scheme: String { config.https ? "https" : "http" }
    var endpoint: String { "\(scheme)://\(engine.address):\(engine.port)/wsman" }

    /// Latency before every response of this host.
    var responseDelay: TimeAmount {
        var ms = config.latencyMilliseconds
        if config.faults.slowHosts.contains(engine.name) { ms += config.faults.slowMilliseconds }
        return .milliseconds(Int64(max(0, ms)))
    }

    func authSettings() -> SimConnectionAuth.Settings {
        SimConnectionAuth.Settings(
            mode: config.auth, https: config.https, allowUnencrypted: config.allowUnencrypted,
            users: config.users, hostName: engine.name,
            dnsName: config.dnsName(host: engine.name),
            expectedChannelBindings: expectedChannelBindings,
            rejectAllCredentials: config.faults.authFailHosts.contains(engine.name),
            kerberos: kerberosAcceptor)
    }

    /// The host's Kerberos acceptance: its own SPN from the fleet's keytab.
    var kerberosAcceptor: SimKerberosAcceptor? {
        guard config.acceptsKerberos, let keytab = config.keytab else { return nil }
        return SimKerberosAcceptor(keytab: keytab, servicePrincipal: config.servicePrincipal(host: engine.name),
                                   replayCache: config.kerberosReplayCache)
    }
}
