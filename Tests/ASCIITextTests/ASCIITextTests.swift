import ASCIIText
import XCTest

final class ASCIITextTests: XCTestCase {
    func testEqualityIgnoresTheCaseOfASCIILettersOnly() {
        XCTAssertTrue("WWW-Authenticate".equalsIgnoringASCIICase("www-authenticate"))
        XCTAssertTrue("NTLM"[...].equalsIgnoringASCIICase("ntlm"))
        XCTAssertFalse("Negotiate".equalsIgnoringASCIICase("Negotiat"))
        XCTAssertFalse("close".equalsIgnoringASCIICase("closed"))
        // '[' is 0x5B and '{' is 0x7B: only A-Z fold.
        XCTAssertFalse("[".equalsIgnoringASCIICase("{"))
        XCTAssertFalse("É".equalsIgnoringASCIICase("é"), "non-ASCII letters are compared as bytes")
        XCTAssertTrue("".equalsIgnoringASCIICase(""))
    }

    func testContainmentIgnoresASCIICase() {
        XCTAssertTrue("multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-encrypted\""
            .containsIgnoringASCIICase("Multipart/Encrypted"))
        XCTAssertTrue("Session-Based-Authentication".containsIgnoringASCIICase("session-based-authentication"))
        XCTAssertTrue("application/soap+xml;charset=UTF-8".containsIgnoringASCIICase("SOAP+XML"))
        XCTAssertFalse("application/xml".containsIgnoringASCIICase("soap+xml"))
        XCTAssertFalse("so".containsIgnoringASCIICase("soap"))
        XCTAssertTrue("anything".containsIgnoringASCIICase(""))
    }

    func testPrefixIgnoresASCIICase() {
        XCTAssertTrue("<!DOCTYPE HTML PUBLIC".hasPrefixIgnoringASCIICase("<!doctype html"))
        XCTAssertTrue("<?xml version=\"1.0\"?>".hasPrefixIgnoringASCIICase("<?XML"))
        XCTAssertFalse("<htm".hasPrefixIgnoringASCIICase("<html"))
        XCTAssertFalse("<s:Envelope".hasPrefixIgnoringASCIICase("<html"))
        XCTAssertTrue("x".hasPrefixIgnoringASCIICase(""))
    }

    func testContainsAnyOfASetOfASCIIBytes() {
        XCTAssertTrue("user@host".containsAnyASCII(of: "@?#"))
        XCTAssertTrue("https://host".containsAnyASCII(of: "/"))
        XCTAssertFalse("web01.example.com".containsAnyASCII(of: "@?#/"))
        XCTAssertFalse("".containsAnyASCII(of: "/"))
    }

    func testTrimmingASCIIWhitespace() {
        XCTAssertEqual(" \t Negotiate TlRMTVNTUAAB \r\n".trimmingASCIIWhitespace, "Negotiate TlRMTVNTUAAB")
        XCTAssertEqual("   ".trimmingASCIIWhitespace, "")
        XCTAssertEqual("x"[...].trimmingASCIIWhitespace, "x")
        XCTAssertEqual("\u{00A0}x\u{00A0}".trimmingASCIIWhitespace, "\u{00A0}x\u{00A0}", "only ASCII whitespace")
    }
}
