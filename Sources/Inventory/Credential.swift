import Foundation

/// A secret string that never prints: `description`, `debugDescription`, `dump` and string
/// interpolation all show `<redacted>`.
public struct Secret: Sendable, Equatable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself. Read it only to hand it to an authentication routine.
    public let revealed: String

    public init(_ value: String) { revealed = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// An account name as written in the inventory: `DOMAIN\user`, `user@domain` or `user`.
public struct AccountName: Sendable, Equatable, Hashable {
    public enum Form: Sendable, Equatable, Hashable {
        /// `DOMAIN\user` (down-level logon name).
        case downLevel
        /// `user@domain` (user principal name).
        case userPrincipalName
        /// `user` with no domain.
        case plain
    }

    public var user: String
    public var domain: String?
    public var form: Form

    /// Splits a username; nil if a part is empty or both `\` and `@` forms are mixed.
    public init?(_ text: String) {
        let backslashParts = text.split(separator: "\\", omittingEmptySubsequences: false)
        let atParts = text.split(separator: "@", omittingEmptySubsequences: false)
        if text.isEmpty || text.contains(where: { $0.isWhitespace && $0 != " " }) { return nil }
        if backslashParts.count == 2 && atParts.count == 1 {
            guard !backslashParts[0].isEmpty, !backslashParts[1].isEmpty else { return nil }
            domain = String(backslashParts[0])
            user = String(backslashParts[1])
            form = .downLevel
        } else if atParts.count == 2 && backslashParts.count == 1 {
            guard !atParts[0].isEmpty, !atParts[1].isEmpty else { return nil }
            user = String(atParts[0])
            domain = String(atParts[1])
            form = .userPrincipalName
        } else if atParts.count == 1 && backslashParts.count == 1 {
            user = text
            domain = nil
            form = .plain
        } else {
            return nil
        }
    }
}

/// A named set of credentials. The password itself is read only when needed (`resolvePassword`),
/// except for an inline `password`, which is held in a `Secret` that never prints.
public struct Credential: Sendable, Equatable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Where the password comes from.
    public enum Source: Sendable, Equatable, Hashable, CustomStringConvertible {
        /// `password_env`: the named environment variable.
        case environment(String)
        /// `password_file`: a file whose content is the password (one trailing newline is trimmed).
        case file(String)
        /// `password`: written in the inventory (reported as a warning).
        case inline

        public var description: String {
            switch self {
            case .environment(let variable): return "password_env \(variable)"
            case .file(let path): return "password_file \(path)"
            case .inline: return "inline password <redacted>"
            }
        }
    }

    public var name: String
    /// As written: `DOMAIN\user`, `user@domain` or `user`.
    public var username: String
    public var source: Source
    /// The inline password, when `source == .inline`.
    public var inlinePassword: Secret?

    public init(name: String, username: String, source: Source, inlinePassword: Secret? = nil) {
        self.name = name
        self.username = username
        self.source = source
        self.inlinePassword = inlinePassword
    }

    /// The username split into user and domain (nil only for names the loader would have rejected).
    public var account: AccountName? { AccountName(username) }

    public var description: String { "credential \(name) (\(username), \(source))" }
    public var debugDescription: String { "Credential(name: \(name), username: \(username), source: \(source))" }
    public var customMirror: Mirror {
        Mirror(self, children: ["name": name, "username": username, "source": source], displayStyle: .struct)
    }

    /// Reads the password from its source. Errors name the credential and the fix, never the secret.
    public func resolvePassword(environment: [String: String]) throws -> String {
        switch source {
        case .inline:
            guard let inlinePassword else { throw CredentialError.inlinePasswordMissing(credential: name) }
            return inlinePassword.revealed
        case .environment(let variable):
            guard let value = environment[variable] else {
                throw CredentialError.environmentVariableNotSet(credential: name, variable: variable)
            }
            guard !value.isEmpty else {
                throw CredentialError.environmentVariableEmpty(credential: name, variable: variable)
            }
            return value
        case .file(let path):
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw CredentialError.fileUnreadable(credential: name, path: path, reason: Credential.reason(for: error, path: path))
            }
            guard var text = String(data: data, encoding: .utf8) else {
                throw CredentialError.fileNotText(credential: name, path: path)
            }
            // Editors and `echo` add one newline; trim exactly one so a password may still end in spaces.
            if text.hasSuffix("\r\n") {
                text.removeLast(1)  // "\r\n" is one Character in Swift
            } else if text.hasSuffix("\n") {
                text.removeLast()
            }
            guard !text.isEmpty else { throw CredentialError.fileEmpty(credential: name, path: path) }
            return text
        }
    }

    private static func reason(for error: Error, path: String) -> String {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return "no such file" }
        if isDirectory.boolValue { return "it is a directory" }
        if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
        return "cannot be read"
    }
}

/// Reads the password of `credential` from its source (environment variable, file or inline).
public func resolvePassword(_ credential: Credential, environment: [String: String]) throws -> String {
    try credential.resolvePassword(environment: environment)
}

/// Why a password could not be read. Never contains the password.
public enum CredentialError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    case environmentVariableNotSet(credential: String, variable: String)
    case environmentVariableEmpty(credential: String, variable: String)
    case fileUnreadable(credential: String, path: String, reason: String)
    case fileNotText(credential: String, path: String)
    case fileEmpty(credential: String, path: String)
    case inlinePasswordMissing(credential: String)
    case unknownCredential(String)

    public var description: String {
        switch self {
        case .environmentVariableNotSet(let credential, let variable):
            return "credential \(credential): environment variable \(variable) is not set — export \(variable) before starting winfleet, or change password_env"
        case .environmentVariableEmpty(let credential, let variable):
            return "credential \(credential): environment variable \(variable) is empty — set it to the password"
        case .fileUnreadable(let credential, let path, let reason):
            return "credential \(credential): password_file \(path) cannot be read (\(reason)) — create the file or fix the path and its permissions"
        case .fileNotText(let credential, let path):
            return "credential \(credential): password_file \(path) is not UTF-8 text — write the password as plain text"
        case .fileEmpty(let credential, let path):
            return "credential \(credential): password_file \(path) is empty — write the password into it"
        case .inlinePasswordMissing(let credential):
            return "credential \(credential): has no inline password — set password, password_env or password_file"
        case .unknownCredential(let credential):
            return "credential \(credential) is not defined — add it under \"credentials\""
        }
    }

    public var errorDescription: String? { description }
}
