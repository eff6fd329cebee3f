import Foundation
import XCTest
@testable import WinRMAuth

final class NTLMCredentialTests: XCTestCase {
    func testDomainBackslashUser() {
        let credential = NTLMCredential(user: "CORP\\alice", password: "pw")
        XCTAssertEqual(credential.domain, "CORP")
        XCTAssertEqual(credential.user, "alice")
        XCTAssertEqual(credential.displayName, "CORP\\alice")
        XCTAssertNil(credential.upnSuffix)
    }

    /// UPNs keep the whole name as the user and an empty domain (Windows SSPI / pyspnego split_username).
    func testUPNKeepsFullUserAndEmptyDomain() {
        let credential = NTLMCredential(user: "alice@corp.example.com", password: "pw")
        XCTAssertEqual(credential.domain, "")
        XCTAssertEqual(credential.user, "alice@corp.example.com")
        XCTAssertEqual(credential.upnSuffix, "corp.example.com")
        // NTOWFv2 therefore hashes UPPER(upn) with an empty domain.
        XCTAssertEqual(NTLMCrypto.ntowfv2(ntHash: credential.ntHash, user: credential.user, domain: credential.domain),
                       NTLMCrypto.ntowfv2(password: "pw", user: "ALICE@CORP.EXAMPLE.COM", domain: ""))
    }

    func testBareUserAndBackslashPrecedence() {
        XCTAssertEqual(NTLMCredential.split("administrator").domain, "")
        XCTAssertEqual(NTLMCredential.split("administrator").user, "administrator")
        XCTAssertEqual(NTLMCredential.split(".\\administrator").domain, ".")
        let mixed = NTLMCredential.split("CORP\\alice@x")
        XCTAssertEqual(mixed.domain, "CORP")
        XCTAssertEqual(mixed.user, "alice@x")
    }

    func testDescriptionRedactsPassword() {
        let credential = NTLMCredential(user: "CORP\\alice", password: "hunter2-secret")
        for text in ["\(credential)", String(reflecting: credential), credential.description] {
            XCTAssertFalse(text.contains("hunter2"), text)
        }
    }

    func testNTOWFv2UppercasesUserOnly() {
        let reference = NTLMCrypto.ntowfv2(password: "Password", user: "User", domain: "Domain")
        XCTAssertEqual(NTLMCrypto.ntowfv2(password: "Password", user: "uSeR", domain: "Domain"), reference)
        XCTAssertNotEqual(NTLMCrypto.ntowfv2(password: "Password", user: "User", domain: "DOMAIN"), reference,
                          "the domain keeps its case")
        XCTAssertEqual(NTLMCrypto.windowsUppercase("straße"), "STRAßE", "Windows upper-cases per code unit")
    }
}
