import Foundation
import XCTest
@testable import Inventory

final class InventoryLoadingTests: XCTestCase {

    // MARK: - Accepted files and defaults

    func testMinimalHostGetsEveryDefault() throws {
        let inventory = try parseInventory(#"{ "hosts": [ { "name": "web01" } ] }"#)
        XCTAssertEqual(inventory.hosts.count, 1)
        let host = inventory.hosts[0]
        XCTAssertEqual(host, InventoryHost(name: "web01"))
        XCTAssertEqual(host.address, "web01")
        XCTAssertEqual(host.port, 5985)
        XCTAssertEqual(host.transport, .http)
        XCTAssertEqual(host.auth, .negotiate)
        XCTAssertNil(host.credentialName)
        XCTAssertEqual(host.routeName, "direct")
        XCTAssertEqual(host.groups, [])
        XCTAssertEqual(host.encryption, .auto)
        XCTAssertEqual(host.tls, TLSSettings(caFile: nil, fingerprintSHA256: nil, verify: true))
        XCTAssertFalse(host.allowUnencrypted)
        XCTAssertEqual(host.operationTimeout, 20)
        XCTAssertEqual(host.connectTimeout, 10)
        XCTAssertEqual(host.spnService, .http)
        XCTAssertNil(host.spn)
        XCTAssertFalse(host.kerberosDelegation)
        XCTAssertEqual(host.path, "/wsman")
        XCTAssertEqual(host.endpointURL, "http://web01:5985/wsman")
        XCTAssertEqual(host.servicePrincipalName, "HTTP/web01")
        XCTAssertEqual(inventory.routes["direct"], Route.direct, "the implicit direct route is always present")
        XCTAssertTrue(inventory.warnings.isEmpty)
    }

    func testHTTPSDefaultsToPort5986() throws {
        let inventory = try parseInventory(#"{ "hosts": [ { "name": "web01", "transport": "https" } ] }"#)
        XCTAssertEqual(inventory.hosts[0].port, 5986)
        XCTAssertEqual(inventory.hosts[0].endpointURL, "https://web01:5986/wsman")
    }

    func testEveryHostFieldIsRead() throws {
        let inventory = try parseInventory(#"""
        { "credentials": { "admin": { "username": "admin@corp.example.com", "password_env": "PW" } },
          "routes": { "dmz": { "proxy": "http://127.0.0.1:3128" } },
          "hosts": [ { "name": "web01", "address": "fe80::1", "port": 15986, "transport": "https", "auth": "kerberos",
                       "credential": "admin", "route": "dmz", "groups": ["web", "iis", "web"], "encryption": "always",
                       "tls": { "ca_file": "/etc/ca.pem", "fingerprint_sha256": "AB:cd:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd", "verify": true },
                       "allow_unencrypted": true, "operation_timeout": 45.5, "connect_timeout": 3,
                       "spn_service": "WSMAN", "spn": "HTTP/web01.corp.example.com", "kerberos_delegation": true,
                       "path": "/PowerShell" } ] }
        """#)
        let host = inventory.hosts[0]
        XCTAssertEqual(host.address, "fe80::1")
        XCTAssertEqual(host.port, 15986)
        XCTAssertEqual(host.transport, .https)
        XCTAssertEqual(host.auth, .kerberos)
        XCTAssertEqual(host.credentialName, "admin")
        XCTAssertEqual(host.routeName, "dmz")
        XCTAssertEqual(host.groups, ["web", "iis"], "duplicates dropped, order kept")
        XCTAssertEqual(host.encryption, .always)
        XCTAssertEqual(host.tls.caFile, "/etc/ca.pem")
        XCTAssertEqual(host.tls.fingerprintSHA256, "abcd00112233445566778899aabbccddeeff00112233445566778899aabbccdd")
        XCTAssertTrue(host.tls.verify)
        XCTAssertTrue(host.allowUnencrypted)
        XCTAssertEqual(host.operationTimeout, 45.5)
        XCTAssertEqual(host.connectTimeout, 3)
        XCTAssertEqual(host.spnService, .wsman)
        XCTAssertEqual(host.servicePrincipalName, "HTTP/web01.corp.example.com")
        XCTAssertTrue(host.kerberosDelegation)
        XCTAssertEqual(host.path, "/PowerShell")
        XCTAssertEqual(host.endpointURL, "https://[fe80::1]:15986/PowerShell")
    }

    func testDefaultsApplyAndHostsOverrideThem() throws {
        let inventory = try parseInventory(#"""
        { "defaults": { "transport": "https", "auth": "ntlm", "credential": "admin", "route": "squid", "groups": ["all-windows"],
                        "tls": { "ca_file": "/etc/ca.pem" }, "operation_timeout": 30, "port": 15986, "path": "/custom",
                        "encryption": "always", "connect_timeout": 4, "spn_service": "WSMAN", "kerberos_delegation": true,
                        "allow_unencrypted": false, "spn": "HTTP/shared" },
          "credentials": { "admin": { "username": "CORP\\admin", "password_env": "PW" },
                           "other": { "username": "other", "password_env": "PW2" } },
          "routes": { "squid": { "proxy": "http://127.0.0.1:3128" } },
          "hosts": [ { "name": "a" },
                     { "name": "b", "transport": "http", "auth": "kerberos", "credential": "other", "route": "direct",
                       "groups": ["web"], "tls": { "verify": true, "fingerprint_sha256": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" },
                       "operation_timeout": 5, "port": 5985 } ] }
        """#)
        let a = inventory.hosts[0], b = inventory.hosts[1]
        XCTAssertEqual(a.transport, .https)
        XCTAssertEqual(a.auth, .ntlm)
        XCTAssertEqual(a.credentialName, "admin")
        XCTAssertEqual(a.routeName, "squid")
        XCTAssertEqual(a.groups, ["all-windows"])
        XCTAssertEqual(a.tls.caFile, "/etc/ca.pem")
        XCTAssertEqual(a.operationTimeout, 30)
        XCTAssertEqual(a.port, 15986)
        XCTAssertEqual(a.path, "/custom")
        XCTAssertEqual(a.encryption, .always)
        XCTAssertEqual(a.connectTimeout, 4)
        XCTAssertEqual(a.spnService, .wsman)
        XCTAssertTrue(a.kerberosDelegation)
        XCTAssertEqual(a.spn, "HTTP/shared")

        XCTAssertEqual(b.transport, .http)
        XCTAssertEqual(b.auth, .kerberos)
        XCTAssertEqual(b.credentialName, "other")
        XCTAssertEqual(b.routeName, "direct")
        XCTAssertEqual(b.groups, ["web"], "a host's groups replace the default groups")
        XCTAssertEqual(b.tls.caFile, "/etc/ca.pem", "tls merges key by key")
        XCTAssertEqual(b.tls.fingerprintSHA256, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
        XCTAssertEqual(b.operationTimeout, 5)
        XCTAssertEqual(b.port, 5985)
    }

    func testDefaultPortFollowsTheEffectiveTransport() throws {
        let inventory = try parseInventory(#"{ "defaults": { "transport": "https" }, "hosts": [ { "name": "a" }, { "name": "b", "transport": "http" } ] }"#)
        XCTAssertEqual(inventory.hosts.map(\.port), [5986, 5985])
    }

    func testRouteNamedDirectIsTheDefaultRoute() throws {
        let inventory = try parseInventory(#"""
        { "routes": { "direct": { "proxy": "env" }, "other": {} }, "hosts": [ { "name": "a" } ] }
        """#)
        XCTAssertEqual(inventory.hosts[0].routeName, "direct")
        XCTAssertEqual(inventory.routes["direct"]?.proxy, .environment, "a defined route named direct is used as is")
    }

    func testRoutesAreParsed() throws {
        let inventory = try parseInventory(#"""
        { "credentials": { "proxyuser": { "username": "proxyuser", "password_env": "PROXY_PW" } },
          "routes": {
            "lan": {},
            "env": { "proxy": "env" },
            "squid": { "proxy": "http://127.0.0.1:3128", "proxy_auth": "basic", "proxy_credential": "proxyuser" },
            "fwd": { "proxy": "HTTP://Proxy.Example.COM:8080/", "mode": "forward" },
            "secure": { "proxy": "https://[::1]:3129", "mode": "tunnel", "proxy_auth": "ntlm", "proxy_credential": "proxyuser",
                        "proxy_tls": { "ca_file": "/etc/proxy-ca.pem", "verify": true } }
          },
          "hosts": [] }
        """#)
        XCTAssertEqual(inventory.routes["lan"], Route(name: "lan"))
        XCTAssertEqual(inventory.routes["env"], Route(name: "env", proxy: .environment))
        XCTAssertEqual(inventory.routes["squid"], Route(name: "squid", proxy: .url(ProxyURL(scheme: .http, host: "127.0.0.1", port: 3128)),
                                                        mode: .tunnel, proxyAuth: .basic, proxyCredential: "proxyuser"))
        XCTAssertEqual(inventory.routes["fwd"], Route(name: "fwd", proxy: .url(ProxyURL(scheme: .http, host: "proxy.example.com", port: 8080)), mode: .forward))
        XCTAssertEqual(inventory.routes["secure"], Route(name: "secure", proxy: .url(ProxyURL(scheme: .https, host: "::1", port: 3129)),
                                                         mode: .tunnel, proxyAuth: .ntlm, proxyCredential: "proxyuser",
                                                         proxyTLS: TLSSettings(caFile: "/etc/proxy-ca.pem", verify: true)))
        XCTAssertEqual(inventory.routes["secure"].map { "\($0.proxy)" }, "url(https://[::1]:3129)")
        XCTAssertNotNil(inventory.routes["direct"], "implicit direct route added")
        XCTAssertEqual(inventory.routes.count, 6)
    }

    func testCredentialsAreParsed() throws {
        let inventory = try parseInventory(#"""
        { "credentials": {
            "env": { "username": "CORP\\alice", "password_env": "ALICE_PW" },
            "file": { "username": "bob@corp.example.com", "password_file": "/run/secrets/bob" },
            "inline": { "username": "carol", "password": "hunter2" } },
          "hosts": [] }
        """#)
        XCTAssertEqual(inventory.credentials["env"]?.source, .environment("ALICE_PW"))
        XCTAssertEqual(inventory.credentials["env"]?.account, AccountName("CORP\\alice"))
        XCTAssertEqual(inventory.credentials["env"]?.account?.domain, "CORP")
        XCTAssertEqual(inventory.credentials["env"]?.account?.user, "alice")
        XCTAssertEqual(inventory.credentials["env"]?.account?.form, .downLevel)
        XCTAssertEqual(inventory.credentials["file"]?.source, .file("/run/secrets/bob"))
        XCTAssertEqual(inventory.credentials["file"]?.account?.form, .userPrincipalName)
        XCTAssertEqual(inventory.credentials["file"]?.account?.domain, "corp.example.com")
        XCTAssertEqual(inventory.credentials["inline"]?.source, .inline)
        XCTAssertEqual(inventory.credentials["inline"]?.account?.form, .plain)
        XCTAssertEqual(inventory.credentials["inline"]?.inlinePassword?.revealed, "hunter2")
    }

    func testRelativePathsResolveAgainstTheInventoryDirectory() throws {
        let json = #"""
        { "credentials": { "f": { "username": "u", "password_file": "secrets/pw.txt" } },
          "routes": { "p": { "proxy": "https://127.0.0.1:3129", "proxy_tls": { "ca_file": "proxy-ca.pem" } } },
          "hosts": [ { "name": "a", "transport": "https", "tls": { "ca_file": "certs/ca.pem" } } ] }
        """#
        let based = try Inventory.parse(data: Data(json.utf8), fileName: "inv.json", baseDirectory: "/etc/winfleet")
        XCTAssertEqual(based.credentials["f"]?.source, .file("/etc/winfleet/secrets/pw.txt"))
        XCTAssertEqual(based.hosts[0].tls.caFile, "/etc/winfleet/certs/ca.pem")
        XCTAssertEqual(based.routes["p"]?.proxyTLS.caFile, "/etc/winfleet/proxy-ca.pem")
        let unbased = try Inventory.parse(data: Data(json.utf8), fileName: "inv.json")
        XCTAssertEqual(unbased.credentials["f"]?.source, .file("secrets/pw.txt"))
    }

    func testLoadFromDiskUsesTheFilesDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("inventory-load-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("fleet.json")
        try Data(#"{ "credentials": { "f": { "username": "u", "password_file": "pw.txt" } }, "hosts": [ { "name": "a" } ] }"#.utf8).write(to: file)
        let inventory = try Inventory.load(path: file.path)
        XCTAssertEqual(inventory.fileName, file.path)
        XCTAssertEqual(inventory.credentials["f"]?.source, .file(directory.appendingPathComponent("pw.txt").path))
    }

    func testLoadingAMissingFileNamesThePath() {
        XCTAssertThrowsError(try Inventory.load(path: "/nonexistent/inventory.json")) { error in
            let error = error as? InventoryError
            XCTAssertEqual(error?.issues.count, 1)
            XCTAssertEqual(error?.issues.first?.file, "/nonexistent/inventory.json")
            XCTAssertTrue(error?.description.contains("no such file") ?? false, "\(String(describing: error))")
            XCTAssertTrue(error?.issues.first?.fix.contains("check the path") ?? false)
        }
    }

    func testExampleInventoryLoadsWithoutErrors() throws {
        let path = repositoryRoot.appendingPathComponent("inventory.example.json").path
        let inventory = try Inventory.load(path: path)
        XCTAssertEqual(inventory.hosts.map(\.name), ["dc01", "web01", "web02", "app01", "app02", "exch01", "kiosk01", "lab01", "lab02"])
        // Every feature is shown: each credential source, each route kind, each auth and transport.
        XCTAssertEqual(Set(inventory.credentials.values.map { cred -> String in
            switch cred.source { case .environment: return "env"; case .file: return "file"; case .inline: return "inline" }
        }), ["env", "file", "inline"])
        let proxies = inventory.routes.values.map(\.proxy)
        XCTAssertTrue(proxies.contains(.none))
        XCTAssertTrue(proxies.contains(.environment))
        XCTAssertTrue(inventory.routes.values.contains { $0.mode == .forward })
        XCTAssertTrue(inventory.routes.values.contains { $0.proxyAuth == .basic })
        XCTAssertTrue(inventory.routes.values.contains { if case .url(let url) = $0.proxy { return url.scheme == .https }; return false })
        XCTAssertEqual(Set(inventory.hosts.map(\.auth)), Set(HostAuth.allCases))
        XCTAssertEqual(Set(inventory.hosts.map(\.transport)), Set(Transport.allCases))
        XCTAssertEqual(Set(inventory.hosts.map(\.encryption)), Set(EncryptionMode.allCases))
        // The example demonstrates the two warnings on purpose.
        XCTAssertEqual(inventory.warnings.map(\.path), ["credentials.kiosk.password", "hosts[8].tls.verify"])
        // And none of its hosts is refused by the policy, with or without proxy variables.
        for environment in [[:], ["HTTP_PROXY": "http://127.0.0.1:3128", "HTTPS_PROXY": "http://127.0.0.1:3128"]] {
            for host in inventory.hosts {
                let findings = inventory.policyFindings(for: host, environment: environment)
                XCTAssertTrue(Policy.allows(findings), "\(host.name): \(findings)")
            }
        }
    }

    // MARK: - Rejected input: each error carries file, JSON path and fix

    func testUnknownKeysAreRejectedEverywhere() {
        assertRejected(#"{ "hosts": [], "hostz": [] }"#, path: "hostz", message: "unknown key \"hostz\"", fix: "did you mean \"hosts\"?")
        assertRejected(#"{ "defaults": { "name": "x" }, "hosts": [] }"#, path: "defaults.name", message: "unknown key", fix: "allowed here: port")
        assertRejected(singleHost(#""adress": "10.0.0.1""#), path: "hosts[0].adress", message: "unknown key \"adress\"", fix: "did you mean \"address\"?")
        assertRejected(singleHost(#""tls": { "verfy": true }"#), path: "hosts[0].tls.verfy", message: "unknown key", fix: "did you mean \"verify\"?")
        assertRejected(#"{ "credentials": { "a": { "username": "u", "password_env": "P", "pasword": "x" } }, "hosts": [] }"#,
                       path: "credentials.a.pasword", message: "unknown key", fix: "did you mean")
        assertRejected(#"{ "routes": { "r": { "proxy": "env", "mdoe": "forward" } }, "hosts": [] }"#,
                       path: "routes.r.mdoe", message: "unknown key", fix: "did you mean \"mode\"?")
        assertRejected(#"{ "routes": { "r": { "proxy": "https://p:1", "proxy_tls": { "fingerprint_sha256": "00" } } }, "hosts": [] }"#,
                       path: "routes.r.proxy_tls.fingerprint_sha256", message: "unknown key", fix: "allowed here: ca_file, verify")
    }

    func testWrongTypesAreRejected() {
        assertRejected(#"{ "hosts": {} }"#, path: "hosts", message: "expected an array of hosts, found an object", fix: "\"hosts\": [")
        assertRejected(#"{ "hosts": [ "web01" ] }"#, path: "hosts[0]", message: "expected a host as an object", fix: "object")
        assertRejected(#"{ "hosts": [ { "name": 5 } ] }"#, path: "hosts[0].name", message: "expected a string, found number 5", fix: "in quotes")
        assertRejected(singleHost(#""port": "5985""#), path: "hosts[0].port", message: "found string \"5985\"", fix: "write 5985 without quotes")
        assertRejected(singleHost(#""allow_unencrypted": "true""#), path: "hosts[0].allow_unencrypted", message: "expected true or false", fix: "without quotes")
        assertRejected(singleHost(#""kerberos_delegation": 1"#), path: "hosts[0].kerberos_delegation", message: "expected true or false, found number 1", fix: "true or false")
        assertRejected(singleHost(#""groups": "web""#), path: "hosts[0].groups", message: "expected an array of group names", fix: "[\"web\", \"iis\"]")
        assertRejected(singleHost(#""groups": ["web", 7]"#), path: "hosts[0].groups[1]", message: "expected a string", fix: "quotes")
        assertRejected(singleHost(#""tls": true"#), path: "hosts[0].tls", message: "expected tls as an object", fix: "braces")
        assertRejected(singleHost(#""operation_timeout": "20""#), path: "hosts[0].operation_timeout", message: "expected seconds as a number", fix: "without quotes")
        assertRejected(singleHost(#""auth": 3"#), path: "hosts[0].auth", message: "expected one of basic, ntlm, kerberos, negotiate", fix: "double quotes")
        assertRejected(#"{ "credentials": [], "hosts": [] }"#, path: "credentials", message: "expected credentials as an object", fix: "braces")
        assertRejected(#"{ "routes": { "r": "env" }, "hosts": [] }"#, path: "routes.r", message: "expected a route as an object", fix: "braces")
        assertRejected("[]", path: "", message: "expected the inventory as an object", fix: "braces")
    }

    func testBadEnumValuesAreRejectedWithTheChoices() {
        let issues = rejectionIssues(singleHost(#""auth": "kerbros""#))
        XCTAssertEqual(issues.map(\.description),
                       [#"inventory.json: hosts[0].auth: "kerbros" is not one of basic, ntlm, kerberos, negotiate — fix the value (did you mean kerberos?)"#])
        assertRejected(singleHost(#""transport": "HTTPS""#), path: "hosts[0].transport", message: "is not one of http, https", fix: "did you mean https?")
        assertRejected(singleHost(#""encryption": "sometimes""#), path: "hosts[0].encryption", message: "is not one of auto, always, never", fix: "fix the value")
        assertRejected(singleHost(#""spn_service": "host""#), path: "hosts[0].spn_service", message: "is not one of HTTP, WSMAN", fix: "fix the value")
        assertRejected(#"{ "routes": { "r": { "proxy": "env", "mode": "connect" } }, "hosts": [] }"#,
                       path: "routes.r.mode", message: "is not one of tunnel, forward", fix: "fix the value")
        assertRejected(#"{ "routes": { "r": { "proxy": "env", "proxy_auth": "kerberos", "proxy_credential": "c" } }, "credentials": { "c": { "username": "u", "password_env": "P" } }, "hosts": [] }"#,
                       path: "routes.r.proxy_auth", message: "is not one of none, basic, digest, ntlm, negotiate", fix: "fix the value")
    }

    func testThePathOfTheFourthHostIsIndexed() {
        let issues = rejectionIssues(#"""
        { "hosts": [ { "name": "a" }, { "name": "b" }, { "name": "c" }, { "name": "d", "auth": "kerbros" } ] }
        """#)
        XCTAssertEqual(issues.first?.path, "hosts[3].auth")
        XCTAssertTrue(issues.first?.description.hasPrefix(#"inventory.json: hosts[3].auth: "kerbros" is not one of basic, ntlm, kerberos, negotiate — fix the value"#) ?? false)
        XCTAssertEqual(issues.first?.line, 1)
    }

    func testDuplicateHostNamesAreRejected() {
        assertRejected(#"{ "hosts": [ { "name": "web01" }, { "name": "db01" }, { "name": "WEB01" } ] }"#,
                       path: "hosts[2].name", message: "duplicate host name \"WEB01\" (also hosts[0])", fix: "unique name")
    }

    func testMissingNameIsRejected() {
        assertRejected(#"{ "hosts": [ { "address": "10.0.0.1" } ] }"#, path: "hosts[0].name", message: "has no name", fix: "\"name\": \"web01\"")
    }

    func testMissingHostsIsRejected() {
        assertRejected(#"{ "routes": {} }"#, path: "", message: "no \"hosts\"", fix: "add \"hosts\"")
    }

    func testHostNamingAMissingCredentialOrRouteIsRejected() {
        assertRejected(singleHost(#""credential": "admn""#), path: "hosts[0].credential",
                       message: "credential \"admn\" is not defined — did you mean admin?", fix: "add \"admn\" under \"credentials\"")
        assertRejected(singleHost(#""route": "squid""#, routes: #"{ "squidd": { "proxy": "env" } }"#), path: "hosts[0].route",
                       message: "route \"squid\" is not defined — did you mean squidd?", fix: "add \"squid\" under \"routes\"")
        assertRejected(#"{ "defaults": { "credential": "nobody" }, "hosts": [] }"#, path: "defaults.credential",
                       message: "credential \"nobody\" is not defined", fix: "under \"credentials\"")
        assertRejected(#"{ "defaults": { "route": "nowhere" }, "hosts": [] }"#, path: "defaults.route",
                       message: "route \"nowhere\" is not defined", fix: "under \"routes\"")
    }

    func testImplicitDirectRouteMayBeNamed() throws {
        let inventory = try parseInventory(singleHost(#""route": "direct""#))
        XCTAssertEqual(inventory.hosts[0].routeName, "direct")
    }

    func testRouteProxyCredentialMustExist() {
        assertRejected(#"{ "routes": { "squid": { "proxy": "http://127.0.0.1:3128", "proxy_auth": "basic", "proxy_credential": "ghost" } }, "hosts": [] }"#,
                       path: "routes.squid.proxy_credential", message: "credential \"ghost\" is not defined", fix: "under \"credentials\"")
    }

    func testProxyAuthWithoutProxyCredentialIsRejected() {
        assertRejected(#"{ "routes": { "squid": { "proxy": "http://127.0.0.1:3128", "proxy_auth": "basic" } }, "hosts": [] }"#,
                       path: "routes.squid.proxy_credential", message: "proxy_auth basic needs a proxy_credential", fix: "add \"proxy_credential\"")
    }

    func testProxySettingsWithoutAProxyAreRejected() {
        assertRejected(#"{ "routes": { "lan": { "mode": "forward" } }, "hosts": [] }"#,
                       path: "routes.lan.mode", message: "mode is set but the route has no proxy", fix: "add \"proxy\"")
        assertRejected(#"{ "routes": { "lan": { "proxy_auth": "none" } }, "hosts": [] }"#,
                       path: "routes.lan.proxy_auth", message: "the route has no proxy", fix: "a direct route is {}")
    }

    func testMalformedProxyURLsAreRejected() {
        func assertBadProxy(_ value: String, _ reason: String, fix: String = "http://host:port", line: UInt = #line) {
            assertRejected(#"{ "routes": { "p": { "proxy": "\#(value)" } }, "hosts": [] }"#,
                           path: "routes.p.proxy", message: reason, fix: fix, line: line)
        }
        assertBadProxy("127.0.0.1:3128", "has no scheme")
        assertBadProxy("socks5://127.0.0.1:1080", "scheme \\\"socks5\\\"".replacingOccurrences(of: "\\", with: ""))
        assertBadProxy("http://127.0.0.1", "has no port")
        assertBadProxy("http://127.0.0.1:", "has no port")
        assertBadProxy("http://127.0.0.1:99999", "port that is not a number from 1 to 65535")
        assertBadProxy("http://127.0.0.1:0", "port that is not a number from 1 to 65535")
        assertBadProxy("http://127.0.0.1:31x8", "port that is not a number")
        assertBadProxy("http://:3128", "has no host")
        assertBadProxy("http://proxy:3128/path", "path, query or fragment")
        assertBadProxy("http://[::1:3128", "invalid host")
        assertBadProxy("http://::1:3128", "invalid host")
        assertBadProxy("http://pro xy:3128", "invalid host")
        assertBadProxy("environment", "has no scheme", fix: "\"env\"")
    }

    func testProxyURLWithCredentialsIsRejectedWithoutEchoingThePassword() {
        let issues = rejectionIssues(#"{ "routes": { "p": { "proxy": "http://bob:s3cr3t@127.0.0.1:3128" } }, "hosts": [] }"#)
        XCTAssertEqual(issues.count, 1)
        XCTAssertEqual(issues.first?.path, "routes.p.proxy")
        XCTAssertTrue(issues.first?.message.contains("user:password@") ?? false)
        XCTAssertTrue(issues.first?.fix.contains("proxy_credential") ?? false)
        XCTAssertFalse(issues.first?.description.contains("s3cr3t") ?? true)
    }

    func testInvalidPortsAreRejected() {
        for port in ["0", "65536", "-1", "5985.5", "1e3"] {
            assertRejected(singleHost(#""port": \#(port)"#), path: "hosts[0].port", message: "\(port) is not a port (1–65535)", fix: "whole number from 1 to 65535")
        }
        assertRejected(#"{ "defaults": { "port": 70000 }, "hosts": [] }"#, path: "defaults.port", message: "is not a port", fix: "1 to 65535")
        assertRejected(singleHost(#""port": null"#), path: "hosts[0].port", message: "found null", fix: "whole number")
    }

    func testOtherValueChecks() {
        assertRejected(singleHost(#""operation_timeout": 0"#), path: "hosts[0].operation_timeout", message: "not a usable timeout", fix: "greater than 0")
        assertRejected(singleHost(#""connect_timeout": -5"#), path: "hosts[0].connect_timeout", message: "not a usable timeout", fix: "greater than 0")
        assertRejected(singleHost(#""tls": { "fingerprint_sha256": "abc" }"#), path: "hosts[0].tls.fingerprint_sha256", message: "not a SHA-256 fingerprint", fix: "64 hex digits")
        assertRejected(singleHost(#""path": "wsman""#), path: "hosts[0].path", message: "not a URL path", fix: "starting with /")
        assertRejected(singleHost(#""spn": "web01""#), path: "hosts[0].spn", message: "not a service principal name", fix: "SERVICE/host")
        assertRejected(singleHost(#""address": "http://web01:5985/wsman""#), path: "hosts[0].address", message: "is a URL", fix: "DNS name or an IP address")
        assertRejected(singleHost(#""address": "web01:5985""#), path: "hosts[0].address", message: "a port belongs in \"port\"", fix: "own keys")
        assertRejected(singleHost(#""address": """#), path: "hosts[0].address", message: "empty", fix: "remove \"address\"")
        assertRejected(#"{ "hosts": [ { "name": "web 01" } ] }"#, path: "hosts[0].name", message: "contains whitespace", fix: "\"address\"")
        assertRejected(#"{ "hosts": [ { "name": "web[01]" } ] }"#, path: "hosts[0].name", message: "contains '['", fix: "rename the host")
        assertRejected(#"{ "hosts": [ { "name": "all" } ] }"#, path: "hosts[0].name", message: "reserved", fix: "another host name")
        assertRejected(singleHost(#""groups": ["web,db"]"#), path: "hosts[0].groups[0]", message: "contains ','", fix: "rename the group")
        assertRejected(#"{ "routes": { "dmz:1": {} }, "hosts": [] }"#, path: #"routes["dmz:1"]"#, message: "contains ':'", fix: "rename the route")
    }

    func testAuthNeedingAPasswordWithoutCredentialIsRejected() {
        assertRejected(#"{ "hosts": [ { "name": "a", "auth": "ntlm" } ] }"#, path: "hosts[0].credential", message: "auth ntlm needs a credential", fix: "\"credential\"")
        assertRejected(#"{ "hosts": [ { "name": "a", "auth": "basic" } ] }"#, path: "hosts[0].credential", message: "auth basic needs a credential", fix: "\"credential\"")
    }

    func testKerberosAndNegotiateMayUseTheTicketCache() throws {
        let inventory = try parseInventory(#"{ "hosts": [ { "name": "a", "auth": "kerberos" }, { "name": "b" } ] }"#)
        XCTAssertEqual(inventory.hosts.map(\.credentialName), [nil, nil])
    }

    func testCredentialProblems() {
        assertRejected(#"{ "credentials": { "a": { "password_env": "P" } }, "hosts": [] }"#,
                       path: "credentials.a.username", message: "has no username", fix: "\"username\"")
        assertRejected(#"{ "credentials": { "a": { "username": "u" } }, "hosts": [] }"#,
                       path: "credentials.a", message: "no password source", fix: "password_env")
        assertRejected(#"{ "credentials": { "a": { "username": "u", "password_env": "P", "password_file": "/f" } }, "hosts": [] }"#,
                       path: "credentials.a.password_file", message: "only one password source", fix: "keep one of")
        assertRejected(#"{ "credentials": { "a": { "username": "CORP\\", "password_env": "P" } }, "hosts": [] }"#,
                       path: "credentials.a.username", message: "is not a valid username", fix: "user@domain")
        assertRejected(#"{ "credentials": { "a": { "username": "CORP\\u@x", "password_env": "P" } }, "hosts": [] }"#,
                       path: "credentials.a.username", message: "is not a valid username", fix: "DOMAIN")
        assertRejected(#"{ "credentials": { "a": { "username": "u", "password_env": "MY-PW" } }, "hosts": [] }"#,
                       path: "credentials.a.password_env", message: "is not an environment variable name", fix: "letters, digits and _")
        assertRejected(#"{ "credentials": { "svc.backup": { "username": "u", "password_env": 1 } }, "hosts": [] }"#,
                       path: #"credentials["svc.backup"].password_env"#, message: "expected a string", fix: "quotes")
    }

    func testInlinePasswordOfTheWrongTypeIsNotEchoed() {
        let issues = rejectionIssues(#"{ "credentials": { "a": { "username": "u", "password": 31337 } }, "hosts": [] }"#)
        XCTAssertEqual(issues.map(\.path), ["credentials.a.password"])
        XCTAssertFalse(issues[0].description.contains("31337"))
    }

    func testDuplicateJSONKeysAreRejected() {
        assertRejected(#"{ "hosts": [ { "name": "a", "port": 1, "port": 2 } ] }"#, path: "hosts[0].port", message: "duplicate key \"port\"", fix: "keep one")
    }

    func testAllErrorsAreCollectedInFileOrder() {
        let issues = rejectionIssues(#"""
        {
          "defaults": { "auth": "kerbros" },
          "credentials": { "a": { "username": "u" } },
          "routes": { "squid": { "proxy": "http://squid", "proxy_auth": "basic" } },
          "hosts": [
            { "name": "web01", "port": 0 },
            { "name": "web01", "transport": "ftp", "credential": "nope", "route": "nowhere" }
          ]
        }
        """#)
        XCTAssertEqual(issues.map(\.path), [
            "defaults.auth",
            "credentials.a",
            "routes.squid.proxy",
            "routes.squid.proxy_credential",
            "hosts[0].port",
            "hosts[1].name",
            "hosts[1].transport",
            "hosts[1].credential",
            "hosts[1].route",
        ])
        XCTAssertEqual(issues.map(\.line), [2, 3, 4, 4, 6, 7, 7, 7, 7])
        let error = InventoryError(file: "inventory.json", issues: issues)
        XCTAssertEqual(error.description.split(separator: "\n").count, 9)
        XCTAssertNotNil(error.issue(at: "hosts[1].transport"))
    }

    func testInvalidJSONGivesLineAndColumn() {
        let issues = rejectionIssues("{\n  \"hosts\": [\n    { \"name\": \"a\" }\n    { \"name\": \"b\" }\n  ]\n}")
        XCTAssertEqual(issues.count, 1)
        XCTAssertEqual(issues[0].line, 4)
        XCTAssertEqual(issues[0].column, 5)
        XCTAssertEqual(issues[0].path, "")
        XCTAssertEqual(issues[0].description, "inventory.json:4:5: invalid JSON: unexpected '{', expected ',' or ']' — fix the JSON syntax at this position")
    }

    func testJSONSyntaxErrorVariants() {
        func syntaxIssue(_ json: String) -> InventoryIssue? { rejectionIssues(json).first }
        XCTAssertEqual(syntaxIssue("")?.message, "invalid JSON: the file is empty")
        XCTAssertEqual(syntaxIssue(#"{ "hosts": [], }"#)?.message, "invalid JSON: trailing comma before '}'")
        XCTAssertEqual(syntaxIssue(#"{ hosts: [] }"#)?.message, "invalid JSON: unexpected 'h', expected a key in double quotes")
        XCTAssertEqual(syntaxIssue(#"{ "hosts": [ { "name": "CORP\alice" } ] }"#)?.message.contains("invalid escape"), true)
        XCTAssertEqual(syntaxIssue(#"{ "hosts": [] } x"#)?.column, 17)
        XCTAssertEqual(syntaxIssue("{ \"hosts\": [ { \"name\": \"ab")?.message, "invalid JSON: unterminated string")
        XCTAssertEqual(syntaxIssue(#"{ "hosts": [ { "port": 0123 } ] }"#)?.message.contains("leading zeros"), true)
        // Columns count characters, not bytes.
        XCTAssertEqual(syntaxIssue("{ \"é\": tru }")?.column, 8)
    }

    // MARK: - Warnings

    func testWarningsForInlinePasswordAndDisabledVerification() throws {
        let inventory = try parseInventory(#"""
        { "defaults": { "tls": { "verify": false } },
          "credentials": { "kiosk": { "username": "kiosk", "password": "super-secret" } },
          "routes": { "p": { "proxy": "https://127.0.0.1:3129", "proxy_tls": { "verify": false } } },
          "hosts": [ { "name": "a", "transport": "https", "tls": { "verify": false } } ] }
        """#)
        XCTAssertEqual(inventory.warnings.map(\.path), ["defaults.tls.verify", "credentials.kiosk.password", "routes.p.proxy_tls.verify", "hosts[0].tls.verify"])
        XCTAssertTrue(inventory.warnings[1].fix.contains("password_env"))
        XCTAssertTrue(inventory.warnings[0].message.contains("verification is off"))
        XCTAssertFalse(inventory.warnings.map(\.description).joined().contains("super-secret"))
        XCTAssertFalse(inventory.hosts[0].tls.verify)
    }

    func testOtherWarnings() throws {
        let inventory = try parseInventory(#"""
        { "credentials": { "c": { "username": "u", "password_env": "P" } },
          "routes": { "p": { "proxy": "http://127.0.0.1:3128", "proxy_tls": { "ca_file": "/ca" }, "proxy_credential": "c" } },
          "hosts": [ { "name": "a", "tls": { "ca_file": "/ca" } }, { "name": "b", "address": "10.0.0.5", "auth": "kerberos" } ] }
        """#)
        XCTAssertEqual(inventory.warnings.map(\.path), ["routes.p.proxy_tls", "routes.p.proxy_credential", "hosts[0].tls", "hosts[1].address"])
        XCTAssertTrue(inventory.warnings[2].message.contains("no effect on transport http"))
        XCTAssertTrue(inventory.warnings[3].fix.contains("spn"))
    }

    func testInventoryHelpers() throws {
        let inventory = try parseInventory(#"""
        { "routes": { "dmz": {} },
          "hosts": [ { "name": "Web01", "groups": ["web", "iis"] }, { "name": "db01", "groups": ["sql"], "route": "dmz" } ] }
        """#)
        XCTAssertEqual(inventory.host(named: "web01")?.name, "Web01")
        XCTAssertEqual(inventory.groupNames, ["iis", "sql", "web"])
        XCTAssertEqual(inventory.hosts(inGroup: "web").map(\.name), ["Web01"])
        XCTAssertEqual(inventory.hosts(onRoute: "dmz").map(\.name), ["db01"])
    }
}
