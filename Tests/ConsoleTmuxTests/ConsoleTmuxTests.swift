import Foundation
import TestSupport
import XCTest

/// Drives the real `winfleet` binary in tmux against `winfleet sim`: start, filter, mark,
/// `:run hostname`, results and groups, open a host, an injected affinity error explained in
/// the health view, quit with the terminal restored.
final class ConsoleTmuxTests: XCTestCase {
    var processes: [Process] = []
    var directory: URL!
    let session = "winfleet-console-test-\(getpid())"

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("winfleet-tmux-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: Self.winfleet.path),
                      "build winfleet first (swift build): \(Self.winfleet.path)")
        XCTAssertNotNil(Self.which("tmux"), "tmux is not installed: scripts/setup installs it")
    }

    override func tearDown() {
        _ = Self.shell(["tmux", "kill-session", "-t", session])
        for process in processes where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    func testConsoleDrivenThroughTmux() throws {
        // Two simulated routes: healthy NTLM hosts, and hosts behind a box that drops the
        // connection right after the NTLM handshake (no affinity).
        // A slice of 127.1.70-109.x of its own, so a leftover simulator cannot collide with this run.
        let slice = 70 + 2 * Int.random(in: 0..<20)
        let healthy = try startSim(["--hosts", "8", "--auth", "ntlm", "--first-address", "127.1.\(slice).1"], inventory: "healthy.json")
        let broken = try startSim(["--hosts", "3", "--auth", "ntlm", "--drop-after-auth", "--first-address", "127.1.\(slice + 1).1"],
                                  inventory: "broken.json")
        let inventory = try mergeInventories(healthy: healthy, broken: broken)

        let db = directory.appendingPathComponent("history.sqlite").path
        let command = "cd \(directory.path) && WINFLEET_DEMO_PASSWORD=winfleet-demo TERM=xterm-256color "
            + "\(Self.winfleet.path) console --inventory \(inventory) --db \(db); echo CONSOLE-EXITED-$?; sleep 60"
        // The first tmux command starts the tmux server, which would inherit (and hold open) any
        // output pipe: this one's output goes nowhere.
        XCTAssertEqual(Self.shell(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "45", command],
                                  captureOutput: false).status, 0)

        try waitFor("WIN0001", "the fleet view lists the hosts")
        try waitFor("datacenter", "route header rows")

        // Filter to the healthy hosts, mark them all, run.
        keys("/", "WIN000[1-4]", "Enter")
        try waitFor("4 of 11 hosts", "the filter applies")
        keys("a")
        keys(":", "run hostname", "Enter")
        try waitFor("ok 4", "results arrive in the run view")
        let run = capture()
        XCTAssertTrue(run.contains("WIN0003"), run)

        // Groups: identical output folded into one host set per host name (each differs here).
        keys("g")
        try waitFor("WIN0001", "groups view")
        keys("g")

        // Open a host: its output.
        keys("1", "Enter")
        try waitFor("WIN0001", "output view of the selected host")

        // Health: the affinity error explained, with its remedy.
        keys("Escape", "4")
        try waitFor("affinity", "the health view shows the affinity failure of the legacy route")
        let health = capture()
        XCTAssertTrue(health.contains("legacy"), health)

        // Quit: the console's alternate screen is gone and the shell saw a clean exit.
        keys("q")
        try waitFor("CONSOLE-EXITED-0", "winfleet exits 0 and leaves the terminal to the shell")
        let after = capture()
        XCTAssertFalse(after.contains("? help"), "the console frame is still on the screen: \(after)")
    }

    // MARK: helpers

    static var winfleet: URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent(".build/debug/winfleet")
    }

    private func startSim(_ arguments: [String], inventory: String) throws -> URL {
        let path = directory.appendingPathComponent(inventory)
        let process = Process()
        process.executableURL = Self.winfleet
        process.arguments = ["sim"] + arguments + ["--inventory-out", path.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        processes.append(process)
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        XCTAssertTrue(line.hasPrefix("ready"), "simulator did not start: \(line)")
        return path
    }

    private func mergeInventories(healthy: URL, broken: URL) throws -> String {
        func load(_ url: URL) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        }
        var merged = try load(healthy)
        var hosts = (merged["hosts"] as! [[String: Any]]).map { host -> [String: Any] in
            var host = host
            host["route"] = "datacenter"
            return host
        }
        for var host in try load(broken)["hosts"] as! [[String: Any]] {
            host["name"] = "LEGACY" + String((host["name"] as! String).suffix(2))
            host["route"] = "legacy-lb"
            hosts.append(host)
        }
        merged["hosts"] = hosts
        merged["routes"] = ["datacenter": [String: Any](), "legacy-lb": [String: Any]()]
        let path = directory.appendingPathComponent("fleet.json")
        try JSONSerialization.data(withJSONObject: merged).write(to: path)
        return path.path
    }

    private func keys(_ keys: String...) {
        for key in keys {
            let named = ["Enter", "Escape", "Tab", "Space"].contains(key)
            _ = Self.shell(["tmux", "send-keys", "-t", session] + (named ? [key] : ["-l", key]))
            usleep(150_000)
        }
    }

    private func capture() -> String {
        Self.shell(["tmux", "capture-pane", "-p", "-t", session]).output
    }

    private func waitFor(_ text: String, _ what: String, seconds: Double = 20) throws {
        let deadline = Date().addingTimeInterval(seconds)
        var screen = ""
        while Date() < deadline {
            screen = capture()
            if screen.contains(text) { return }
            usleep(200_000)
        }
        XCTFail("\(what): \"\(text)\" never appeared. Screen:\n\(screen)")
        throw ScreenNeverShowed(text: text)
    }

    struct ScreenNeverShowed: Error { var text: String }

    /// Runs a command and returns its status and output (a `SpawnedProcess`, so that a tmux server
    /// it starts does not inherit the test runner's blocked signals or an output pipe).
    @discardableResult
    static func shell(_ arguments: [String], captureOutput: Bool = true) -> (status: Int32, output: String) {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("tmux-out-\(UUID().uuidString)").path
        defer { unlink(outputPath) }
        guard let child = try? SpawnedProcess("/usr/bin/env", arguments, outputPath: captureOutput ? outputPath : "/dev/null") else {
            return (-1, "cannot run \(arguments.joined(separator: " "))")
        }
        let status = child.waitForExit()
        let output = captureOutput ? ((try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "") : ""
        return (status, output)
    }

    static func which(_ tool: String) -> String? {
        let result = shell(["which", tool])
        return result.status == 0 ? result.output.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }
}
