public import EventLog
import Foundation

/// Keeps one projection's read model up to date with the log and stored with its checkpoint.
///
/// ```swift
/// let runner = ProjectionRunner<RunsProjection>(reader: log, store: log.readModels)
/// try await runner.load()
/// try await runner.catchUp()
/// let running = await runner.state.rows.values.filter { $0.status == .running }
/// ```
public actor ProjectionRunner<P: Projection> {
    private let reader: any EventReader
    private let store: ReadModelStore
    private var model = ReadModel<P.Row>()
    /// The checkpoint as last loaded or saved; a save from another checkpoint means someone else wrote.
    private var savedCheckpoint: Int64?

    public init(reader: any EventReader, store: ReadModelStore) {
        self.reader = reader
        self.store = store
    }

    /// The read model as of the last event folded in.
    public var state: ReadModel<P.Row> { model }

    /// Loads the stored rows. Rows written by another version of the projection are dropped.
    public func load() async throws {
        let snapshot = try await store.load(projection: P.storageName)
        guard let checkpoint = snapshot.checkpoint else {
            if !snapshot.rows.isEmpty { try await store.reset(projection: P.storageName) }
            model = ReadModel()
            savedCheckpoint = nil
            return
        }
        let decoder = JSONDecoder()
        var rows: [String: P.Row] = [:]
        rows.reserveCapacity(snapshot.rows.count)
        for (key, json) in snapshot.rows {
            rows[key] = try decoder.decode(P.Row.self, from: Data(json.utf8))
        }
        model = ReadModel(rows: rows, seq: checkpoint)
        savedCheckpoint = checkpoint
    }

    /// Folds every event after the model's `seq` up to the log's current end, saving
    /// rows and checkpoint together every `saveEvery` events and at the end.
    ///
    /// Saving less often makes a long catch-up faster (a row touched by many events is
    /// written once); a crash loses nothing but the work since the last save.
    ///
    /// - Returns: the number of events read.
    @discardableResult
    public func catchUp(
        pageSize: Int = 10_000, saveEvery: Int = 100_000,
        progress: (@Sendable (_ seq: Int64, _ head: Int64) -> Void)? = nil
    ) async throws -> Int64 {
        let head = try await reader.lastSeq()
        var read: Int64 = 0
        // Runs again from the reloaded state whenever another process had saved further.
        while try await !foldAndSave(through: head, pageSize: pageSize, saveEvery: saveEvery, read: &read, progress: progress) {}
        return read
    }

    /// Folds up to `head`, saving as it goes. False when a save found that another process
    /// had saved further; the model then holds that process's state.
    private func foldAndSave(
        through head: Int64, pageSize: Int, saveEvery: Int, read: inout Int64,
        progress: (@Sendable (_ seq: Int64, _ head: Int64) -> Void)?
    ) async throws -> Bool {
        var unsaved = 0
        var pages = PagePrefetcher(reader: reader, after: model.seq, through: head, pageSize: pageSize)
        while let page = try await pages.next() {
            P.fold(page, into: &model)
            read += Int64(page.count)
            unsaved += page.count
            progress?(model.seq, head)
            if unsaved >= saveEvery {
                unsaved = 0
                guard try await save() else { return false }
            }
        }
        return try await save()
    }

    /// Deletes the read model and folds the whole log again.
    @discardableResult
    public func rebuild(
        pageSize: Int = 10_000, saveEvery: Int = 100_000,
        progress: (@Sendable (_ seq: Int64, _ head: Int64) -> Void)? = nil
    ) async throws -> Int64 {
        try await store.reset(projection: P.storageName)
        model = ReadModel()
        savedCheckpoint = nil
        return try await catchUp(pageSize: pageSize, saveEvery: saveEvery, progress: progress)
    }

    /// Keeps folding new events as they are appended, until the task is cancelled.
    public func follow() async throws {
        while !Task.isCancelled {
            try await catchUp()
            await reader.waitForEvents(after: model.seq)
        }
    }

    /// Stores the changed rows and the checkpoint. Returns false when another process had
    /// saved the read model since it was loaded; the model is then reloaded from its save.
    private func save() async throws -> Bool {
        guard model.seq != savedCheckpoint || !model.changed.isEmpty else { return true }
        var changes: [String: String?] = [:]
        for key in Set(model.changed) {
            changes[key] = try model.rows[key].map { try FlatJSONEncoder.encode($0) }
        }
        do {
            try await store.save(projection: P.storageName, changes: changes, from: savedCheckpoint, to: model.seq)
            savedCheckpoint = model.seq
            model.changed.removeAll(keepingCapacity: true)
            return true
        } catch is ReadModelStore.CheckpointMoved {
            try await load()
            return false
        }
    }
}

extension Projection {
    /// The read model as it was right after event `seq`, folded from the start of the log.
    ///
    /// ```swift
    /// let then = try await RunsProjection.state(asOf: 1_200, reader: log)
    /// ```
    public static func state(asOf seq: Int64, reader: any EventReader, pageSize: Int = 10_000) async throws -> ReadModel<Row> {
        var model = ReadModel<Row>()
        let through = min(seq, try await reader.lastSeq())
        var pages = PagePrefetcher(reader: reader, after: 0, through: through, pageSize: pageSize)
        while let page = try await pages.next() {
            fold(page, into: &model)
        }
        model.changed = []
        return model
    }
}

/// Reads the log page by page, fetching the next pages while the caller folds the current
/// one: reading runs on SQLite's reader threads, folding on the caller's, so they overlap.
///
/// Pages are ranges of `seq` (the log has no gaps), so several can be read at once.
struct PagePrefetcher {
    /// Pages read ahead of the one being folded.
    static let depth = 2

    private let reader: any EventReader
    private let through: Int64
    private let pageSize: Int64
    private var nextStart: Int64
    private var pending: [Task<[Event], any Error>] = []

    init(reader: any EventReader, after: Int64, through: Int64, pageSize: Int) {
        self.reader = reader
        self.through = through
        self.pageSize = Int64(max(1, pageSize))
        self.nextStart = after
        refill()
    }

    mutating func next() async throws -> [Event]? {
        guard !pending.isEmpty else { return nil }
        let page = try await pending.removeFirst().value
        guard !page.isEmpty else {
            // Past the end of the log (there are no gaps): nothing further to read.
            pending.forEach { $0.cancel() }
            pending = []
            return nil
        }
        refill()
        return page
    }

    private mutating func refill() {
        while pending.count < Self.depth && nextStart < through {
            let (reader, after, end, limit) = (reader, nextStart, min(nextStart + pageSize, through), Int(pageSize))
            pending.append(Task { try await reader.events(EventQuery(after: after, through: end, limit: limit)) })
            nextStart = end
        }
    }
}
