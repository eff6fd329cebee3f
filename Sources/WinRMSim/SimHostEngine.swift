import Foundation
import WSMan
import NIOCore

/// A WinRS request after SOAP parsing, in the simulator's own terms (built from `WinRSServer.parseRequest`).
struct SimHostRequest {
    enum Operation {
        case create(environment: [(String, String)], workingDirectory: String?, idleTimeoutSeconds: Double?, codepage: Int)
        case command(command: String, arguments: [String])
        case send(commandID: String, data: Data, end: Bool)
        case receive(commandID: String)
        case signal(commandID: String, code: String)
        case delete
        case other(action: String)
    }

    var operation: Operation
    var shellID: String?
    var operationTimeoutSeconds: Double?
    /// `wsman:MaxEnvelopeSize` of the request: the largest response the client accepts.
    var maxEnvelopeSize: Int?
}

/// Who sent a request, as the authentication layer established it.
struct SimIdentity: Equatable, Sendable {
    /// As the client wrote it (`WINFLEET\operator`).
    var account: String
    var domain: String?
    var user: String

    init(account: String) {
        self.account = account
        if let slash = account.firstIndex(of: "\\") {
            domain = String(account[..<slash])
            user = String(account[account.index(after: slash)...])
        } else if let at = account.firstIndex(of: "@") {
            user = String(account[..<at])
            let realm = account[account.index(after: at)...]
            domain = realm.split(separator: ".").first.map { $0.uppercased() }
        } else {
            domain = nil
            user = account
        }
    }
}

/// What the engine decided; `SimResponseRenderer` turns it into SOAP.
enum SimHostOutcome {
    enum CommandState: Equatable {
        case running
        case done(exitCode: Int32)
    }

    enum Fault: Equatable {
        case unknownShell(shellID: String)
        case unknownCommand(commandID: String)
        case operationTimedOut
        case quotaExceeded
        case actionNotSupported(action: String)
        case missingShellID
    }

    case created(shellID: String, owner: String, clientIP: String, idleTimeoutSeconds: Double, workingDirectory: String?)
    /// A WS-Transfer Get of a shell: its properties (the shell's idle timer was reset).
    case shellProperties(shellID: String, owner: String, clientIP: String, idleTimeoutSeconds: Double)
    case commandStarted(commandID: String)
    case sent
    case received(commandID: String, streams: [(SimOutputStream, Data)], state: CommandState)
    case signalled
    case deleted
    case fault(Fault)
    /// Nothing to answer yet (Receive long-poll): ask again at `until` (nil: only when woken).
    case wait(until: NIODeadline?)
}

/// The WinRS side of one simulated Windows host: shells, commands, their output over time.
/// Connections to the same host live on different event loops, so all state is behind one lock;
/// time is passed in, which keeps the engine testable without sleeping.
final class SimHostEngine: @unchecked Sendable {
    let name: String
    let address: String
    let port: Int
    private let config: SimulatorConfig
    private let counters: SimCounterStore
    private let lock = NSLock()
    private var shells: [String: Shell] = [:]
    private var commandRequests = 0

    final class Shell {
        let id: String
        let owner: String
        let identity: SimIdentity
        let clientIP: String
        let idleTimeout: Double
        var lastActivity: NIODeadline
        let environment: [String: String]
        let workingDirectory: String?
        var commands: [String: Command] = [:]
        var commandsStarted = 0

        init(id: String, owner: String, identity: SimIdentity, clientIP: String, idleTimeout: Double,
             now: NIODeadline, environment: [String: String], workingDirectory: String?) {
            self.id = id
            self.owner = owner
            self.identity = identity
            self.clientIP = clientIP
            self.idleTimeout = idleTimeout
            self.lastActivity = now
            self.environment = environment
            self.workingDirectory = workingDirectory
        }
    }

    final class Command {
        let id: String
        var run: SimProcessRun?
        var scriptFromStdin: ((String) -> SimProcessRun)?
        var stdin = Data()
        var startedAt: NIODeadline
        var chunkIndex = 0
        var chunkOffset = 0
        var waiters: [() -> Void] = []

        init(id: String, start: SimProcessStart, now: NIODeadline) {
            self.id = id
            self.startedAt = now
            switch start {
            case .run(let run): self.run = run
            case .scriptFromStdin(let body): self.scriptFromStdin = body
            }
        }
    }

    init(name: String, address: String, port: Int, config: SimulatorConfig, counters: SimCounterStore) {
        self.name = name
        self.address = address
        self.port = port
        self.config = config
        self.counters = counters
    }

    var shellCount: Int {
        lock.lock(); defer { lock.unlock() }
        return shells.count
    }

    /// Handles one request. For a Receive that has nothing to return yet, `.wait` is returned and
    /// `waiter` is kept: it is called (on any thread) when stdin completes or the command goes away.
    func handle(_ request: SimHostRequest, identity: SimIdentity, clientIP: String, now: NIODeadline,
                waiter: (() -> Void)? = nil) -> SimHostOutcome {
        var wake: [() -> Void] = []
        let outcome: SimHostOutcome
        lock.lock()
        outcome = handleLocked(request, identity: identity, clientIP: clientIP, now: now, waiter: waiter, wake: &wake)
        lock.unlock()
        for w in wake { w() }
        return outcome
    }

    private func handleLocked(_ request: SimHostRequest, identity: SimIdentity, clientIP: String,
                              now: NIODeadline, waiter: (() -> Void)?, wake: inout [() -> Void]) -> SimHostOutcome {
        if case .create(let environment, let workingDirectory, let idle, _) = request.operation {
            // Shells nobody asks about again are reaped here (lookups reap the ones they touch).
            for shell in shells.values where Double((now - shell.lastActivity).nanoseconds) / 1e9 > shell.idleTimeout {
                expire(shell, wake: &wake)
            }
            let id = MessageIdentifier.next()
            let owner = identity.domain.map { "\($0)\\\(identity.user)" } ?? identity.user
            var env: [String: String] = [:]
            for (k, v) in environment { env[k] = v }
            let shell = Shell(id: id, owner: owner, identity: identity, clientIP: clientIP,
                              idleTimeout: idle ?? config.shellIdleTimeoutSeconds, now: now,
                              environment: env, workingDirectory: workingDirectory)
            shells[id] = shell
            counters.update { $0.shellsCreated += 1 }
            return .created(shellID: id, owner: owner, clientIP: clientIP, idleTimeoutSeconds: shell.idleTimeout,
                            workingDirectory: workingDirectory)
        }
        if case .other(let action) = request.operation, action != WSManAction.get {
            return .fault(.actionNotSupported(action: action))
        }
        guard let shellID = request.shellID else { return .fault(.missingShellID) }
        guard let shell = liveShell(shellID.uppercased(), now: now, wake: &wake) else {
            counters.update { $0.unknownShellFaults += 1 }
            return .fault(.unknownShell(shellID: shellID))
        }
        shell.lastActivity = now

        switch request.operation {
        case .other:
            // Get (the only one let through above): a keep-alive read of the shell.
            return .shellProperties(shellID: shell.id, owner: shell.owner, clientIP: shell.clientIP,
                                    idleTimeoutSeconds: shell.idleTimeout)
        case .create:
            fatalError("handled above")

        case .command(let command, let arguments):
            commandRequests += 1
            if let every = config.faults.quotaFaultEvery, every > 0, commandRequests % every == 0 {
                counters.update { $0.quotaFaults += 1 }
                return .fault(.quotaExceeded)
            }
            if let limit = config.faults.expireShellsAfterCommands, shell.commandsStarted >= limit {
                expire(shell, wake: &wake)
                counters.update { $0.unknownShellFaults += 1 }
                return .fault(.unknownShell(shellID: shellID))
            }
            let context = SimMachineContext(hostName: name, address: address,
                                            userDomain: shell.identity.domain ?? name,
                                            userName: shell.identity.user,
                                            workingDirectory: shell.workingDirectory,
                                            shellEnvironment: shell.environment)
            let start = CmdInterpreter.start(command: command, arguments: arguments, context: context)
            let id = MessageIdentifier.next()
            shell.commands[id] = Command(id: id, start: start, now: now)
            shell.commandsStarted += 1
            let line = ([command] + arguments).joined(separator: " ")
            counters.commandStarted(SimCommandRecord(host: name, shellID: shell.id, commandID: id, commandLine: line))
            return .commandStarted(commandID: id)

        case .send(let commandID, let data, let end):
            guard let command = shell.commands[commandID.uppercased()] else {
                return .fault(.unknownCommand(commandID: commandID))
            }
            if command.run == nil {
                command.stdin.append(data)
                if end, let body = command.scriptFromStdin {
                    command.run = body(String(decoding: command.stdin, as: UTF8.self))
                    command.scriptFromStdin = nil
                    command.startedAt = now
                    wake += command.waiters
                    command.waiters = []
                }
            }
            return .sent

        case .receive(let commandID):
            guard let command = shell.commands[commandID.uppercased()] else {
                return .fault(.unknownCommand(commandID: commandID))
            }
            let outcome = receive(command, budget: receiveBudget(request.maxEnvelopeSize), now: now)
            if case .wait = outcome, let waiter = waiter {
                // Every long poll registers a waiter; keep only the latest few (stale ones are harmless
                // but would pile up while a long command is polled every OperationTimeout).
                command.waiters.append(waiter)
                if command.waiters.count > 8 { command.waiters.removeFirst(command.waiters.count - 8) }
            }
            return outcome

        case .signal(let commandID, _):
            // Windows acknowledges a Signal for an unknown CommandId (fixture winrs_bad_cmd_id).
            if let command = shell.commands.removeValue(forKey: commandID.uppercased()) {
                wake += command.waiters
                command.waiters = []
            }
            if let limit = config.faults.expireShellsAfterCommands, shell.commandsStarted >= limit,
               shell.commands.isEmpty {
                expire(shell, wake: &wake)
            }
            return .signalled

        case .delete:
            shells[shell.id] = nil
            for command in shell.commands.values {
                wake += command.waiters
                command.waiters = []
            }
            return .deleted
        }
    }

    /// The shell, unless it idled out (then it is removed, as WinRM does).
    private func liveShell(_ id: String, now: NIODeadline, wake: inout [() -> Void]) -> Shell? {
        guard let shell = shells[id] else { return nil }
        let idle = Double((now - shell.lastActivity).nanoseconds) / 1e9
        if idle > shell.idleTimeout {
            expire(shell, wake: &wake)
            return nil
        }
        return shell
    }

    private func expire(_ shell: Shell, wake: inout [() -> Void]) {
        shells[shell.id] = nil
        for command in shell.commands.values {
            wake += command.waiters
            command.waiters = []
        }
        counters.update { $0.shellsExpired += 1 }
    }

    /// Output bytes one ReceiveResponse may carry: Base64 grows 4/3, and the envelope around the
    /// streams needs a few KiB; the result stays within the client's MaxEnvelopeSize.
    func receiveBudget(_ maxEnvelopeSize: Int?) -> Int {
        let envelope = min(maxEnvelopeSize ?? 153_600, config.maxEnvelopeSize)
        return max(1024, (envelope - 4096) * 3 / 4)
    }

    private func receive(_ command: Command, budget: Int, now: NIODeadline) -> SimHostOutcome {
        guard let run = command.run else { return .wait(until: nil) }
        let elapsed = Double((now - command.startedAt).nanoseconds) / 1e9
        var streams: [(SimOutputStream, Data)] = []
        var remaining = budget
        while command.chunkIndex < run.chunks.count, remaining > 0 {
            let chunk = run.chunks[command.chunkIndex]
            guard chunk.at <= elapsed else { break }
            let available = chunk.data.count - command.chunkOffset
            let take = min(available, remaining)
            let start = chunk.data.startIndex + command.chunkOffset
            streams.append((chunk.stream, chunk.data.subdata(in: start..<(start + take))))
            remaining -= take
            if take == available {
                command.chunkIndex += 1
                command.chunkOffset = 0
            } else {
                command.chunkOffset += take
            }
        }
        let allDelivered = command.chunkIndex == run.chunks.count
        let exited = elapsed >= run.duration
        if allDelivered && exited {
            return .received(commandID: command.id, streams: streams, state: .done(exitCode: run.exitCode))
        }
        if !streams.isEmpty {
            return .received(commandID: command.id, streams: streams, state: .running)
        }
        let nextAt = command.chunkIndex < run.chunks.count ? run.chunks[command.chunkIndex].at : run.duration
        let wakeAt = command.startedAt + .nanoseconds(Int64(min(nextAt, run.duration) * 1e9))
        return .wait(until: wakeAt)
    }
}
