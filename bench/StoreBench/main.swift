// The run-history store's commit speed: what a result costs before it may be shown.
//
//   swift build -c release --static-swift-stdlib --product store-bench && .build/release/store-bench [--results N]
//
// Records N results into a fresh database in /tmp (or $TMPDIR) three ways and prints one JSON
// object, then a summary line per way:
// - one by one, synchronous=NORMAL (each result its own commit: the worst case of a live run);
// - in batches of 50, synchronous=NORMAL (group commit, as the engine's writer does);
// - one by one, synchronous=FULL (an fsync per commit: the disk's speed, for the record).
import FleetStore
import Foundation

struct Timing: Encodable {
    var results: Int
    var commits: Int
    var totalSeconds: Double
    var medianCommitMs: Double
    var p99CommitMs: Double
    var slowestCommitMs: Double
    var resultsPerSecond: Double
}

func measure(results count: Int, batch: Int, synchronous: RunStore.Options.Synchronous) throws -> Timing {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("winfleet-store-bench-\(getpid())-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try RunStore(path: directory.appendingPathComponent("history.sqlite").path,
                             options: .init(synchronous: synchronous))
    defer { store.close() }
    let runID = try store.beginRun(NewRun(command: "hostname", kind: .cmd, target: "*", who: "bench", hostCount: count))
    let output = Data(repeating: 0x61, count: 100)
    let now = Date()
    let records = (0..<count).map { index in
        HostResultRecord(runID: runID, host: String(format: "WIN%04d", index), route: "direct", status: .ok,
                         exitCode: 0, stdout: output, startedAt: now, finishedAt: now, durationMs: 120)
    }
    var commitDurations: [Double] = []
    let start = DispatchTime.now().uptimeNanoseconds
    var index = 0
    while index < records.count {
        let slice = Array(records[index..<min(index + batch, records.count)])
        let before = DispatchTime.now().uptimeNanoseconds
        if slice.count == 1 { try store.record(result: slice[0]) } else { try store.record(results: slice) }
        commitDurations.append(Double(DispatchTime.now().uptimeNanoseconds - before) / 1e6)
        index += slice.count
    }
    let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    guard try store.run(id: runID)?.counts.ok == count else {
        throw NSError(domain: "store-bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "not every result was stored"])
    }
    commitDurations.sort()
    return Timing(results: count, commits: commitDurations.count, totalSeconds: total,
                  medianCommitMs: commitDurations[commitDurations.count / 2],
                  p99CommitMs: commitDurations[min(commitDurations.count - 1, commitDurations.count * 99 / 100)],
                  slowestCommitMs: commitDurations.last ?? 0, resultsPerSecond: Double(count) / total)
}

var results = 1000
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    if argument == "--results", let value = arguments.popFirst().flatMap(Int.init), value > 0 {
        results = value
    } else {
        FileHandle.standardError.write(Data("usage: store-bench [--results N]\n".utf8))
        exit(64)
    }
}

do {
    let oneByOne = try measure(results: results, batch: 1, synchronous: .normal)
    let batched = try measure(results: results, batch: 50, synchronous: .normal)
    let full = try measure(results: max(1, results / 5), batch: 1, synchronous: .full)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let figures = ["one_by_one_normal": oneByOne, "batches_of_50_normal": batched, "one_by_one_full": full]
    print(String(decoding: try encoder.encode(figures), as: UTF8.self))
    for (name, timing) in [("one by one, NORMAL", oneByOne), ("batches of 50, NORMAL", batched), ("one by one, FULL", full)] {
        print(String(format: "store, %@: %d results in %.3f s (%.0f results/s; commit median %.2f ms, p99 %.2f ms, slowest %.2f ms)",
                     name, timing.results, timing.totalSeconds, timing.resultsPerSecond,
                     timing.medianCommitMs, timing.p99CommitMs, timing.slowestCommitMs))
    }
} catch {
    FileHandle.standardError.write(Data("store-bench: \(error)\n".utf8))
    exit(1)
}
