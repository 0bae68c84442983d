// glassbox-bench: the event log's throughput, each figure next to its peer measured in the same run.
//
//   scripts/bench                 # everything, about 3 minutes
//   scripts/bench --quick         # smaller sizes, for a smoke run
//
// Prints a Markdown table for the README's Performance section.
import EventLog
import Foundation
import GRDBSQLite
import GlassboxProto
import GlassboxTesting
import Projections

struct Options {
    var quick = false
    var directory = FileManager.default.temporaryDirectory.appendingPathComponent("glassbox-bench-\(getpid())").path
    var replayEvents = 1_000_000
    var only: String?
    /// Added to the names of the figures, e.g. when the disk is emulated.
    var diskNote = ""

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--quick": quick = true; replayEvents = 100_000
            case "--dir": directory = iterator.next() ?? directory
            case "--replay-events": replayEvents = Int(iterator.next() ?? "") ?? replayEvents
            case "--only": only = iterator.next()
            case "--disk-note": diskNote = iterator.next() ?? ""
            default:
                print("usage: glassbox-bench [--quick] [--dir DIR] [--replay-events N] [--only batched|concurrent|latency|replay] [--disk-note TEXT]\n       profiling aids on a kept run (GLASSBOX_BENCH_KEEP=1 … --dir D): --only read|rebuild --dir D")
                exit(64)
            }
        }
    }
}

struct Row {
    let name: String
    let value: String
    let peer: String
    let ratio: String
    let goal: String
}

nonisolated(unsafe) var results: [Row] = []  // written by the sequential benchmark steps only

func report(_ name: String, _ value: String, peer: String = "", ratio: String = "", goal: String = "") {
    results.append(Row(name: name, value: value, peer: peer, ratio: ratio, goal: goal))
    print("• \(name): \(value)\(peer.isEmpty ? "" : "  | peer: \(peer)")\(ratio.isEmpty ? "" : "  | ratio \(ratio)")")
}

func rate(_ count: Int, _ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(count) / (Double(seconds) + Double(attoseconds) / 1e18)
}

func formatted(_ value: Double) -> String {
    let number = Int(value.rounded())
    var digits = String(number)
    var result = ""
    while digits.count > 3 {
        result = "," + digits.suffix(3) + result
        digits.removeLast(3)
    }
    return digits + result
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

// MARK: - The disk's own limit

/// Synced 4 KiB appends per second in `directory`: what one durable commit at a time can reach.
func syncsPerSecond(in directory: String, for seconds: Double = 1.5) -> Double {
    let path = directory + "/fsync-probe"
    let descriptor = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
    defer { close(descriptor); unlink(path) }
    let page = [UInt8](repeating: 0x42, count: 4096)
    let clock = ContinuousClock()
    let start = clock.now
    var count = 0
    var offset: off_t = 0
    while clock.now - start < .milliseconds(Int64(seconds * 1000)) {
        _ = page.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, 4096, offset) }
        offset += 4096
        fdatasync(descriptor)
        count += 1
    }
    return rate(count, clock.now - start)
}

// MARK: - Batched appends next to raw SQLite

func thoughtDrafts(count: Int, batch: Int) throws -> [[EventDraft]] {
    let text = String(repeating: "The orders table is partitioned by month, so I filter on ordered_at first. ", count: 6).prefix(440)
    var batches: [[EventDraft]] = []
    for _ in 0..<(count / batch) {
        var drafts: [EventDraft] = []
        for index in 0..<batch {
            var thought = Glassbox_V1_AgentThought()
            thought.text = String(text)
            thought.callID = "llm-\(index)"
            thought.step = UInt32(index)
            drafts.append(try EventDraft(thought, actor: "agent:analyst@user:alice", trace: TraceContext.newTrace()))
        }
        batches.append(drafts)
    }
    return batches
}

func glassboxBatched(_ batches: [[EventDraft]], path: String, durability: SQLiteEventLog.Durability) async throws -> Double {
    let log = try SQLiteEventLog(path: path, options: .init(durability: durability))
    let clock = ContinuousClock()
    let start = clock.now
    for (index, drafts) in batches.enumerated() {
        _ = try await log.append(drafts, to: "run/bench-\(index)", expectedVersion: .noStream)
    }
    let elapsed = clock.now - start
    try log.close()
    return rate(batches.count * batches[0].count, elapsed)
}

/// The same rows through SQLite's C API: same file schema, same PRAGMAs, one transaction per batch,
/// a prepared statement; no hashing, no checks.
func rawBatched(_ batches: [[EventDraft]], path: String, durability: SQLiteEventLog.Durability) throws -> Double {
    try SQLiteEventLog(path: path).close()  // creates the file with Glassbox's exact schema
    var db: OpaquePointer?
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK else { fatalError("open") }
    defer { sqlite3_close_v2(db) }
    // The PRAGMAs SQLiteEventLog sets (see SQLiteEventLog.init).
    sqlite3_exec(db, """
        PRAGMA journal_mode = WAL; PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL");
        PRAGMA wal_autocheckpoint = 10000; PRAGMA cache_size = -65536; PRAGMA mmap_size = 1073741824
        """, nil, nil, nil)
    var statement: OpaquePointer?
    sqlite3_prepare_v2(db, """
        INSERT INTO events (seq, id, time, stream, stream_version, type, actor, trace_id, span_id, parent_span_id, data, prev_hash, hash)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """, -1, &statement, nil)
    defer { sqlite3_finalize(statement) }
    let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    let hash = [UInt8](repeating: 7, count: 32)
    var seq: Int64 = 0
    let clock = ContinuousClock()
    let start = clock.now
    for (index, drafts) in batches.enumerated() {
        sqlite3_exec(db, "BEGIN IMMEDIATE", nil, nil, nil)
        let stream = "run/bench-\(index)"
        for (version, draft) in drafts.enumerated() {
            seq += 1
            sqlite3_bind_int64(statement, 1, seq)
            sqlite3_bind_text(statement, 2, draft.id.uuidString.lowercased(), -1, transient)
            sqlite3_bind_int64(statement, 3, draft.time)
            sqlite3_bind_text(statement, 4, stream, -1, transient)
            sqlite3_bind_int64(statement, 5, Int64(version + 1))
            sqlite3_bind_text(statement, 6, draft.type, -1, transient)
            sqlite3_bind_text(statement, 7, draft.actor, -1, transient)
            sqlite3_bind_text(statement, 8, draft.trace?.traceID ?? "", -1, transient)
            sqlite3_bind_text(statement, 9, draft.trace?.spanID ?? "", -1, transient)
            sqlite3_bind_null(statement, 10)
            sqlite3_bind_text(statement, 11, draft.data, -1, transient)
            _ = hash.withUnsafeBytes { sqlite3_bind_blob(statement, 12, $0.baseAddress, 32, transient) }
            _ = hash.withUnsafeBytes { sqlite3_bind_blob(statement, 13, $0.baseAddress, 32, transient) }
            guard sqlite3_step(statement) == SQLITE_DONE else { fatalError(String(cString: sqlite3_errmsg(db))) }
            sqlite3_reset(statement)
        }
        sqlite3_exec(db, "COMMIT", nil, nil, nil)
    }
    return rate(Int(seq), clock.now - start)
}

func batchedAppends(_ options: Options) async throws {
    let batches = try thoughtDrafts(count: options.quick ? 20_000 : 100_000, batch: 1_000)
    let bytes = batches[0][0].data.utf8.count
    print("batched append: \(batches.count) calls × 1,000 events, payload \(bytes) bytes of JSON")
    for durability in [SQLiteEventLog.Durability.full, .normal] {
        var ours: [Double] = []
        var raw: [Double] = []
        for round in 0..<3 {
            ours.append(try await glassboxBatched(batches, path: options.directory + "/batched-\(durability)-\(round).db", durability: durability))
            raw.append(try rawBatched(batches, path: options.directory + "/raw-\(durability)-\(round).db", durability: durability))
        }
        let (value, peer) = (median(ours), median(raw))
        report("batched append, 1,000 × \(bytes) B per call, synchronous=\(durability == .full ? "FULL" : "NORMAL")",
               "\(formatted(value)) events/s", peer: "raw SQLite C API: \(formatted(peer)) events/s",
               ratio: String(format: "%.2f×", value / peer), goal: "≥ 0.7×")
    }
}

// MARK: - Concurrent single appends next to the disk's limit

func concurrentAppends(_ options: Options) async throws {
    let tasks = 64
    let seconds = options.quick ? 2.0 : 4.0
    let before = syncsPerSecond(in: options.directory)
    let log = try SQLiteEventLog(path: options.directory + "/concurrent.db", options: .init(durability: .full))
    let clock = ContinuousClock()
    let deadline = clock.now + .milliseconds(Int64(seconds * 1000))
    let start = clock.now
    let count = try await withThrowingTaskGroup(of: Int.self) { group in
        for task in 0..<tasks {
            group.addTask {
                var appended = 0
                var thought = Glassbox_V1_AgentThought()
                thought.text = "task \(task) checks the next partition of the orders table"
                while clock.now < deadline {
                    _ = try await log.append([try EventDraft(thought, actor: "agent:analyst@user:alice")],
                                             to: "run/concurrent-\(task)", expectedVersion: .any)
                    appended += 1
                }
                return appended
            }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = clock.now - start
    let commits = await log.commitCount
    let appends = await log.appendCount
    try log.close()
    let after = syncsPerSecond(in: options.directory)
    let limit = (before + after) / 2 * Double(tasks)
    let value = rate(count, elapsed)
    print("  disk: \(formatted(before)) then \(formatted(after)) synced 4 KiB writes/s; mean group commit \(String(format: "%.1f", Double(appends) / Double(max(1, commits)))) appends")
    report("single-event appends from 64 tasks, synchronous=FULL\(options.diskNote)",
           "\(formatted(value)) events/s (\(String(format: "%.1f", Double(appends) / Double(max(1, commits)))) per commit)",
           peer: "disk limit: \(formatted(limit / Double(tasks))) fdatasync/s × 64 = \(formatted(limit)) events/s",
           ratio: String(format: "%.2f×", value / limit), goal: "≥ 0.8×")
}

// MARK: - Live tail from another connection

func crossInstanceLatency(_ options: Options) async throws {
    let path = options.directory + "/latency.db"
    let writer = try SQLiteEventLog(path: path, options: .init(durability: .normal))
    let reader = try SQLiteEventLog(path: path, options: .init(durability: .normal))
    let samples = options.quick ? 40 : 150
    let received = Task {
        var latencies: [Double] = []
        for try await event in reader.subscribe(after: 0) {
            latencies.append(Double(EventClock.now() - event.time) / 1e6)
            if latencies.count == samples { break }
        }
        return latencies
    }
    for _ in 0..<samples {
        try await Task.sleep(for: .milliseconds(Int.random(in: 5...40)))
        var thought = Glassbox_V1_AgentThought()
        thought.text = "ping"
        _ = try await writer.append([try EventDraft(thought, actor: "agent:bench")], to: "run/latency", expectedVersion: .any)
    }
    let latencies = try await received.value.sorted()
    report("live subscription on a second connection (as from another process), append → delivery",
           String(format: "p50 %.1f ms, p99 %.1f ms, max %.1f ms", latencies[latencies.count / 2],
                  latencies[Int(Double(latencies.count) * 0.99)], latencies.last!),
           goal: "≤ 100 ms")
}

// MARK: - Replay and verify a million events

func replayAndVerify(_ options: Options) async throws {
    let path = options.directory + "/replay.db"
    let log = try SQLiteEventLog(path: path, options: .init(durability: .normal))
    var generator = RunGenerator(seed: 42, thoughtLength: 120)
    let clock = ContinuousClock()
    var start = clock.now
    var total = 0
    while total < options.replayEvents {
        var runs: [RunGenerator.Run] = []
        var chunk = 0
        while chunk < 20_000 && total + chunk < options.replayEvents {
            let run = try generator.run(steps: 1 + runs.count % 4)
            runs.append(run)
            chunk += run.drafts.count
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for run in runs {
                group.addTask { _ = try await log.append(run.drafts, to: run.stream, expectedVersion: .noStream) }
            }
            try await group.waitForAll()
        }
        total += chunk
    }
    print("replay: loaded \(formatted(Double(total))) events of generated runs in \(String(format: "%.1f", Double((clock.now - start).components.seconds))) s")

    // Reading alone, next to SQLite's C API stepping through the same rows.
    start = clock.now
    var readCount = 0
    var readCursor: Int64 = 0
    while true {
        let page = try await log.events(EventQuery(after: readCursor, limit: 10_000))
        guard let last = page.last else { break }
        readCount += page.count
        readCursor = last.seq
    }
    let readRate = rate(readCount, clock.now - start)
    let rawReadRate = rawRead(path: path, expected: total)
    report("replay: read events (decoded)", "\(formatted(readRate)) events/s",
           peer: "raw SQLite C API stepping the same rows: \(formatted(rawReadRate)) rows/s",
           ratio: String(format: "%.2f×", readRate / rawReadRate))

    // Read + fold, in memory.
    start = clock.now
    let model = try await RunsProjection.state(asOf: .max, reader: log)
    let foldRate = rate(total, clock.now - start)
    // Fold only, from events already in memory.
    var pages: [[Event]] = []
    var cursor: Int64 = 0
    while true {
        let page = try await log.events(EventQuery(after: cursor, limit: 10_000))
        guard let last = page.last else { break }
        pages.append(page)
        cursor = last.seq
    }
    start = clock.now
    var inMemory = ReadModel<RunSummary>()
    for page in pages { RunsProjection.fold(page, into: &inMemory) }
    let pureRate = rate(total, clock.now - start)
    pages = []
    precondition(inMemory == model)
    // Rebuild: read + fold + store rows and checkpoint.
    let runner = ProjectionRunner<RunsProjection>(reader: log, store: log.readModels)
    start = clock.now
    try await runner.rebuild()
    let rebuildRate = rate(total, clock.now - start)
    report("replay \(formatted(Double(total))) events into the runs projection: rebuild (read + fold + store)",
           "\(formatted(rebuildRate)) events/s (\(formatted(Double(model.rows.count))) runs)", goal: "≥ 500,000/s")
    report("replay: read + fold (state as of any seq)", "\(formatted(foldRate)) events/s")
    report("replay: fold only, events in memory", "\(formatted(pureRate)) events/s")

    start = clock.now
    let chainOnly = try await log.verify(checkStorage: false)
    let verifyRate = rate(Int(chainOnly.eventsChecked), clock.now - start)
    precondition(chainOnly.isIntact && chainOnly.eventsChecked == Int64(total))
    start = clock.now
    let full = try await log.verify(checkStorage: true)
    let fullRate = rate(Int(full.eventsChecked), clock.now - start)
    report("verify: recompute the hash chain", "\(formatted(verifyRate)) events/s")
    report("verify: chain + SQLite quick_check", "\(formatted(fullRate)) events/s")
    try log.close()
}

/// Steps through every row, touching each column as a decoder must, without building values.
func rawRead(path: String, expected: Int) -> Double {
    var db: OpaquePointer?
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else { fatalError("open") }
    defer { sqlite3_close_v2(db) }
    sqlite3_exec(db, "PRAGMA mmap_size = 1073741824", nil, nil, nil)
    var statement: OpaquePointer?
    sqlite3_prepare_v2(db, """
        SELECT seq, id, time, stream, stream_version, type, actor, trace_id, span_id, parent_span_id, data, prev_hash, hash
        FROM events ORDER BY seq
        """, -1, &statement, nil)
    defer { sqlite3_finalize(statement) }
    let clock = ContinuousClock()
    let start = clock.now
    var rows = 0
    var bytes = 0
    while sqlite3_step(statement) == SQLITE_ROW {
        for column in Int32(0)..<13 {
            switch sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER: bytes &+= Int(truncatingIfNeeded: sqlite3_column_int64(statement, column))
            case SQLITE_TEXT: _ = sqlite3_column_text(statement, column); bytes &+= Int(sqlite3_column_bytes(statement, column))
            case SQLITE_BLOB: _ = sqlite3_column_blob(statement, column); bytes &+= Int(sqlite3_column_bytes(statement, column))
            default: break
            }
        }
        rows += 1
    }
    precondition(rows == expected && bytes != 0)
    return rate(rows, clock.now - start)
}

// MARK: - Main

let options = Options(CommandLine.arguments)
try FileManager.default.createDirectory(atPath: options.directory, withIntermediateDirectories: true)
defer { if options.only != "read" && options.only != "rebuild" && ProcessInfo.processInfo.environment["GLASSBOX_BENCH_KEEP"] == nil { try? FileManager.default.removeItem(atPath: options.directory) } }
print("glassbox-bench \(options.quick ? "(quick) " : "")in \(options.directory), SQLite \(String(cString: sqlite3_libversion())), \(ProcessInfo.processInfo.activeProcessorCount) cores")
if options.only == nil || options.only == "batched" { try await batchedAppends(options) }
if options.only == nil || options.only == "concurrent" { try await concurrentAppends(options) }
if options.only == nil || options.only == "latency" { try await crossInstanceLatency(options) }
if options.only == nil || options.only == "replay" { try await replayAndVerify(options) }
if options.only == "rebuild" {
    // Profiling aid: only rebuilds over an existing replay database (--dir of a kept run).
    let log = try SQLiteEventLog(path: options.directory + "/replay.db")
    let clock = ContinuousClock()
    for _ in 0..<3 {
        let start = clock.now
        let count = try await ProjectionRunner<RunsProjection>(reader: log, store: log.readModels).rebuild()
        print("rebuild \(count) at \(formatted(rate(Int(count), clock.now - start))) events/s")
        let fold = clock.now
        _ = try await RunsProjection.state(asOf: .max, reader: log)
        print("state as of head at \(formatted(rate(Int(count), clock.now - fold))) events/s")
    }
}
if options.only == "read" {
    // Profiling aid: only the read loop over an existing replay database (--dir of a kept run).
    let log = try SQLiteEventLog(path: options.directory + "/replay.db", options: .init(readOnly: true))
    let clock = ContinuousClock()
    for _ in 0..<5 {
        let start = clock.now
        var count = 0
        var cursor: Int64 = 0
        while true {
            let page = try await log.events(EventQuery(after: cursor, limit: 10_000))
            guard let last = page.last else { break }
            count += page.count
            cursor = last.seq
        }
        print("read \(count) at \(formatted(rate(count, clock.now - start))) events/s; raw \(formatted(rawRead(path: options.directory + "/replay.db", expected: count))) rows/s")
    }
}

print("\n| measure | result | peer, same run | ratio | goal |")
print("|---|---|---|---|---|")
for row in results {
    print("| \(row.name) | \(row.value) | \(row.peer) | \(row.ratio) | \(row.goal) |")
}
