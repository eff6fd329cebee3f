import FleetTestSupport
import Foundation
import Inventory
import WinRMKerberos
import WinRMSim
import WinRMTransport
import TestSupport
import XCTest
@testable import Fleet

/// Kerberos and Negotiate end to end: a real MIT KDC (scripts/test-kdc), the simulator accepting
/// tickets with the realm's keytab through GSS-API, and our client through FleetEngine or a bare
/// connection. A missing KDC fails every test here.
///
/// Addresses: 127.1.110.1-20, 127.1.111.1-3, 127.1.112.1-5, 127.1.113.1-3/.11/.21, 127.1.114.1-2/.11,
/// 127.1.115.1, 127.1.116.1/.11, 127.1.117.1-2, 127.1.118.1/.11/.21, 127.1.119.1/.11, 127.1.124.1-2.
final class KerberosFleetTests: KDCTestCase {
    private var scratch: URL!

    override class func startRealm() throws -> TestKDC {
        try TestKDC.start(realm: "WINFLEET.TEST", hosts: simHostNames(20))
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("krb-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        unsetenv("KRB5CCNAME")
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }


    // MARK: password → ticket → sealed commands

    func testPasswordToTicketToSealedCommandsOnTwentyHosts() async throws {
        // The password credential must stay in memory: a ccache written anywhere would show up here.
        let mustStayAbsent = scratch.appendingPathComponent("no-ccache").path
        setenv("KRB5CCNAME", "FILE:" + mustStayAbsent, 1)
        let sim = try SimulatedFleetFixture.kerberos(realm: realm, first: "127.1.110.1", hosts: 20, auth: .kerberos)
        defer { sim.shutdown() }
        for plan in sim.plans {
            XCTAssertNil(plan.refusal, "\(plan.host.name): \(String(describing: plan.refusal))")
            XCTAssertEqual(plan.connection?.authentication, .kerberos)
            XCTAssertEqual(plan.connection?.kerberos.targetName(address: plan.host.address),
                           "HTTP@\(plan.host.name.lowercased()).winfleet.test", "the inventory's spn, as a host-based name")
        }
        let engine = FleetEngine(plans: sim.plans)
        let log = UpdateLog()
        engine.observe { log.append($0) }
        let first = await engine.run(RunRequest(spec: .commandLine(["hostname"]), target: "all", hosts: sim.names))
        let second = await engine.run(RunRequest(spec: .powerShell("Write-Output \"ps $env:COMPUTERNAME\""),
                                                 target: "all", hosts: sim.names))
        await engine.closeAll()

        XCTAssertEqual(first.count, 20)
        for result in first {
            XCTAssertEqual(result.status, .ok, describe([result]))
            XCTAssertEqual(result.stdout, "\(result.host)\r\n")
        }
        for result in second {
            XCTAssertEqual(result.status, .ok, describe([result]))
            XCTAssertEqual(result.stdout, "ps \(result.host)\r\n")
        }
        let counters = sim.counters
        XCTAssertEqual(counters.authenticationsByMechanism["kerberos"], 20, "one Kerberos handshake per host, kept for both runs")
        XCTAssertNil(counters.authenticationsByMechanism["ntlm"])
        XCTAssertEqual(counters.plainBodyRefusals, 0, "every body was sealed")
        XCTAssertEqual(counters.integrityFailures, 0)
        XCTAssertEqual(counters.authenticationFailures, 0)
        XCTAssertEqual(counters.commandsStarted, 40)
        XCTAssertEqual(log.mechanisms.count, 20)
        for (host, mechanisms) in log.mechanisms {
            XCTAssertEqual(mechanisms, ["kerberos"], host)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: mustStayAbsent), "the password's tickets reached a file ccache")
        XCTAssertFalse(FileManager.default.fileExists(atPath: realm.directory.appendingPathComponent("default.ccache").path))
    }

    func testRawKerberosSealsUnderTheKerberosProtocolAndSPNEGOUnderItsOwn() async throws {
        let sim = try SimulatedFleetFixture.kerberos(realm: realm, first: "127.1.119.1", hosts: 1, auth: .negotiate)
        defer { sim.shutdown() }
        for (authentication, scheme) in [(HostAuthentication.kerberos, "Kerberos"), (.negotiate, "Negotiate")] {
            var config = try XCTUnwrap(sim.plans.first?.connection)
            config.authentication = authentication
            let connection = WinRMConnection(config: config)
            let reply = try await createShell(on: connection)
            XCTAssertEqual(reply.status, 200, "\(scheme): \(String(decoding: reply.body, as: UTF8.self).prefix(300))")
            XCTAssertTrue(String(decoding: reply.body, as: UTF8.self).contains("ShellId"), scheme)
            XCTAssertEqual(connection.authenticatedMechanism, "kerberos", scheme)
            XCTAssertNil(connection.negotiateFallbackReason)
            if case .authenticated(let mechanism, _) = connection.events.first {
                XCTAssertEqual(mechanism, "kerberos", scheme)
            } else {
                XCTFail("\(scheme): no authenticated event: \(connection.events)")
            }
            await connection.close()
        }
        XCTAssertEqual(sim.counters.authenticationsByMechanism["kerberos"], 2)
        XCTAssertEqual(sim.counters.integrityFailures, 0)
    }

    func testKerberosOverHTTPSWithoutSealing() async throws {
        let sim = try SimulatedFleetFixture.kerberos(realm: realm, first: "127.1.124.1", hosts: 2, auth: .negotiate,
                                       configure: { $0.https = true })
        defer { sim.shutdown() }
        XCTAssertEqual(sim.plans.first?.connection?.seals, false, "TLS protects the bodies; encryption auto does not seal")
        let (results, log) = await runOnFleet(sim.plans)
        XCTAssertEqual(results.map(\.status), [.ok, .ok], describe(results))
        XCTAssertEqual(Set(log.mechanisms.values.flatMap { $0 }), ["kerberos"])
        XCTAssertEqual(sim.counters.authenticationsByMechanism["kerberos"], 2)
    }

    // MARK: ticket cache

    func testTicketCacheFromKinitWithoutAnyCredential() async throws {
        let cache = "FILE:" + scratch.appendingPathComponent("ccache").path
        try realm.kinit(cache: cache)
        setenv("KRB5CCNAME", cache, 1)
        let sim = try SimulatedFleetFixture.kerberos(realm: realm, first: "127.1.111.1", hosts: 3, auth: .kerberos,
                                       editInventory: InventoryEdit.removeCredential)
        defer { sim.shutdown() }
        for plan in sim.plans {
            XCTAssertNil(plan.refusal, "a Kerberos host needs no credential: \(String(describing: plan.refusal))")
            XCTAssertEqual(plan.connection?.username, "")
        }
        let (results, log) = await runOnFleet(sim.plans)
        XCTAssertEqual(results.map(\.status), [.ok, .ok, .ok], describe(results))
        XCTAssertEqual(Set(log.mechanisms.values.flatMap { $0 }), ["kerberos"])
        XCTAssertEqual(sim.counters.authenticationsByMechanism["kerberos"], 3)
    }

    func testExpiredTicketIsReportedThenRenewedByKinit() async throws {
        let cache = "FILE:" + scratch.appendingPathComponent("short-ccache").path
        try realm.kinit(cache: cache, lifetime: "3s")
        setenv("KRB5CCNAME", cache, 1)
        let sim = try SimulatedFleetFixture.kerberos(realm: realm, first: "127.1.115.1", hosts: 1, auth: .kerberos,
                                       editInventory: InventoryEdit.removeCredential)
        defer { sim.shutdown() }
        // The same plans (one ticket source) through three engines, as a long console session would.
        let fresh = await runOnFleet(sim.plans)
        XCTAssertEqual(fresh.results.first?.status, .ok, describe(fresh.results))

        try await Task.sleep(nanoseconds: 4_000_000_000)
        let expired = await runOnFleet(sim.plans)
        let error = try XCTUnwrap(expired.results.first?.error, describe(expired.results))
        XCTAssertEqual(error.kind, .auth)
        XCTAssertEqual(error.code, "kerberos:expired_ticket", error.message)
        XCTAssertTrue(error.message.contains("127.1.115.1"), error.message)
        XCTAssertTrue(error.message.contains("kinit"), error.message)

        try realm.kinit(cache: cache)
        let renewed = await runOnFleet(sim.plans)
        XCTAssertEqual(renewed.results.first?.status, .ok, "a fresh kinit is picked up: \(describe(renewed.results))")
        XCTAssertEqual(sim.counters.authenticationsByMechanism["kerberos"], 2)
    }

    // MARK: negotiate

    func testNegotiateChoosesKerberos() async throws {
        let sim = try SimulatedFleetFixture.kerberos(realm: realm, first: "127.1.112.1", hosts: 5, auth: .negotiate)
        defer { sim.shutdown() }
        let (results, log) = await runOnFleet(sim.plans, ["echo", "sealed", "by", "spnego"])
        for result in results {
            XCTAssertEqual(result.status, .ok, describe([result]))
            XCTAssertEqual(result.stdout, "sealed by spnego\r\n")
        }
        XCTAssertEqual(log.mechanisms.count, 5)
        XCTAssertEqual(Set(log.mechanisms.values.flatMap { $0 }), ["kerberos"])
        XCTAssertEqual(sim.counters.authenticationsByMechanism["kerberos"], 5)
        XCTAssertNil(sim.counters.authenticationsByMechanism["ntlm"])
        XCTAssertEqual(sim.counters.integrityFailures, 0)
    }

    func testNegotiateFallsBackToNTLMWhenTheSPNIsUnknown() async throws {
        // The hosts are reached by IP and the inventory names no SPN: the KDC knows no HTTP/127.1.113.x.
        let sim = try SimulatedFleetFixture.kerberos(realm: realm, first: "127.1.113.1", hosts: 3, auth: .negotiate,
                                       editInventory: { InventoryEdit.hosts(&$0) { $0["spn"] = nil } })
        defer { sim.shutdown() }
        let (results, log) = await runOnFleet(sim.plans)
        for result in results {
            XCTAssertEqual(result.status, .ok, describe([result]))
            XCTAssertEqual(result.stdout, "\(result.host)\r\n")
        }
        XCTAssertEqual(Set(log.mechanisms.values.flatMap { $0 }), ["ntlm"], "\(log.mechanisms)")
        XCTAssertEqual(sim.counters.authenticationsByMechanism["ntlm"], 3)
        XCTAssertNil(sim.counters.authenticationsByMechanism["kerberos"])

        let connection = WinRMConnection(config: try XCTUnwrap(sim.plans.first?.connection))
        _ = try await createShell(on: connection)
        XCTAssertEqual(connection.authenticatedMechanism, "ntlm")
        let reason = try XCTUnwrap(connection.negotiateFallbackReason)
        XCTAssertTrue(reason.contains("HTTP/127.1.113.1@WINFLEET.TEST"), reason)
        await connection.close()
    }

    func testKerberosWithAnUnknownSPNNamesTheSPNAndTheFix() async throws {
        let sim = try SimulatedFleetFixture.kerberos(realm: realm, first: "127.1.113.11", hosts: 1, auth: .kerberos,
                                       editInventory: { InventoryEdit.hosts(&$0) { $0["spn"] = "HTTP/win9999.winfleet.test" } })
        defer { sim.shutdown() }
        let (results, _) = await runOnFleet(sim.plans)
        let error = try XCTUnwrap(results.first?.error, describe(results))
        XCTAssertEqual(error.kind, .auth)
        XCTAssertEqual(error.code, "kerberos:unknown_spn")
        XCTAssertTrue(error.message.contains("127.1.113.11"), error.message)
        XCTAssertTrue(error.message.contains("HTTP/win9999.winfleet.test@WINFLEET.TEST"), error.message)
        XCTAssertTrue(error.message.contains("\"spn\""), "names the inventory fix: \(error.message)")
        XCTAssertEqual(sim.counters.authenticationsCompleted, 0)
    }

    func testNegotiateWithoutCredentialCannotFallBack() async throws {
        setenv("KRB5CCNAME", "FILE:" + scratch.appendingPathComponent("absent").path, 1)
        let sim = try SimulatedFleetFixture.kerberos(realm: realm, first: "127.1.113.21", hosts: 1, auth: .negotiate,
                                       editInventory: InventoryEdit.removeCredential)
        defer { sim.shutdown() }
        let (results, _) = await runOnFleet(sim.plans)
        let error = try XCTUnwrap(results.first?.error, describe(results))
        XCTAssertEqual(error.code, "kerberos:no_credentials", error.message)
        XCTAssertTrue(error.message.contains("kinit"), error.message)
        XCTAssertTrue(error.message.contains("NTLM cannot be tried"), error.message)
    }

    func testHostWithoutKerberos() async throws {
        // An NTLM-only host (no keytab: a workgroup machine) whose name the KDC knows: the ticket is
        // issued, the host cannot take it.
        let knownSPN: (inout [String: Any]) -> Void = { InventoryEdit.hosts(&$0) { $0["spn"] = "HTTP/win0001.winfleet.test" } }
        let sim = try SimulatedFleetFixture.kerberos(realm: realm, first: "127.1.118.1", hosts: 1, auth: .ntlm,
                                       editInventory: { InventoryEdit.defaults(&$0) { $0["auth"] = "kerberos" }; knownSPN(&$0) })
        defer { sim.shutdown() }
        let (results, _) = await runOnFleet(sim.plans)
        let error = try XCTUnwrap(results.first?.error, describe(results))
        XCTAssertEqual(error.kind, .auth)
        XCTAssertEqual(error.code, "kerberos:mechanism_unsupported", error.message)
        XCTAssertTrue(error.message.contains("does not accept Kerberos"), error.message)

        let negotiating = try SimulatedFleetFixture.kerberos(realm: realm, first: "127.1.118.11", hosts: 1, auth: .ntlm,
                                               editInventory: { InventoryEdit.defaults(&$0) { $0["auth"] = "negotiate" }; knownSPN(&$0) })
        defer { negotiating.shutdown() }
        let connection = WinRMConnection(config: try XCTUnwrap(negotiating.plans.first?.connection))
        let reply = try await createShell(on: connection)
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(connection.authenticatedMechanism, "ntlm")
        XCTAssertTrue(connection.negotiateFallbackReason?.contains("does not offer Kerberos") ?? false,
                      String(describing: connection.negotiateFallbackReason))
        XCTAssertEqual(negotiating.counters.authenticationsByMechanism["ntlm"], 1)
        await connection.close()
    }

    func testKerberosOnlyHostRefusesNTLM() async throws {
        let sim = try SimulatedFleetFixture.kerberos(realm: realm, first: "127.1.118.21", hosts: 1, auth: .kerberos,
                                       editInventory: { InventoryEdit.defaults(&$0) { $0["auth"] = "ntlm" } })
        defer { sim.shutdown() }
        let (results, _) = await runOnFleet(sim.plans)
        let error = try XCTUnwrap(results.first?.error, describe(results))
        XCTAssertEqual(error.kind, .auth, error.message)
        XCTAssertEqual(sim.counters.authenticationsCompleted, 0)
        XCTAssertGreaterThanOrEqual(sim.counters.authenticationFailures, 1)
    }

    // MARK: failures with names

    func testWrongPasswordIsPreauthenticationFailedWithoutNTLMRetry() async throws {
        let wrong = "Not-The-Password-9"
        for (first, auth) in [("127.1.114.1", SimAuth.kerberos), ("127.1.114.11", SimAuth.negotiate)] {
            let sim = try SimulatedFleetFixture.kerberos(realm: realm, first: first, hosts: 2, auth: auth, password: wrong)
            defer { sim.shutdown() }
            let (results, _) = await runOnFleet(sim.plans)
            XCTAssertEqual(results.count, 2)
            for result in results {
                let error = try XCTUnwrap(result.error, describe([result]))
                XCTAssertEqual(error.kind, .auth)
                XCTAssertEqual(error.code, "kerberos:preauth_failed", "\(auth): \(error.message)")
                XCTAssertTrue(error.message.contains("password"), error.message)
                XCTAssertTrue(error.message.contains("operator"), "names the principal: \(error.message)")
                XCTAssertFalse(error.message.contains(wrong), "the password leaked: \(error.message)")
            }
            // Negotiate does not try NTLM with a password the KDC just refused.
            XCTAssertEqual(sim.counters.authenticationsCompleted, 0)
            XCTAssertEqual(sim.counters.requestsPerHost.values.reduce(0, +), 0)
        }
    }

    func testFlippedByteInASealedResponseIsRefused() async throws {
        for (first, auth) in [("127.1.116.1", SimAuth.kerberos), ("127.1.116.11", SimAuth.negotiate)] {
            let sim = try SimulatedFleetFixture.kerberos(realm: realm, first: first, hosts: 1, auth: auth,
                                           configure: { $0.faults.corruptSealedResponses = true })
            defer { sim.shutdown() }
            let connection = WinRMConnection(config: try XCTUnwrap(sim.plans.first?.connection))
            do {
                let reply = try await createShell(on: connection)
                XCTFail("\(auth): a corrupted sealed response was accepted: \(reply.status)")
            } catch let error as WinRMError {
                XCTAssertEqual(error.kind, .protocol, error.message)
                XCTAssertEqual(error.code, "integrity", error.message)
                XCTAssertTrue(error.message.contains("integrity"), error.message)
            }
            XCTAssertEqual(connection.authenticatedMechanism, "kerberos")
            XCTAssertGreaterThanOrEqual(sim.counters.sealedResponsesCorrupted, 1)
            await connection.close()
        }
    }

    // MARK: delegation, re-authentication

    func testDelegationReachesTheHost() async throws {
        let sim = try SimulatedFleetFixture.kerberos(realm: realm, first: "127.1.117.1", hosts: 2, auth: .kerberos,
                                       editInventory: { InventoryEdit.defaults(&$0) { $0["kerberos_delegation"] = true } })
        defer { sim.shutdown() }
        XCTAssertEqual(sim.plans.first?.connection?.kerberos.delegate, true)
        let (results, _) = await runOnFleet(sim.plans)
        XCTAssertEqual(results.map(\.status), [.ok, .ok], describe(results))
        XCTAssertEqual(sim.counters.delegatedAuthentications, 2, "the hosts received a forwarded TGT")

        let plain = try SimulatedFleetFixture.kerberos(realm: realm, first: "127.1.117.11", hosts: 1, auth: .kerberos)
        defer { plain.shutdown() }
        _ = await runOnFleet(plain.plans)
        XCTAssertEqual(plain.counters.authenticationsByMechanism["kerberos"], 1)
        XCTAssertEqual(plain.counters.delegatedAuthentications, 0, "no delegation unless asked")
    }

    func testDroppedConnectionReauthenticatesWithKerberos() async throws {
        // The host closes the connection after every 2nd request: each new connection needs a new
        // Kerberos context (same service ticket), and the run still completes.
        let sim = try SimulatedFleetFixture.kerberos(realm: realm, first: "127.1.119.11", hosts: 1, auth: .kerberos,
                                       configure: { $0.faults.dropConnectionEvery = 2 })
        defer { sim.shutdown() }
        let (results, log) = await runOnFleet(sim.plans, ["echo", "again"])
        XCTAssertEqual(results.first?.status, .ok, describe(results))
        XCTAssertEqual(results.first?.stdout, "again\r\n")
        XCTAssertGreaterThanOrEqual(sim.counters.authenticationsByMechanism["kerberos"] ?? 0, 2)
        XCTAssertEqual(Set(log.mechanisms.values.flatMap { $0 }), ["kerberos"])
    }
}
