import Foundation

extension ConsoleState {
    /// The `:` commands, for help and error messages.
    public static let commandNames = ["run CMD", "ps SCRIPT", "target EXPR", "throttle N", "fleet", "run", "groups",
                                      "health", "history", "theme NAME", "help", "quit"]

    /// Runs one command line (without the leading `:`).
    public mutating func execute(command line: String, snapshot: FleetSnapshot) -> [ConsoleEffect] {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        let name: String
        let argument: String
        if let space = trimmed.firstIndex(of: " ") {
            name = String(trimmed[..<space]).lowercased()
            argument = trimmed[space...].trimmingCharacters(in: .whitespaces)
        } else {
            name = trimmed.lowercased()
            argument = ""
        }
        switch name {
        case "run", "ps":
            if argument.isEmpty {
                if name == "run" {
                    view = .run
                } else {
                    status = StatusMessage(":ps needs a script, e.g. :ps Get-Service WinRM", isError: true)
                }
                return []
            }
            return startRun(command: argument, powershell: name == "ps", snapshot: snapshot)
        case "target":
            if argument.isEmpty {
                status = StatusMessage(runTarget.map { "target \($0.expression) → \($0.hosts.count) host(s)" }
                    ?? "no target set; :target EXPR (e.g. :target web[01-20],@iis)")
                return []
            }
            return [.resolveTarget(argument)]
        case "throttle":
            guard let n = Int(argument), n >= 1, n <= 10_000 else {
                status = StatusMessage(":throttle needs a number of parallel hosts from 1 to 10000, e.g. :throttle 32",
                                       isError: true)
                return []
            }
            status = StatusMessage("throttle \(n)")
            return [.setThrottle(n)]
        case "fleet", "groups", "health", "history":
            if name == "groups" { groupsFromHistory = false }
            view = ConsoleView(rawValue: name)!
            return []
        case "theme":
            if argument.isEmpty {
                status = StatusMessage("themes: \(availableThemes.joined(separator: ", ")) (now \(themeName))")
                return []
            }
            return [.loadTheme(argument)]
        case "help":
            helpVisible = true
            helpScroll = 0
            return []
        case "quit", "q":
            if snapshot.run?.isActive == true {
                mode = .confirmQuit
                return []
            }
            return [.quit]
        default:
            status = StatusMessage("unknown command :\(name) — commands: "
                + Self.commandNames.map { ":" + $0 }.joined(separator: ", "), isError: true)
            return []
        }
    }
}
