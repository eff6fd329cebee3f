import Foundation
import XCTest
import WinRMTransport

/// The pure parts: which principal an inventory account becomes, which target name a host gets.
final class KerberosSettingsTests: XCTestCase {
    func testAccountNamesBecomePrincipals() {
        XCTAssertEqual(KerberosTicketSource.principal(forAccount: "WINFLEET\\operator"), "operator",
                       "a NetBIOS domain is not a realm: the default realm applies")
        XCTAssertEqual(KerberosTicketSource.principal(forAccount: "corp.example.com\\svc"), "svc@CORP.EXAMPLE.COM")
        XCTAssertEqual(KerberosTicketSource.principal(forAccount: "operator@winfleet.test"), "operator@WINFLEET.TEST")
        XCTAssertEqual(KerberosTicketSource.principal(forAccount: "operator"), "operator")
    }

    func testTargetNames() {
        XCTAssertEqual(KerberosSettings().targetName(address: "web01.corp.example.com"), "HTTP@web01.corp.example.com")
        XCTAssertEqual(KerberosSettings(service: "WSMAN").targetName(address: "web01"), "WSMAN@web01")
        let alias = KerberosSettings(servicePrincipalName: "HTTP/web01.corp.example.com")
        XCTAssertEqual(alias.targetName(address: "10.0.0.5"), "HTTP@web01.corp.example.com",
                       "an SPN without realm is looked up through [domain_realm], like the default")
        XCTAssertEqual(alias.displayedSPN(address: "10.0.0.5"), "HTTP/web01.corp.example.com")
        let explicit = KerberosSettings(servicePrincipalName: "HTTP/web01.corp.example.com@CORP.EXAMPLE.COM")
        XCTAssertEqual(explicit.targetName(address: "10.0.0.5"), "HTTP/web01.corp.example.com@CORP.EXAMPLE.COM")
        XCTAssertEqual(KerberosSettings().displayedSPN(address: "10.0.0.5"), "HTTP/10.0.0.5")
    }

    func testPasswordNeverPrinted() {
        let source = KerberosTicketSource(principal: "operator@WINFLEET.TEST", password: "s3cret-Pa55")
        var dumped = ""
        dump(source, to: &dumped)
        for text in ["\(source)", String(reflecting: source), dumped] {
            XCTAssertFalse(text.contains("s3cret-Pa55"), text)
        }
        XCTAssertEqual(KerberosTicketSource().description, "default ticket cache")
    }
}
