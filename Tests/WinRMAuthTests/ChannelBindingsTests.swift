import Foundation
import XCTest
@testable import WinRMAuth

/// Test certificates; expected digests were computed with `openssl dgst` over the DER, independently of this code.
enum TestCertificates {
    /// ECDSA P-256 / ecdsa-with-SHA256 (self-signed, generated with OpenSSL for these tests).
    static let p256SHA256 = Data(base64Encoded: """
        MIIBkDCCATegAwIBAgIUDAEL9fy6MuEOd4rrEpdmokCHpiMwCgYIKoZIzj0EAwIwHjEcMBoGA1UEAwwTd2luZmxlZXQtcDI1
        NnNoYTI1NjAeFw0yNjExMjkxOTI3NDNaFw0zNjExMjYxOTI3NDNaMB4xHDAaBgNVBAMME3dpbmZsZWV0LXAyNTZzaGEyNTYw
        WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATbw+g5SeiBWMaVA5ayIgfZ4enwb5B8H2Gleh6l7zaaVhsHyybasbj3DWLmAYLj
        NkhB5JJU8bY6p+gqOSa8ygE8o1MwUTAdBgNVHQ4EFgQUiIP6AVJY1U/0oyyOvrpzrDxuOqwwHwYDVR0jBBgwFoAUiIP6AVJY
        1U/0oyyOvrpzrDxuOqwwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiAycc1rAJDwYjJBPyjRa0IlIjfKFWjt
        HK1i3xjiuU686QIgdl2VNGBVv88PmAlQYD9NatupN8gyCg5yuF0DHO8LAr0=
        """.filter { !$0.isWhitespace })!

    /// ECDSA P-384 / ecdsa-with-SHA384 (self-signed, generated with OpenSSL for these tests).
    static let p384SHA384 = Data(base64Encoded: """
        MIIBzjCCAVSgAwIBAgIUXb6md3pcgxYlt+kVjKsUBPBoHl8wCgYIKoZIzj0EAwMwHjEcMBoGA1UEAwwTd2luZmxlZXQtcDM4
        NHNoYTM4NDAeFw0yNjExMjkxOTI3NDNaFw0zNjExMjYxOTI3NDNaMB4xHDAaBgNVBAMME3dpbmZsZWV0LXAzODRzaGEzODQw
        djAQBgcqhkjOPQIBBgUrgQQAIgNiAAShqo6wWts3Ub2cc/YbcWCLu8c5crID7Yf4W+q+Jn51HyuldHDCFDIFWdJfrxeUl0vu
        OoWTseKLPR8MSZlG9AB+NKtFaz6jwUvxIpFspTH/IVJnwsm6qFVfQqYTyVvkrWqjUzBRMB0GA1UdDgQWBBQtXj5oZ9RnH64U
        NgAxlDXjgOOI0jAfBgNVHSMEGDAWgBQtXj5oZ9RnH64UNgAxlDXjgOOI0jAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMD
        A2gAMGUCMH95V+bRIt811tIaUTcmUtWrtW4/U3kbrjKjXgfWuIHdqikxUMYN4UtxZq3eVJdnEgIxAKl8FqMCO/sI4sp6T+tS
        l4ac7DvmweBtGFw8ZSWQ2PlsrGVSjevVsSPmzD0fFb7gKA==
        """.filter { !$0.isWhitespace })!

    /// ECDSA P-256 / ecdsa-with-SHA1 (self-signed, generated with OpenSSL for these tests).
    static let p256SHA1 = Data(base64Encoded: """
        MIIBizCCATKgAwIBAgIURK1UlJJdx5nowzskHjac5dzidckwCQYHKoZIzj0EATAcMRowGAYDVQQDDBF3aW5mbGVldC1wMjU2
        c2hhMTAeFw0yNjExMjkxOTI3NDNaFw0zNjExMjYxOTI3NDNaMBwxGjAYBgNVBAMMEXdpbmZsZWV0LXAyNTZzaGExMFkwEwYH
        KoZIzj0CAQYIKoZIzj0DAQcDQgAElMZnAxz/0l8BvAeCEYSi1glk0zrvSh9qwtyunjZk7goO/mBTpFTnB7/5DbX8G5tCWoW1
        tiuXduZW0IfbjyxDPaNTMFEwHQYDVR0OBBYEFOf8iovPEg9tHohvtLKpG+i+RZZZMB8GA1UdIwQYMBaAFOf8iovPEg9tHohv
        tLKpG+i+RZZZMA8GA1UdEwEB/wQFMAMBAf8wCQYHKoZIzj0EAQNIADBFAiB7hYHkVEuusKBoWYJYUq3MKIA9cAqdpj2NEMro
        TXBapAIhAIb3yiKM/BYpcKD1EEQ/7v7tbrgfhwLm29x4C3KECl+v
        """.filter { !$0.isWhitespace })!

    /// ECDSA P-256 / ecdsa-with-SHA512 (self-signed, generated with OpenSSL for these tests).
    static let p256SHA512 = Data(base64Encoded: """
        MIIBkDCCATegAwIBAgIUbwdONCkDCw2g1txN+aSPIUkrlCYwCgYIKoZIzj0EAwQwHjEcMBoGA1UEAwwTd2luZmxlZXQtcDI1
        NnNoYTUxMjAeFw0yNjExMjkxOTI3NDNaFw0zNjExMjYxOTI3NDNaMB4xHDAaBgNVBAMME3dpbmZsZWV0LXAyNTZzaGE1MTIw
        WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARarQnOMFLt5ekZRgodD3CcdGbuwKcgz1mSNlWb2CGCCCK2bT1PpjGyqe30/wAy
        3txV1DyZMD8BmcFpAF9drqNSo1MwUTAdBgNVHQ4EFgQUrYwmeQwOCyO8ehcHLtNOicihBq0wHwYDVR0jBBgwFoAUrYwmeQwO
        CyO8ehcHLtNOicihBq0wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDBANHADBEAiAixS8c3zNRzrS+U6TvwbXp6h+MjtO1
        cHYjx1ozWa0jqwIgW+5tApV0tf//asbWaDY2v1Fe0FVgVqAwnDzPNyopAUw=
        """.filter { !$0.isWhitespace })!

    /// RSA-1024 / RSASSA-PSS with SHA-384 (self-signed, generated with OpenSSL for these tests).
    static let rsaPSSSHA384 = Data(base64Encoded: """
        MIICcDCCAaWgAwIBAgIUQyEASX6zFq6rSn/3G7elYcRU0k4wQQYJKoZIhvcNAQEKMDSgDzANBglghkgBZQMEAgIFAKEcMBoG
        CSqGSIb3DQEBCDANBglghkgBZQMEAgIFAKIDAgFOMBcxFTATBgNVBAMMDHdpbmZsZWV0LXBzczAeFw0yNjExMjkxOTI3NDNa
        Fw0zNjExMjYxOTI3NDNaMBcxFTATBgNVBAMMDHdpbmZsZWV0LXBzczCBnTALBgkqhkiG9w0BAQoDgY0AMIGJAoGBANQ6rtlQ
        22/lstm4rGZ0kh4AJ44ZTot5TlVJk3B2lilP68qICOXqH+facWnljBnN3gZvDuRtrBdNHHKOJnKHckUM3URiK6B67Jkq2V0A
        /AL12EPbS+UGC9Ytbw6FOHVA88xpFFgNMnNCDUr5MvtViQgN1/F8t4f/EtIB2n+tlSVDAgMBAAGjUzBRMB0GA1UdDgQWBBRk
        fQo9mwnzA93jnW+N/OQCfHi2dTAfBgNVHSMEGDAWgBRkfQo9mwnzA93jnW+N/OQCfHi2dTAPBgNVHRMBAf8EBTADAQH/MEEG
        CSqGSIb3DQEBCjA0oA8wDQYJYIZIAWUDBAICBQChHDAaBgkqhkiG9w0BAQgwDQYJYIZIAWUDBAICBQCiAwIBTgOBgQCFQ5cv
        EpRiQR2rQyj1g9kCpI0sErJhVTpgxDTCCwHTbmWFePlqmkHzf5HkJ3moVpoY80M0S5v8NKYKPYdUsfGOwd0Cs0geHd6NHLOv
        UucU0skb72OhGqeUzQdKp99Hn1P1lzxxregbt4QsZGca6NtQNBfRM65yvUDY+dIEhP2dJw==
        """.filter { !$0.isWhitespace })!
}

final class ChannelBindingsTests: XCTestCase {
    func testHashSelectionFollowsRFC5929() {
        XCTAssertEqual(ChannelBindings.certificateHash(forCertificateDER: TestCertificates.p256SHA256), .sha256)
        XCTAssertEqual(ChannelBindings.certificateHash(forCertificateDER: TestCertificates.p384SHA384), .sha384)
        XCTAssertEqual(ChannelBindings.certificateHash(forCertificateDER: TestCertificates.p256SHA512), .sha512)
        XCTAssertEqual(ChannelBindings.certificateHash(forCertificateDER: TestCertificates.p256SHA1), .sha256,
                       "SHA-1 signatures are upgraded to SHA-256")
        XCTAssertEqual(ChannelBindings.certificateHash(forCertificateDER: TestCertificates.rsaPSSSHA384), .sha384,
                       "RSASSA-PSS takes the hash from its parameters")
        XCTAssertEqual(ChannelBindings.certificateHash(forCertificateDER: Data("not a certificate".utf8)), .sha256)
        XCTAssertEqual(ChannelBindings.signatureAlgorithm(ofCertificateDER: TestCertificates.p256SHA1)?.oid, "1.2.840.10045.4.1")
    }

    func testTLSServerEndPointApplicationData() {
        let prefix = Data("tls-server-end-point:".utf8)
        XCTAssertEqual(ChannelBindings.tlsServerEndPoint(certificateDER: TestCertificates.p256SHA256).hex,
                       prefix.hex + "e86a5eafe3b2eb259104a8621c9dd69e5f33f2cc97d1313afc95581e831a821f")
        XCTAssertEqual(ChannelBindings.tlsServerEndPoint(certificateDER: TestCertificates.p384SHA384).hex,
                       prefix.hex + "f0d453359bbb90cda82098a98e18bb9d3c544b01b78920cc85628926e93a1c50fab94c55cbef9055d4dc19641916e6e2")
        XCTAssertEqual(ChannelBindings.tlsServerEndPoint(certificateDER: TestCertificates.p256SHA1).hex,
                       prefix.hex + "d09306057b0fb4d15972671d814201c687d70b4bbd2a8a3ba425d21222a9659b")
        XCTAssertEqual(ChannelBindings.tlsServerEndPoint(certificateDER: TestCertificates.p256SHA512).hex,
                       prefix.hex + "241c5a4e86b6a7add96bde458d62b7ed04c73c19fcf05db30d21418d2ad372d428220f9d29abfccbc5b99e26a7e7cef25b288775aaffcce134f97cc6bd2b5793")
        XCTAssertEqual(ChannelBindings.tlsServerEndPoint(certificateDER: TestCertificates.rsaPSSSHA384, hash: .sha256).hex,
                       prefix.hex + "423d5c8d0eccdd72b594edcb1345ebc8acb86529c5c0eab9190fd1bad7eb5a53", "explicit hash overrides the rule")
    }

    func testGSSChannelBindingsStructLayout() {
        // pyspnego tests/test_channel_bindings.py: empty addresses, application data length-prefixed.
        XCTAssertEqual(ChannelBindings.gssChannelBindingsStruct(applicationData: Data()).hex, String(repeating: "00", count: 20))
        XCTAssertEqual(ChannelBindings.gssChannelBindingsStruct(applicationData: Data("caf\u{e9}".utf8)).hex,
                       String(repeating: "00", count: 16) + "05000000" + "636166c3a9")
    }

    /// MsvAvChannelBindings = MD5(struct); expected values from Python's hashlib over the same layout.
    func testNTLMChannelBindingsHash() {
        let p384 = ChannelBindings.tlsServerEndPoint(certificateDER: TestCertificates.p384SHA384)
        XCTAssertEqual(p384.count, 69)
        XCTAssertEqual(NTLMCrypto.channelBindingsHash(applicationData: p384).hex, "b156f7fdff3fdbfaa1fbab45e0e098ad")
        let p256 = ChannelBindings.tlsServerEndPoint(certificateDER: TestCertificates.p256SHA256)
        XCTAssertEqual(NTLMCrypto.channelBindingsHash(applicationData: p256).hex, "9da0c4f2a9a44b036b70f5d667a7aae1")
    }
}
