import FleetTestSupport
import Foundation
import Inventory
import WinRMSim
import WinRMTransport
import TestSupport
import XCTest
@testable import Fleet

/// Clock skew for real: the realm's KDC runs two hours behind (krb5kdc -T -7200). Our client takes
/// the KDC's time with its tickets (kdc_timesync), so its authenticators are two hours behind the
/// simulated host, which runs on the real clock and refuses them with KRB_AP_ERR_SKEW — the error
/// token on the 401 tells the client why. Address: 127.1.120.1, .11.
final class KerberosClockSkewEndToEndTests: KDCTestCase {
    override class func startRealm() throws -> TestKDC {
        try TestKDC.start(realm: "SKEW.WINFLEET.TEST", hosts: simHostNames(1), timeOffset: -7200)
    }

    func testClockSkewIsNamedAndNegotiateDoesNotHideIt() async throws {
        for (first, auth) in [("127.1.120.1", SimAuth.kerberos), ("127.1.120.11", SimAuth.negotiate)] {
            let sim = try SimulatedFleetFixture.kerberos(realm: realm, first: first, hosts: 1, auth: auth)
            defer { sim.shutdown() }
            let (results, _) = await runOnFleet(sim.plans)
            let error = try XCTUnwrap(results.first?.error, "\(auth): \(describe(results))")
            XCTAssertEqual(error.kind, .auth)
            XCTAssertEqual(error.code, "kerberos:clock_skew", "\(auth): \(error.message)")
            XCTAssertTrue(error.message.contains(first), error.message)
            XCTAssertTrue(error.message.contains("HTTP/win0001.skew.winfleet.test@SKEW.WINFLEET.TEST"), error.message)
            XCTAssertTrue(error.message.contains("NTP"), "names the fix: \(error.message)")
            XCTAssertEqual(sim.counters.authenticationsCompleted, 0, "\(auth): no NTLM behind the operator's back")
            XCTAssertGreaterThanOrEqual(sim.counters.authenticationFailures, 1)
        }
    }
}

/// A realm whose KDC is down (started, then killed). Address: 127.1.121.1, .11.
final class KerberosKDCDownEndToEndTests: KDCTestCase {
    override class func startRealm() throws -> TestKDC {
        let realm = try TestKDC.start(realm: "DOWN.WINFLEET.TEST", hosts: simHostNames(1))
        try realm.stopKDCOnly()
        return realm
    }

    func testUnreachableKDCIsNamedForKerberosAndNegotiateUsesNTLM() async throws {
        let kerberos = try SimulatedFleetFixture.kerberos(realm: realm, first: "127.1.121.1", hosts: 1, auth: .kerberos)
        defer { kerberos.shutdown() }
        let (failed, _) = await runOnFleet(kerberos.plans)
        let error = try XCTUnwrap(failed.first?.error, describe(failed))
        XCTAssertEqual(error.kind, .auth)
        XCTAssertEqual(error.code, "kerberos:kdc_unreachable", error.message)
        XCTAssertTrue(error.message.contains("DOWN.WINFLEET.TEST"), "names the realm: \(error.message)")
        XCTAssertTrue(error.message.contains("krb5.conf"), "names the fix: \(error.message)")

        let negotiate = try SimulatedFleetFixture.kerberos(realm: realm, first: "127.1.121.11", hosts: 1, auth: .negotiate)
        defer { negotiate.shutdown() }
        let (results, log) = await runOnFleet(negotiate.plans)
        XCTAssertEqual(results.first?.status, .ok, describe(results))
        XCTAssertEqual(log.mechanisms.values.flatMap { $0 }, ["ntlm"])
        XCTAssertEqual(negotiate.counters.authenticationsByMechanism["ntlm"], 1)
    }
}
