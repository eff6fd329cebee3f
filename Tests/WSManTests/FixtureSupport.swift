import Foundation
import XCTest
@testable import WSMan

/// Recorded Windows request/response pairs, read from `../shared/fixtures/windows-responses`
/// relative to the repository root (three levels above this file, symlinks resolved),
/// or from `$WINFLEET_FIXTURES`. A missing folder fails the test; it is never skipped.
enum Fixtures {
    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "fixture folder \(path) does not exist; set WINFLEET_FIXTURES to the windows-responses folder"
        }
    }

    struct Exchange {
        let folder: String
        let number: Int
        let request: Data
        let response: Data
        var name: String { "\(folder)/\(String(format: "%02d", number))" }
    }

    /// Every conversation folder.
    static let allFolders = [
        "client_execute_cmd", "client_execute_cmd_environment", "psrp_is_alive_invalid_selectors",
        "winrs_bad_cmd_id", "winrs_environment", "winrs_extra_opts", "winrs_no_cmd_shell", "winrs_noprofile",
        "winrs_open_already_opened", "winrs_operation_timeout", "winrs_send", "winrs_standard",
        "wsman_update_envelope_size_150", "wsman_update_envelope_size_4096", "wsman_update_envelope_size_500",
    ]

    /// Folders that are pure cmd-shell WinRS conversations.
    static let winrsFolders = allFolders.filter { !$0.hasPrefix("psrp_") && !$0.hasPrefix("wsman_") }

    static var root: URL {
        if let override = ProcessInfo.processInfo.environment["WINFLEET_FIXTURES"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        let thisFile = resolved(#filePath)
        let repository = URL(fileURLWithPath: thisFile)
            .deletingLastPathComponent() // WSManTests
            .deletingLastPathComponent() // Tests
            .deletingLastPathComponent() // repository root
        return repository.deletingLastPathComponent()
            .appendingPathComponent("shared/fixtures/windows-responses")
    }

    /// The dev package links Tests/WSManTests into the repository; follow the link.
    private static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    static func folder(_ name: String) throws -> URL {
        let url = root.appendingPathComponent(name)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Missing(path: url.path)
        }
        return url
    }

    static func exchanges(_ name: String) throws -> [Exchange] {
        let url = try folder(name)
        var result: [Exchange] = []
        var number = 1
        while true {
            let stem = String(format: "%02d", number)
            let requestURL = url.appendingPathComponent("\(stem)-request.xml")
            guard FileManager.default.fileExists(atPath: requestURL.path) else { break }
            let request = try Data(contentsOf: requestURL)
            let response = try Data(contentsOf: url.appendingPathComponent("\(stem)-response.xml"))
            result.append(Exchange(folder: name, number: number, request: request, response: response))
            number += 1
        }
        if result.isEmpty { throw Missing(path: url.path + "/01-request.xml") }
        return result
    }

    static func exchange(_ name: String, _ number: Int) throws -> Exchange {
        let all = try exchanges(name)
        guard number >= 1, number <= all.count else { throw Missing(path: "\(name)/\(number)") }
        return all[number - 1]
    }
}

/// A canonical text form of an element tree for structural comparison: namespace + local name,
/// qualified attributes sorted, text, children in order. Values of the named elements are masked.
func canonicalTree(_ node: XMLNode, masking masked: Set<String> = [], depth: Int = 0) -> String {
    let indent = String(repeating: "  ", count: depth)
    var line = indent + "{\(node.namespace ?? "")}\(node.localName)"
    let attributes = node.qualifiedAttributes.sorted { $0.key < $1.key }
    if !attributes.isEmpty {
        line += " [" + attributes.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + "]"
    }
    let text = node.text.trimmingCharacters(in: .whitespacesAndNewlines)
    if masked.contains(node.localName) {
        line += " = <masked>"
    } else if !text.isEmpty {
        line += " = \(text.debugDescription)"
    }
    var lines = [line]
    for child in node.children {
        lines.append(canonicalTree(child, masking: masked, depth: depth + 1))
    }
    return lines.joined(separator: "\n")
}

/// Masks `a:MessageID`, drops the optional `p:ActivityId` tracing header newer hosts add, and
/// the file's final line break, so that two responses can be compared byte for byte.
func maskingMessageIDs(_ xml: String) -> String {
    xml.replacingOccurrences(of: "<a:MessageID>uuid:[0-9A-Fa-f-]+</a:MessageID>", with: "<a:MessageID>*</a:MessageID>",
                             options: .regularExpression)
        .replacingOccurrences(of: "<p:ActivityId>[0-9A-Fa-f-]+</p:ActivityId>", with: "", options: .regularExpression)
        .trimmingCharacters(in: .newlines)
}

func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }
