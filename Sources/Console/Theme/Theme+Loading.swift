import Foundation

/// What `--theme` / `:theme` asked for.
public enum ThemeChoice: Equatable, Sendable {
    /// Nothing asked: `default`, or `mono` when NO_COLOR is set.
    case automatic
    case named(String)
    case file(String)

    /// `--theme NAME|FILE`: a value with a slash or ending in `.json` is a file.
    public init(argument: String?) {
        guard let argument, !argument.isEmpty else {
            self = .automatic
            return
        }
        if argument.contains("/") || argument.hasSuffix(".json") {
            self = .file(argument)
        } else {
            self = .named(argument)
        }
    }
}

public struct ThemeError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public struct ThemeLoadResult: Sendable {
    public var theme: Theme
    /// A message for the status line when something was not as asked (broken file, missing roles …).
    public var message: String?
}

public enum ThemeParser {
    /// Parses a theme file. Roles the file leaves out are taken from `base` and listed in `missingRoles`.
    public static func parse(_ data: Data, source: String, base: Theme? = nil) throws -> (Theme, missingRoles: [Role]) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ThemeError("theme \(source) is not valid JSON (\(describe(error)))")
        }
        guard let root = object as? [String: Any] else {
            throw ThemeError("theme \(source) must be a JSON object with \"name\" and \"roles\"")
        }
        guard let roles = root["roles"] as? [String: Any] else {
            throw ThemeError("theme \(source) has no \"roles\" object (role names: \(roleNames))")
        }
        let name = root["name"] as? String ?? URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
        var styles: [Role: RoleStyle] = [:]
        for (key, value) in roles {
            guard let role = Role(rawValue: key) else {
                throw ThemeError("theme \(source): unknown role \"\(key)\" (role names: \(roleNames))")
            }
            guard let fields = value as? [String: Any] else {
                throw ThemeError("theme \(source): role \"\(key)\" must be an object like {\"fg\": \"green\", \"bg\": \"default\"}")
            }
            for field in fields.keys where !["fg", "bg", "attrs"].contains(field) {
                throw ThemeError("theme \(source): role \"\(key)\" has unknown field \"\(field)\" (fields: fg, bg, attrs)")
            }
            let foreground = try color(fields["fg"], role: key, field: "fg", source: source)
            let background = try color(fields["bg"], role: key, field: "bg", source: source)
            var attributes: TextAttributes = []
            if let list = fields["attrs"] {
                guard let names = list as? [String] else {
                    throw ThemeError("theme \(source): \(key).attrs must be a list such as [\"bold\", \"underline\"]")
                }
                for attributeName in names {
                    guard let attribute = TextAttributes.names.first(where: { $0.0 == attributeName })?.1 else {
                        throw ThemeError("theme \(source): \(key).attrs has \"\(attributeName)\"; use "
                            + TextAttributes.names.map(\.0).joined(separator: ", "))
                    }
                    attributes.insert(attribute)
                }
            }
            styles[role] = RoleStyle(foreground, background, attributes)
        }
        var missing: [Role] = []
        for role in Role.allCases where styles[role] == nil {
            missing.append(role)
            styles[role] = base?.style(role) ?? RoleStyle()
        }
        let description = root["description"] as? String ?? ""
        return (Theme(name: name, description: description, styles: styles), missing)
    }

    static var roleNames: String { Role.allCases.map(\.rawValue).joined(separator: ", ") }

    static func describe(_ error: Error) -> String {
        let text = "\(error)"
        if let range = text.range(of: "NSDebugDescription=") {
            return String(text[range.upperBound...].prefix(while: { $0 != "}" && $0 != "," }))
        }
        return text.count > 120 ? String(text.prefix(120)) + "…" : text
    }

    /// "default", "red" … "white", "bright_red" … , 0–255 (number or string), "#rrggbb".
    public static func color(_ value: Any?, role: String, field: String, source: String) throws -> ThemeColor {
        guard let value else { return .terminalDefault }
        let hint = "use default, a name (\(ThemeColor.names.joined(separator: ", ")), bright_NAME), 0-255 or #rrggbb"
        if let number = value as? Int, !(value is Bool) {
            guard (0...255).contains(number) else {
                throw ThemeError("theme \(source): \(role).\(field) = \(number) is out of range; \(hint)")
            }
            return number < 16 ? .ansi(number) : .indexed(number)
        }
        guard let text = (value as? String)?.lowercased() else {
            throw ThemeError("theme \(source): \(role).\(field) must be a string or a number; \(hint)")
        }
        if text == "default" { return .terminalDefault }
        if let index = ThemeColor.names.firstIndex(of: text) { return .ansi(index) }
        for prefix in ["bright_", "bright-", "bright"] where text.hasPrefix(prefix) {
            if let index = ThemeColor.names.firstIndex(of: String(text.dropFirst(prefix.count))) { return .ansi(index + 8) }
        }
        if text == "gray" || text == "grey" { return .ansi(8) }
        if let number = Int(text), (0...255).contains(number) { return number < 16 ? .ansi(number) : .indexed(number) }
        if text.hasPrefix("#"), text.count == 7, let rgb = UInt32(text.dropFirst(), radix: 16) {
            return .rgb(UInt8(rgb >> 16), UInt8((rgb >> 8) & 0xFF), UInt8(rgb & 0xFF))
        }
        throw ThemeError("theme \(source): \(role).\(field) = \"\(text)\" is not a colour; \(hint)")
    }
}

/// Finds and loads themes: files in the search directories override the built-in ones of the same name.
public struct ThemeCatalog: Sendable {
    public var searchDirectories: [String]

    public init(searchDirectories: [String]) {
        self.searchDirectories = searchDirectories
    }

    /// `$WINFLEET_THEMES_DIR`, `$XDG_CONFIG_HOME/winfleet/themes` (or `~/.config/…`), `<exe>/../share/winfleet/themes`,
    /// and `./themes`.
    public static func standard(environment: [String: String], executablePath: String? = CommandLine.arguments.first)
        -> ThemeCatalog {
        var directories: [String] = []
        if let dir = environment["WINFLEET_THEMES_DIR"], !dir.isEmpty { directories.append(dir) }
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            directories.append(xdg + "/winfleet/themes")
        } else if let home = environment["HOME"], !home.isEmpty {
            directories.append(home + "/.config/winfleet/themes")
        }
        if let executablePath {
            let bin = URL(fileURLWithPath: executablePath).deletingLastPathComponent()
            directories.append(bin.appendingPathComponent("../share/winfleet/themes").standardized.path)
        }
        directories.append("themes")
        return ThemeCatalog(searchDirectories: directories)
    }

    public static var defaultTheme: Theme { builtin("default")! }

    public static func builtin(_ name: String) -> Theme? {
        guard let json = BuiltinThemes.json[name] else { return nil }
        // Built-in themes are checked by the tests; a failure here is a programming error.
        return try! ThemeParser.parse(Data(json.utf8), source: "built-in \(name)").0
    }

    public static var builtinNames: [String] { BuiltinThemes.order }

    /// NO_COLOR (https://no-color.org): set and not empty.
    public static func noColorRequested(_ environment: [String: String]) -> Bool {
        if let value = environment["NO_COLOR"] { return !value.isEmpty }
        return false
    }

    /// Built-in names first, then names of theme files found in the search directories.
    public func availableNames() -> [String] {
        var names = Self.builtinNames
        for directory in searchDirectories {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for file in files.sorted() where file.hasSuffix(".json") {
                let name = String(file.dropLast(5))
                if !names.contains(name) { names.append(name) }
            }
        }
        return names
    }

    /// Loads a theme; anything wrong gives the default theme and a message saying what and how to fix it.
    /// NO_COLOR selects `mono` unless a theme was asked for explicitly (as the NO_COLOR convention says).
    public func load(_ choice: ThemeChoice, environment: [String: String]) -> ThemeLoadResult {
        switch choice {
        case .automatic:
            let name = Self.noColorRequested(environment) ? "mono" : "default"
            return ThemeLoadResult(theme: Self.builtin(name)!, message: nil)
        case .file(let path):
            return loadFile(path)
        case .named(let name):
            for directory in searchDirectories {
                let path = directory + "/" + name + ".json"
                if FileManager.default.fileExists(atPath: path) { return loadFile(path) }
            }
            if let theme = Self.builtin(name) { return ThemeLoadResult(theme: theme, message: nil) }
            return ThemeLoadResult(
                theme: Self.defaultTheme,
                message: "no theme named \"\(name)\" (available: \(availableNames().joined(separator: ", "))); "
                    + "using default")
        }
    }

    public func loadFile(_ path: String) -> ThemeLoadResult {
        guard let data = FileManager.default.contents(atPath: path) else {
            return ThemeLoadResult(theme: Self.defaultTheme,
                                   message: "cannot read theme file \(path) (missing or unreadable); using default")
        }
        do {
            let (theme, missing) = try ThemeParser.parse(data, source: path, base: Self.defaultTheme)
            let message = missing.isEmpty ? nil
                : "theme \(theme.name): \(missing.count) role(s) not set (\(missing.map(\.rawValue).joined(separator: ", "))); "
                    + "they use the default theme's colours"
            return ThemeLoadResult(theme: theme, message: message)
        } catch let error as ThemeError {
            return ThemeLoadResult(theme: Self.defaultTheme, message: error.description + "; using default")
        } catch {
            return ThemeLoadResult(theme: Self.defaultTheme, message: "theme \(path): \(error); using default")
        }
    }
}
