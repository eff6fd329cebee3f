import Foundation
import XCTest
@testable import Inventory

final class CredentialTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("credential-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func writeFile(_ name: String, _ content: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(content.utf8).write(to: url)
        return url.path
    }

    func testEnvironmentSource() throws {
        let credential = Credential(name: "admin", username: "CORP\\admin", source: .environment("ADMIN_PW"))
        XCTAssertEqual(try resolvePassword(credential, environment: ["ADMIN_PW": "p@ss w0rd\n"]), "p@ss w0rd\n",
                       "environment values are used verbatim")
        XCTAssertThrowsError(try resolvePassword(credential, environment: [:])) { error in
            XCTAssertEqual(error as? CredentialError, .environmentVariableNotSet(credential: "admin", variable: "ADMIN_PW"))
            XCTAssertEqual("\(error)", "credential admin: environment variable ADMIN_PW is not set — export ADMIN_PW before starting winfleet, or change password_env")
        }
        XCTAssertThrowsError(try resolvePassword(credential, environment: ["ADMIN_PW": ""])) { error in
            XCTAssertEqual(error as? CredentialError, .environmentVariableEmpty(credential: "admin", variable: "ADMIN_PW"))
        }
    }

    func testFileSourceTrimsExactlyOneTrailingNewline() throws {
        let cases: [(String, String)] = [
            ("secret", "secret"),
            ("secret\n", "secret"),
            ("secret\r\n", "secret"),
            ("secret\n\n", "secret\n"),
            ("  spaced  \n", "  spaced  "),
        ]
        for (index, (content, expected)) in cases.enumerated() {
            let path = try writeFile("pw\(index)", content)
            let credential = Credential(name: "file", username: "u", source: .file(path))
            XCTAssertEqual(try credential.resolvePassword(environment: [:]), expected, "content \(content.debugDescription)")
        }
    }

    func testFileSourceErrorsNameTheCredentialAndTheFix() throws {
        let missing = Credential(name: "lab", username: "u", source: .file(directory.appendingPathComponent("absent").path))
        XCTAssertThrowsError(try missing.resolvePassword(environment: [:])) { error in
            guard case .fileUnreadable(let name, _, let reason)? = error as? CredentialError else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "lab")
            XCTAssertEqual(reason, "no such file")
            XCTAssertTrue("\(error)".contains("credential lab: password_file"))
            XCTAssertTrue("\(error)".contains("create the file or fix the path"))
        }
        let folder = Credential(name: "dir", username: "u", source: .file(directory.path))
        XCTAssertThrowsError(try folder.resolvePassword(environment: [:])) { error in
            guard case .fileUnreadable(_, _, let reason)? = error as? CredentialError else { return XCTFail("\(error)") }
            XCTAssertEqual(reason, "it is a directory")
        }
        let empty = Credential(name: "empty", username: "u", source: .file(try writeFile("empty", "\n")))
        XCTAssertThrowsError(try empty.resolvePassword(environment: [:])) { error in
            XCTAssertEqual(error as? CredentialError, .fileEmpty(credential: "empty", path: directory.appendingPathComponent("empty").path))
        }
    }

    func testInlineSource() throws {
        let inventory = try parseInventory(#"{ "credentials": { "k": { "username": "kiosk", "password": "hunter2" } }, "hosts": [] }"#)
        let credential = try XCTUnwrap(inventory.credentials["k"])
        XCTAssertEqual(try resolvePassword(credential, environment: [:]), "hunter2")
        let broken = Credential(name: "k", username: "kiosk", source: .inline)
        XCTAssertThrowsError(try broken.resolvePassword(environment: [:]))
    }

    func testPasswordsNeverPrint() throws {
        let inventory = try parseInventory(#"{ "credentials": { "k": { "username": "kiosk", "password": "hunter2" } }, "hosts": [] }"#)
        let credential = try XCTUnwrap(inventory.credentials["k"])
        var dumped = ""
        dump(credential, to: &dumped)
        var dumpedInventory = ""
        dump(inventory, to: &dumpedInventory)
        let renderings = [
            credential.description,
            credential.debugDescription,
            "\(credential)",
            String(reflecting: credential),
            String(describing: credential.inlinePassword),
            "\(inventory)",
            String(reflecting: inventory),
            dumped,
            dumpedInventory,
        ]
        for text in renderings {
            XCTAssertFalse(text.contains("hunter2"), "password printed in: \(text)")
        }
        XCTAssertTrue(credential.description.contains("kiosk"))
        XCTAssertTrue(credential.description.contains("<redacted>"))
    }

    func testAccountNameForms() {
        XCTAssertEqual(AccountName("CORP\\alice"), AccountName(user: "alice", domain: "CORP", form: .downLevel))
        XCTAssertEqual(AccountName("alice@corp.example.com")?.domain, "corp.example.com")
        XCTAssertEqual(AccountName("alice")?.form, .plain)
        XCTAssertEqual(AccountName("John Smith")?.user, "John Smith")
        for invalid in ["", "\\alice", "CORP\\", "@corp", "alice@", "A\\B\\C", "a@b@c", "CORP\\a@b", "tab\tuser"] {
            XCTAssertNil(AccountName(invalid), invalid)
        }
    }
}

extension AccountName {
    init(user: String, domain: String?, form: Form) {
        self.init(form == .downLevel ? "\(domain!)\\\(user)" : (form == .userPrincipalName ? "\(user)@\(domain!)" : user))!
    }
}
