import Foundation

/// Timings of the console's hot paths against the recording screen (no terminal needed):
/// the first frame of a large fleet, a filter keystroke, and redraws while 1,000 results stream in.
/// Each measurement is state handling + render + drawing into the recording screen, in milliseconds.
public enum ConsoleBenchmark {
    public static func run(hosts: Int) -> [String: Double] {
        run(hosts: hosts, streamingResults: 1000)
    }

    /// `streamingResults` results stream in per view (1,000 in the standard benchmark).
    public static func run(hosts: Int, streamingResults: Int) -> [String: Double] {
        var results: [String: Double] = [:]
        let size = ScreenSize(rows: 50, cols: 200)
        let screen = RecordingScreen(size: size)

        let generationStart = DispatchTime.now()
        let engine = FakeEngine(hostCount: hosts)
        results["fakeFleetGenerationMs"] = milliseconds(since: generationStart)

        // First frame: from the engine's snapshot to a drawn fleet view.
        let firstStart = DispatchTime.now()
        var state = ConsoleState()
        state.resize(to: size)
        var snapshot = engine.snapshot()
        screen.draw(render(state: state, snapshot: snapshot, size: size))
        results["firstFrameMs"] = milliseconds(since: firstStart)

        // Filter keystrokes: typing, deleting and regular expressions, each redrawn.
        var keystrokes: [Double] = []
        func press(_ script: String) {
            for key in Key.script(script) {
                let start = DispatchTime.now()
                _ = state.handle(key, snapshot: snapshot)
                screen.draw(render(state: state, snapshot: snapshot, size: size))
                keystrokes.append(milliseconds(since: start))
            }
        }
        press("/win00<bs><bs><bs><bs><bs>dmz<bs><bs><bs>broken|auth<enter>/<bs><bs><bs><bs><bs><bs><bs><bs><bs><bs><bs>!idle<enter><esc>")
        addPercentiles(&results, "filterKeystroke", keystrokes)

        // Streaming: 1,000 results arriving one by one, redrawn each time, on the run view and the fleet view.
        for view in [ConsoleView.run, .fleet] {
            let targets = snapshot.hosts.prefix(streamingResults).map(\.name)
            engine.startRun(command: "ipconfig /all", powershell: false, hosts: targets)
            state.view = view
            var redraws: [Double] = []
            for _ in 0..<targets.count {
                engine.advance(results: 1)
                let start = DispatchTime.now()
                snapshot = engine.snapshot()
                state.now = snapshot.run?.startedAt.addingTimeInterval(Double(redraws.count) * 0.01) ?? Date()
                screen.draw(render(state: state, snapshot: snapshot, size: size))
                redraws.append(milliseconds(since: start))
            }
            addPercentiles(&results, view == .run ? "streamRunView" : "streamFleetView", redraws)
        }
        return results
    }

    static func milliseconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1_000_000
    }

    static func addPercentiles(_ results: inout [String: Double], _ name: String, _ samples: [Double]) {
        guard !samples.isEmpty else { return }
        let sorted = samples.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))] }
        results[name + "P50Ms"] = percentile(0.5)
        results[name + "P99Ms"] = percentile(0.99)
        results[name + "MaxMs"] = sorted.last!
        results[name + "Samples"] = Double(samples.count)
    }
}
