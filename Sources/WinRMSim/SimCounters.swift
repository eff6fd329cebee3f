import Foundation

/// One command a simulated host started, in start order (tests use it to prove a command never ran twice).
public struct SimCommandRecord: Sendable, Equatable {
    public var host: String
    public var shellID: String
    public var commandID: String
    public var commandLine: String
}

/// A consistent snapshot of what the simulated fleet has seen. Connection ids are fleet-wide and start at 1.
public struct SimCounters: Sendable {
    public var connectionsAccepted = 0
    public var connectionsAcceptedPerHost: [String: Int] = [:]
    /// Completed authentications (NTLM handshakes ending in 200, first valid Basic header of a connection).
    public var authenticationsCompleted = 0
    public var authenticationsPerHost: [String: Int] = [:]
    public var authenticationsPerConnection: [Int: Int] = [:]
    /// Completed authentications by mechanism: "basic", "ntlm", "kerberos".
    public var authenticationsByMechanism: [String: Int] = [:]
    /// Kerberos authentications where the client delegated its TGT (`kerberos_delegation`).
    public var delegatedAuthentications = 0
    /// Sealed responses altered on purpose (`faults.corruptSealedResponses`).
    public var sealedResponsesCorrupted = 0
    /// Rejected credentials or broken handshakes (401 after a credential was presented).
    public var authenticationFailures = 0
    public var authenticationFailuresPerHost: [String: Int] = [:]
    /// WinRS requests by action name: Create, Command, Send, Receive, Signal, Delete, or the full action URI.
    public var requestsByAction: [String: Int] = [:]
    public var requestsPerHost: [String: Int] = [:]
    /// Plaintext SOAP bodies refused on an http connection because AllowUnencrypted is false.
    public var plainBodyRefusals = 0
    /// Sealed bodies that failed to decrypt or verify (HTTP 400, connection closed).
    public var integrityFailures = 0
    /// Request bodies refused because they exceed MaxEnvelopeSizekb (HTTP 413).
    public var oversizeRefusals = 0
    public var shellsCreated = 0
    public var shellsExpired = 0
    public var commandsStarted = 0
    public var commandsStartedPerHost: [String: Int] = [:]
    public var commandLog: [SimCommandRecord] = []
    public var operationTimeoutFaults = 0
    public var quotaFaults = 0
    public var unknownShellFaults = 0
    /// Connections the simulator closed on purpose (dropAfterAuth, dropConnectionEvery, integrity failure).
    public var connectionsDropped = 0

    public init() {}
}

/// Thread-safe recorder behind `SimulatedFleet.counters`. Event-loop threads of all hosts write into it.
final class SimCounterStore: @unchecked Sendable {
    private let lock = NSLock()
    private var counters = SimCounters()
    private var nextConnectionID = 0

    var snapshot: SimCounters {
        lock.lock(); defer { lock.unlock() }
        return counters
    }

    func update(_ body: (inout SimCounters) -> Void) {
        lock.lock(); defer { lock.unlock() }
        body(&counters)
    }

    func connectionAccepted(host: String) -> Int {
        lock.lock(); defer { lock.unlock() }
        nextConnectionID += 1
        counters.connectionsAccepted += 1
        counters.connectionsAcceptedPerHost[host, default: 0] += 1
        return nextConnectionID
    }

    func authenticated(host: String, connection: Int, handshake: SimConnectionAuth.Handshake? = nil) {
        update {
            if let handshake {
                $0.authenticationsByMechanism[handshake.mechanism, default: 0] += 1
                if handshake.delegated { $0.delegatedAuthentications += 1 }
            }
            $0.authenticationsCompleted += 1
            $0.authenticationsPerHost[host, default: 0] += 1
            $0.authenticationsPerConnection[connection, default: 0] += 1
        }
    }

    func authenticationFailed(host: String) {
        update {
            $0.authenticationFailures += 1
            $0.authenticationFailuresPerHost[host, default: 0] += 1
        }
    }

    func request(host: String, action: String) {
        update {
            $0.requestsByAction[action, default: 0] += 1
            $0.requestsPerHost[host, default: 0] += 1
        }
    }

    func commandStarted(_ record: SimCommandRecord) {
        update {
            $0.commandsStarted += 1
            $0.commandsStartedPerHost[record.host, default: 0] += 1
            $0.commandLog.append(record)
        }
    }
}
