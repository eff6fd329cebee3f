import Foundation
import TestSupport
import XCTest
@testable import WinRMKerberos

/// Clock skew between the client's view of time and the server's. The KDC of this realm runs
/// two hours behind (krb5kdc -T -7200). The client adopts the KDC's time (kdc_timesync, MIT's
/// default, kept with its tickets), so its authenticators are stamped two hours behind the
/// acceptor, which runs on the real clock: a Windows host whose clock is off against its
/// domain. The acceptor answers KRB_AP_ERR_SKEW. No faketime needed.
final class KerberosClockSkewTests: KDCTestCase {
    override class func startRealm() throws -> TestKDC {
        try TestKDC.start(realm: "SKEW.WINFLEET.TEST", hosts: ["win0001"], timeOffset: -7200)
    }

    func testClockSkewOnTheServerAndOnTheClient() throws {
        let kdc = realm
        for mechanism in KerberosMechanism.allCases {
            let client = try KerberosClientContext(targetName: kdc.hostBasedName("win0001"), mechanism: mechanism,
                                                   credential: .password(principal: kdc.user, password: kdc.password))
            let server = try KerberosServerContext(keytab: kdc.keytab, replayCache: "none:")
            let token = try XCTUnwrap(client.step(nil).token)
            assertKerberosError(try server.step(token)) { $0 == .clockSkew }
            // With mutual authentication MIT answers with a KRB-ERROR the server sends on the
            // 401; the client then knows the cause too.
            let errorToken = try XCTUnwrap(server.errorToken, "\(mechanism): no error token for the client")
            assertKerberosError(try client.step(errorToken)) { $0 == .clockSkew }
        }
    }
}

/// A KDC that is down: started for real, then stopped.
final class KerberosKDCDownTests: KDCTestCase {
    private var scratch: URL!

    override class func startRealm() throws -> TestKDC {
        try TestKDC.start(realm: "DOWN.WINFLEET.TEST", hosts: ["win0001"])
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("krb-down-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    func testUnreachableKDCNamesTheRealm() throws {
        let kdc = realm
        // A TGT from while the KDC was up: the service ticket then needs the KDC.
        let cache = "FILE:" + scratch.appendingPathComponent("ccache").path
        try kdc.kinit(cache: cache)
        try kdc.stopKDCOnly()

        for mechanism in KerberosMechanism.allCases {
            let error = assertKerberosError(
                try KerberosClientContext(targetName: kdc.hostBasedName("win0001"), mechanism: mechanism,
                                          credential: .password(principal: kdc.user, password: kdc.password))
            ) { $0 == .kdcUnreachable(realm: "DOWN.WINFLEET.TEST") }
            XCTAssertTrue(error?.description.contains("DOWN.WINFLEET.TEST") ?? false)

            let client = try KerberosClientContext(targetName: kdc.hostBasedName("win0001"), mechanism: mechanism,
                                                   credential: .cache(cache))
            assertKerberosError(try client.step(nil)) { $0 == .kdcUnreachable(realm: "DOWN.WINFLEET.TEST") }
        }
    }
}
