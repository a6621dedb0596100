import Foundation
import LicenseState
import Replication
import Transport

/// The node's live domain state and its log: every change is decided
/// against `state`, applied at once (so the next decision in the same turn
/// sees it), written by the `LogWriter`, and answered only once it is
/// acknowledged: durable here (standalone), or as the replica says (pair).
///
/// Invariant: `state` equals the replay of the log up to `lastLsn`, and
/// `answers` the answers its records gave to request IDs;
/// `history` holds the term of every entry; pending answers are in LSN
/// order, and each is given exactly once: acknowledged or refused.
final class LicenseService {
    private let loop: EventLoop
    private(set) var state = LicenseState()
    /// Remembered answers to request IDs (kept apart from `state`).
    let answers: RequestAnswers
    private(set) var history = TermHistory()
    /// The term new records are written in.
    var term: UInt64
    let store: LicenseStore
    private var writer: LogWriter!
    private let onStoreFailure: (Error) -> Void
    /// Answers waiting for their record to be acknowledged.
    private var pending: [(lsn: UInt64, request: HTTPRequest?, done: () -> Void)] = []
    private var pendingStart = 0
    /// The newest entries, encoded, for streaming (in a pair only).
    private var recent = RecentEntries()
    /// Called with the last entry of every durable batch; nil in standalone
    /// mode, where durability alone acknowledges.
    var onDurable: ((LogEntry) -> Void)?

    /// Standalone: when to write checkpoints (a pair's replica decides there).
    var compaction: LogCompaction?
    /// Where the stored state and log start (see `StoredCheckpoint`).
    private(set) var checkpointLsn: UInt64
    private(set) var compactedLsn: UInt64
    /// A checkpoint's state is being encoded on the pool.
    private var checkpointEncoding = false
    /// Grows whenever the log is cut back or replaced (truncation, discard,
    /// snapshot install): a checkpoint encoded before is not stored.
    private var logGeneration: UInt64 = 0
    /// The data dir holding the store (and its `LogMark`).
    let dataDir: String
    /// When the `LogMark` was last queued for writing.
    private var logMarkQueuedMs: UInt64?

    /// Loads the checkpoint and replays the log after it from `store`, and
    /// starts the writer.
    /// - Parameter onStoreFailure: called when the store cannot be written
    ///   or read; nothing after it is acknowledged.
    init(loop: EventLoop, store: LicenseStore, onStoreFailure: @escaping (Error) -> Void) throws {
        self.loop = loop
        self.store = store
        self.onStoreFailure = onStoreFailure
        dataDir = URL(fileURLWithPath: store.path).deletingLastPathComponent().path
        let loaded = try store.loadState()
        let terms = loaded.history
        state = loaded.state
        answers = RequestAnswers(store: store, locator: loaded.requestLocator)
        history = terms
        checkpointLsn = loaded.checkpointLsn
        compactedLsn = loaded.compactedLsn
        if let stored = try store.meta("term"), let value = UInt64(stored) {
            term = max(value, terms.lastTerm)
        } else {
            term = max(1, terms.lastTerm)
            try store.setMeta("term", String(term))
        }
        writer = LogWriter(loop: loop, store: store, lastLsn: terms.lastLsn, onDurable: { [unowned self] entry, sequence in
            self.answers.durable(throughSequence: sequence)
            self.markDurable()
            if let onDurable = self.onDurable {
                onDurable(entry)
            } else {
                self.acknowledge(upTo: entry.lsn)
                if let due = self.compaction?.next(lastLsn: self.lastLsn, sharedLsn: self.lastLsn) {
                    self.checkpoint(lsn: due.checkpointLsn, compactThrough: due.compactThrough)
                }
            }
        }, onFailure: onStoreFailure)
    }

    var lastLsn: UInt64 { history.lastLsn }

    /// Queues the `LogMark` write of the last LSN, at most once an
    /// interval. The writer runs it after every entry appended so far has
    /// committed (and after a truncation queued before, which wrote its own
    /// lower mark), so the mark is durable when written.
    private func markDurable() {
        let now = loop.nowMs
        if let queued = logMarkQueuedMs, now < queued + LogMark.intervalMs { return }
        logMarkQueuedMs = now
        let lsn = lastLsn
        let dataDir = self.dataDir
        writer.perform({ _ in LogMark.write(dataDir: dataDir, lsn: lsn) }, done: {})
    }

    /// The full disk refused the store's last write: new writes are refused
    /// until a retry commits (reads go on).
    var diskFull: Bool { writer.diskFullSinceMs != nil }

    /// Called when the disk fills (true) and when writes commit again (false).
    var onDiskFull: ((Bool) -> Void)? {
        get { writer.onDiskFull }
        set { writer.onDiskFull = newValue }
    }

    static func diskFullRefusal() -> APIError {
        APIError(status: 507, code: -20006, message: "The node's disk is full: it takes no write until space is freed in its data dir (reads go on); retry later or on the other node.")
    }

    /// Work queued for the store and not yet durable.
    var pendingCount: Int { writer.pendingCount }

    /// Why new writes are refused for now: the store is behind by more than
    /// the writer's queue may hold (nil: it is not).
    var backlogRefusal: APIError? {
        if diskFull { return Self.diskFullRefusal() }
        guard writer.isBacklogged else { return nil }
        return APIError.unavailable("The store is \(writer.queuedPayloadBytes >> 20) MiB behind; retry in a moment.")
    }

    // MARK: Writing (primary or standalone)

    /// Applies `record` now, logs it in the current term, and calls `done`
    /// once it is acknowledged; if this node stops being primary first,
    /// `request` (when given) gets the refusal instead.
    func commit(_ record: LogRecord, request: HTTPRequest?, done: @escaping (LogEntry) -> Void) {
        state.apply(record)
        let entry = LogEntry(lsn: history.lastLsn + 1, term: term, record: record)
        history.append(lsn: entry.lsn, term: entry.term)
        let payload = LogRecordCodec.encode(record)
        if onDurable != nil { recent.append(ReplicatedEntry(lsn: entry.lsn, term: entry.term, payload: payload)) }
        pending.append((entry.lsn, request, { done(entry) }))
        writer.append(entry, payload: payload, answer: answer(appending: entry))
    }

    /// The answer remembered for `key` (none without a key). A store that
    /// cannot be read is a store failure, as one that cannot be written.
    func rememberedAnswer(for key: LicenseState.RequestKey?) throws -> RememberedAnswer? {
        guard let key else { return nil }
        do {
            return try answers.answer(for: key)
        } catch {
            onStoreFailure(error)
            throw error
        }
    }

    /// The answer `entry`, appended next, leaves its request, for the store.
    private func answer(appending entry: LogEntry) -> StoredAnswer? {
        do {
            return try answers.appending(entry, sequence: writer.nextSequence)
        } catch {
            onStoreFailure(error)
            return nil
        }
    }

    /// Calls `done` once every record logged so far is acknowledged (at
    /// once when none waits): a repeated request must not see its first
    /// answer before that answer could be given.
    func afterPending(request: HTTPRequest, done: @escaping () -> Void) {
        guard pendingStart < pending.count else { return done() }
        pending.append((history.lastLsn, request, done))
    }

    /// Answers every pending record at or before `lsn`.
    func acknowledge(upTo lsn: UInt64) {
        while pendingStart < pending.count, pending[pendingStart].lsn <= lsn {
            let item = pending[pendingStart]
            pendingStart += 1
            item.done()
        }
        compactPending()
    }

    /// Refuses every pending answer (this node stopped being primary). A
    /// client retries with the same requestId, as a later attempt, on the
    /// new primary; reconciliation then keeps that answer and skips the
    /// record here, which no client holds: never counted twice.
    func refusePending(_ error: APIError) {
        for item in pending[pendingStart...] { item.request?.respond(error: error) }
        pending = []
        pendingStart = 0
    }

    private func compactPending() {
        if pendingStart == pending.count {
            // Kept: with every answer given each turn, a new array per turn cost an allocation per grant.
            pending.removeAll(keepingCapacity: true)
            pendingStart = 0
        } else if pendingStart > 1024, pendingStart * 2 > pending.count {
            pending.removeFirst(pendingStart)
            pendingStart = 0
        }
    }

    // MARK: Replication

    /// Entries `(after, through]` for an append message: from memory, or
    /// the durable ones from the store. May return fewer at the end when
    /// an old entry is neither in memory nor durable yet.
    func entries(after: UInt64, through: UInt64) throws -> [ReplicatedEntry] {
        guard through > after else { return [] }
        return try recent.entries(after: after, through: through) ?? store.replicatedEntries(after: after, through: through)
    }

    /// Standby: applies entries from the primary and queues them for the
    /// store. Entries must follow the log.
    /// - Parameter records: the decoded payload of each entry, in order.
    func appendReplicated(_ entries: [ReplicatedEntry], records: [LogRecord]) {
        precondition(records.count == entries.count, "one record per entry")
        let decoded = zip(entries, records).map { LogEntry(lsn: $0.lsn, term: $0.term, record: $1) }
        for (entry, replicated) in zip(decoded, entries) {
            precondition(entry.lsn == history.lastLsn + 1, "replicated entries follow the log")
            state.apply(entry.record)
            history.append(lsn: entry.lsn, term: entry.term)
            recent.append(replicated)
            writer.append(entry, payload: replicated.payload, answer: answer(appending: entry))
        }
    }

    /// Stores the term durably, then calls `done`.
    func persistTerm(_ newTerm: UInt64, done: @escaping () -> Void) {
        term = newTerm
        writer.perform({ store in try store.setMeta("term", String(newTerm)) }, done: done)
    }

    /// Standby: moves the log after `lsn` into the reconciliation queue and
    /// rebuilds the state from what remains, then calls `done`.
    func truncate(after lsn: UInt64, done: @escaping () -> Void) {
        logGeneration += 1
        history.truncate(after: lsn)
        recent.truncate(after: lsn)
        answers.cutting(after: lsn)
        var rebuilt = LicenseState()
        let dataDir = self.dataDir
        writer.perform(nextLsn: lsn + 1, { store in
            LogMark.write(dataDir: dataDir, lsn: lsn)
            try store.truncate(after: lsn)
            rebuilt = try store.loadState().state
        }, done: { [unowned self] in
            self.state = rebuilt
            self.answers.cutDone()
            done()
        })
    }

    // MARK: Checkpoints and snapshots

    /// Stores the state as it is now (at `lsn`, the last LSN) and removes
    /// the log through `compactThrough`. The state (a copy: the loop goes on
    /// changing its own) is encoded and checked on the thread pool, apart
    /// from the log writer, so appends do not wait for it; then the writer
    /// stores it, after the writes queued before the request (which hold
    /// every entry through `lsn`). One that would not decode again is not
    /// stored (the log stays), nor one whose log was cut back or replaced
    /// meanwhile, nor one asked for while another is encoded: a checkpoint
    /// not stored only keeps more log, which is always safe.
    func checkpoint(lsn: UInt64, compactThrough: UInt64) {
        precondition(lsn == history.lastLsn, "a checkpoint is of the state as it is now")
        guard !checkpointEncoding else { return }
        checkpointEncoding = true
        let state = self.state
        let history = self.history
        let generation = logGeneration
        ThreadPoolWork.submit(on: loop, work: { () -> [UInt8]? in
            let encoded = StateSnapshotCodec.encode(state)
            return (try? StateSnapshotCodec.decode(encoded)) != nil ? encoded : nil
        }, completion: { [unowned self] encoded in
            self.checkpointEncoding = false
            guard let encoded else {
                self.onCheckpointRefused?(lsn)
                return
            }
            guard generation == self.logGeneration else { return }
            self.writer.perform({ store in
                try store.write(StoredCheckpoint(lsn: lsn, compactedLsn: compactThrough, history: history, state: encoded))
            }, done: { [unowned self] in
                self.checkpointLsn = lsn
                self.compactedLsn = compactThrough
                self.compactLog(through: compactThrough, generation: generation)
            })
        })
    }

    /// Log rows one compaction transaction removes at most: a few
    /// milliseconds of the writer, so appends queued behind wait no longer.
    static let compactionSliceRows = 4_096

    /// Removes the log through `lsn` (behind a stored checkpoint) a slice
    /// per writer task, appends going between them; stops when the log was
    /// cut back or replaced meanwhile.
    private func compactLog(through lsn: UInt64, generation: UInt64) {
        guard generation == logGeneration else { return }
        var more = false
        writer.perform({ store in more = try store.compactLog(through: lsn, limit: Self.compactionSliceRows) }, done: { [unowned self] in
            if more { self.compactLog(through: lsn, generation: generation) }
        })
    }

    /// Called when a checkpoint's state would not decode again.
    var onCheckpointRefused: ((UInt64) -> Void)?

    /// Standby: moves the log after `lsn` into the reconciliation queue and
    /// empties the store and the state (a snapshot follows), then calls `done`.
    func discard(queueAfter lsn: UInt64, done: @escaping () -> Void) {
        logGeneration += 1
        history = TermHistory()
        recent.removeAll()
        state = LicenseState()
        answers.cutting(after: 0)
        let dataDir = self.dataDir
        writer.perform(nextLsn: 1, { store in
            LogMark.write(dataDir: dataDir, lsn: 0)
            try store.discard(queueAfter: lsn)
        }, done: { [unowned self] in
            self.answers.cutDone()
            self.checkpointLsn = 0
            self.compactedLsn = 0
            done()
        })
    }

    /// Copies the store, in order after the writes before, to `file`; then
    /// calls `done` with its size, or why the copy failed (the node goes on).
    func prepareSnapshot(to file: String, done: @escaping (Result<UInt64, Error>) -> Void) {
        var result: Result<UInt64, Error> = .success(0)
        writer.perform({ store in result = Result { try store.backup(to: file) } }, done: { done(result) })
    }

    /// Standby: makes the complete snapshot at `file` the store (keeping
    /// this node's term and reconciliation queue) and the state; then calls
    /// `done` with what it holds, or the reason it was refused.
    /// - Parameter totalBytes: the size the primary announced.
    func installSnapshot(from file: String, totalBytes: UInt64, done: @escaping (Result<LoadedState, Error>) -> Void) {
        logGeneration += 1
        var result: Result<LoadedState, Error>!
        let term = self.term
        writer.perform(exclusive: true, { store in
            result = Result { try store.adopt(snapshot: file, totalBytes: totalBytes, term: term) }
        }, done: { [unowned self] in
            // The writer is idle now and nothing else uses the store: swap it.
            if case .success(let loaded) = result {
                do {
                    try self.store.replace(with: file)
                    self.state = loaded.state
                    self.answers.replaced(locator: loaded.requestLocator)
                    self.history = loaded.history
                    self.checkpointLsn = loaded.checkpointLsn
                    self.compactedLsn = loaded.compactedLsn
                    self.recent.removeAll()
                    self.writer.restart(nextLsn: loaded.history.lastLsn + 1)
                } catch {
                    preconditionFailure("cannot open the store after installing a snapshot: \(error)")
                }
            }
            done(result)
        })
    }

    /// Removes the queued records with IDs at or below `throughId` (all when
    /// nil) durably, then calls `done`.
    func clearReconcileQueue(throughId: Int64? = nil, done: @escaping () -> Void = {}) {
        writer.perform({ store in try store.clearReconcileQueue(throughId: throughId) }, done: done)
    }

    func close() {
        writer.close()
    }
}
