import ArgumentParser
import Foundation
import WinRMSim

struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Start simulated Windows hosts on loopback addresses (127.1.0.1, 127.1.0.2, …).",
        discussion: """
        Prints one line "ready N hosts" when every host listens, writes a matching inventory with
        --inventory-out, and serves until SIGINT or SIGTERM. The demo account is WINFLEET\\operator
        with password winfleet-demo (the inventory reads it from $WINFLEET_DEMO_PASSWORD).
        """)

    @Option(name: .long, help: "How many hosts.")
    var hosts: Int = 10

    @Flag(name: .long, help: "Serve HTTPS on 5986 with a self-signed certificate made at start.")
    var https = false

    @Option(name: .long, help: "basic, ntlm, negotiate (NTLM; also Kerberos with --keytab) or kerberos (needs --keytab).")
    var auth: String = "ntlm"

    @Option(name: .long, help: "Keytab with the hosts' HTTP/<name>.<realm> keys (scripts/test-kdc start writes DIR/http.keytab); with --auth negotiate or kerberos the hosts accept Kerberos. Set KRB5_CONFIG for the realm.")
    var keytab: String?

    @Option(name: .long, help: "The hosts' Kerberos realm; host WIN0001's SPN is HTTP/win0001.<realm lower-cased>@<realm>.")
    var realm: String = "WINFLEET.TEST"

    @Option(name: .long, help: "Delay before every response, in milliseconds.")
    var latencyMs: Int = 0

    @Option(name: .long, help: "Write an inventory for these hosts to FILE.")
    var inventoryOut: String?

    @Option(name: .long, help: "The account the hosts accept (DOMAIN\\name).")
    var user: String = SimulatorConfig.demoUser.user

    @Option(name: .long, help: "A file holding its password (default: $WINFLEET_SIM_PASSWORD, else the demo password). Passwords never go on the command line.")
    var passwordFile: String?

    @Option(name: .long, help: "First loopback address.")
    var firstAddress: String = "127.1.0.1"

    @Option(name: .long, help: "Port (default 5985, or 5986 with --https).")
    var port: Int?

    @Flag(name: .long, help: "AllowUnencrypted=true: accept plain bodies (and Basic) over HTTP.")
    var allowUnencrypted = false

    @Flag(name: .long, help: "Close the connection right after the 200 that ends the NTLM handshake.")
    var dropAfterAuth = false

    @Option(name: .long, help: "Seconds without requests after which a shell is removed.")
    var shellIdleTimeout: Double = 7200

    @Option(name: .long, help: "Fault: close the TCP connection after every N-th request.")
    var dropConnectionEvery: Int?

    @Option(name: .long, help: "Fault: a shell is gone after N commands (fault 2150858843).")
    var expireShellsAfter: Int?

    @Option(name: .long, help: "Fault: every N-th Command gets the quota fault 2150859174.")
    var quotaFaultEvery: Int?

    @Option(name: .long, help: "Fault: comma-separated host names that answer slowly.")
    var slowHosts: String?

    @Option(name: .long, help: "Fault: delay of the slow hosts, in milliseconds.")
    var slowMs: Int = 2000

    @Option(name: .long, help: "Fault: comma-separated host names that do not listen.")
    var unreachableHosts: String?

    @Option(name: .long, help: "Fault: comma-separated host names that reject every credential.")
    var authFailHosts: String?

    @Flag(name: .long, help: "Fault: flip one byte of every sealed response (the client must refuse it).")
    var corruptSealedResponses = false

    func validate() throws {
        guard SimAuth(rawValue: auth) != nil else {
            throw ValidationError("--auth \(auth): use one of \(SimAuth.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard hosts >= 1 else { throw ValidationError("--hosts must be at least 1") }
        if auth == SimAuth.kerberos.rawValue && keytab == nil {
            throw ValidationError("--auth kerberos needs --keytab FILE (the hosts' HTTP/ keys; scripts/test-kdc start writes DIR/http.keytab)")
        }
        if keytab != nil && !(auth == SimAuth.kerberos.rawValue || auth == SimAuth.negotiate.rawValue) {
            throw ValidationError("--keytab needs --auth negotiate or kerberos")
        }
        guard !realm.isEmpty, !realm.contains(where: { $0.isWhitespace || $0 == "@" || $0 == "/" }) else {
            throw ValidationError("--realm \(realm) is not a realm name (e.g. WINFLEET.TEST)")
        }
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        var config = SimulatorConfig(hostCount: hosts, firstAddress: firstAddress, port: port, https: https,
                                     auth: SimAuth(rawValue: auth)!)
        let password: String
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                diagnose("winfleet sim: cannot read --password-file \(passwordFile): check the path and permissions")
                throw ExitCode(64)
            }
            password = text.hasSuffix("\n") ? String(text.dropLast()) : text
        } else {
            password = environment["WINFLEET_SIM_PASSWORD"] ?? SimulatorConfig.demoUser.password
        }
        config.users = [SimUser(user: user, password: password)]
        config.allowUnencrypted = allowUnencrypted
        config.latencyMilliseconds = latencyMs
        config.dropAfterAuth = dropAfterAuth
        config.shellIdleTimeoutSeconds = shellIdleTimeout
        config.faults.dropConnectionEvery = dropConnectionEvery
        config.faults.expireShellsAfterCommands = expireShellsAfter
        config.faults.quotaFaultEvery = quotaFaultEvery
        config.faults.slowHosts = Self.names(slowHosts)
        config.faults.slowMilliseconds = slowMs
        config.faults.unreachableHosts = Self.names(unreachableHosts)
        config.faults.authFailHosts = Self.names(authFailHosts)
        config.faults.corruptSealedResponses = corruptSealedResponses
        config.keytab = keytab
        config.realm = realm.uppercased()

        let fleet = SimulatedFleet(config: config)
        let started: [SimulatedHost]
        do {
            started = try fleet.start()
        } catch {
            diagnose("winfleet sim: \(error)")
            throw ExitCode(1)
        }
        if let inventoryOut {
            do {
                try fleet.writeInventory(to: inventoryOut)
            } catch {
                diagnose("winfleet sim: cannot write \(inventoryOut): \(error)")
                fleet.shutdown()
                throw ExitCode(1)
            }
        }
        print("ready \(started.count) hosts")
        fflush(stdout)
        SignalWait.untilTerminated()
        fleet.shutdown()
    }

    static func names(_ list: String?) -> Set<String> {
        Set((list ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }
}

/// Blocks until SIGINT or SIGTERM.
enum SignalWait {
    static func untilTerminated() {
        let semaphore = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { semaphore.signal() }
            source.resume()
            sources.append(source)
        }
        semaphore.wait()
        sources.forEach { $0.cancel() }
    }
}
