import Foundation
import Transport

/// The one writer of the store, in order: log entries appended during one
/// loop turn are written together, in one transaction on the thread pool
/// (group commit), and other durable changes (the term, a truncation, the
/// reconciliation queue) run as tasks between them. Completions run on the
/// loop once their work committed.
///
/// Beside the writer, a passive checkpoint of SQLite's WAL file runs at most
/// every `walCheckpointIntervalMs` while entries are committed, on its own
/// connection, so that no commit waits for that copy; once the WAL file
/// holds more than `LicenseStore.walFramesBeforeRestart` frames, the writer
/// then copies the little committed meanwhile, between two commits, so the
/// file starts over instead of growing.
///
/// Invariant: at most one transaction is in flight, so the store's writer
/// connection is used by one thread at a time; at most one WAL checkpoint is
/// in flight, and none while an exclusive task runs; work is committed in
/// the order it was queued; no completion runs before its work is durable.
/// A write the full disk refused is queued again first and retried every
/// `diskFullRetryMs` (`diskFullSinceMs` says since when) until it commits;
/// any other failed write calls `onFailure` and nothing after it completes.
final class LogWriter {
    /// Most entries in one transaction.
    static let batchEntriesMax = 4096
    /// Past this many queued payload bytes, or entries, the node refuses
    /// new writes until the store catches up (`isBacklogged`); a standby's
    /// appends are bounded by its primary's in-flight window instead.
    static let queuedPayloadBytesMax = 64 << 20
    static let queuedEntriesMax = 256 * 1_024
    /// How often SQLite's WAL file is copied into the database file while
    /// entries are committed.
    static let walCheckpointIntervalMs: UInt64 = 250
    /// How often a write the full disk refused is tried again.
    static let diskFullRetryMs: UInt64 = 1_000

    /// One piece of queued work.
    private enum Work {
        case entry(LogEntry, payload: [UInt8], answer: StoredAnswer?, sequence: UInt64)
        case task((LicenseStore) throws -> Void, exclusive: Bool, done: () -> Void)
    }

    private let loop: EventLoop
    private let store: LicenseStore
    private let onFailure: (Error) -> Void
    /// Called on the loop with the last entry of each committed batch.
    /// Called on the loop with the last entry of each committed batch and
    /// its append sequence number.
    private let onDurable: (LogEntry, UInt64) -> Void
    private var queued: [Work] = []
    private var committing = false
    private var failed = false
    private var check: LoopCheck?
    /// The LSN the next appended entry must have.
    private var nextLsn: UInt64
    /// The append sequence number the next entry gets: it counts every
    /// entry ever appended, so unlike an LSN it never goes back after a
    /// truncation.
    private(set) var nextSequence: UInt64 = 1
    private var walCheckpointing = false
    private var lastWALCheckpointMs: UInt64 = 0
    /// The WAL file is long: the writer finishes a checkpoint before its next commit.
    private var walRestartDue = false
    /// When the full disk first refused the work now retried (nil: it did not).
    private(set) var diskFullSinceMs: UInt64?
    private var diskFullRetry: LoopTimer?
    /// Called on the loop when the disk fills (true) and when a write
    /// commits again after that (false).
    var onDiskFull: ((Bool) -> Void)?

    init(loop: EventLoop, store: LicenseStore, lastLsn: UInt64, onDurable: @escaping (LogEntry, UInt64) -> Void,
         onFailure: @escaping (Error) -> Void) {
        self.loop = loop
        self.store = store
        nextLsn = lastLsn + 1
        self.onDurable = onDurable
        self.onFailure = onFailure
        check = LoopCheck(loop: loop) { [unowned self] in self.flush() }
    }

    /// Work queued and not yet durable.
    var pendingCount: Int { queued.count }
    /// Payload bytes of the entries queued and not yet durable.
    private(set) var queuedPayloadBytes = 0

    /// Whether the queue holds more than the store should be behind by.
    var isBacklogged: Bool { queuedPayloadBytes > Self.queuedPayloadBytesMax || queued.count > Self.queuedEntriesMax }

    /// Queues `entry`, whose record encodes as `payload` and leaves its
    /// request `answer` (nil: changes no answer); `onDurable` reports it
    /// once it is durable.
    func append(_ entry: LogEntry, payload: [UInt8], answer: StoredAnswer?) {
        loop.assertInLoop()
        precondition(entry.lsn == nextLsn, "log entries must be appended in LSN order")
        nextLsn += 1
        queued.append(.entry(entry, payload: payload, answer: answer, sequence: nextSequence))
        nextSequence += 1
        queuedPayloadBytes += payload.count
    }

    /// Queues `work` (run on a pool thread, in its own transaction if it
    /// needs one); `done` runs on the loop after it committed.
    /// - Parameters:
    ///   - nextLsn: the LSN the next entry will have after this work
    ///     (a truncation moves it back).
    ///   - exclusive: the work, or its `done`, replaces the store's file:
    ///     it waits for a WAL checkpoint under way to end.
    func perform(nextLsn: UInt64? = nil, exclusive: Bool = false, _ work: @escaping (LicenseStore) throws -> Void,
                 done: @escaping () -> Void) {
        loop.assertInLoop()
        if let nextLsn { self.nextLsn = nextLsn }
        queued.append(.task(work, exclusive: exclusive, done: done))
    }

    /// The store was replaced (a snapshot): the next entry has `nextLsn`.
    func restart(nextLsn: UInt64) {
        loop.assertInLoop()
        precondition(queued.isEmpty && !committing, "the store is replaced only while nothing is written")
        self.nextLsn = nextLsn
        walRestartDue = false
    }

    private func flush() {
        guard !committing, !failed, diskFullRetry == nil, let first = queued.first else { return }
        committing = true
        let store = self.store
        switch first {
        case .task(let work, let exclusive, let done):
            if exclusive, walCheckpointing {
                // The checkpoint's completion flushes again.
                committing = false
                return
            }
            queued.removeFirst()
            run({ try work(store) }, requeue: { [unowned self] in self.queued.insert(first, at: 0) }, then: done)
        case .entry where walRestartDue:
            walRestartDue = false
            run({ try store.finishSQLiteWALCheckpoint() }, requeue: { [unowned self] in self.walRestartDue = true }, then: {})
        case .entry:
            var entries: [(entry: LogEntry, payload: [UInt8], answer: StoredAnswer?)] = []
            var lastSequence: UInt64 = 0
            for work in queued.prefix(Self.batchEntriesMax) {
                guard case .entry(let entry, let payload, let answer, let sequence) = work else { break }
                entries.append((entry, payload, answer))
                lastSequence = sequence
                queuedPayloadBytes -= payload.count
            }
            let batch = queued.prefix(entries.count)
            queued.removeFirst(entries.count)
            run({ try store.append(entries) }, requeue: { [unowned self] in
                self.queued.insert(contentsOf: batch, at: 0)
                self.queuedPayloadBytes += entries.reduce(0) { $0 + $1.payload.count }
            }, then: { [unowned self] in
                self.checkpointWALIfDue()
                self.onDurable(entries.last!.entry, lastSequence)
            })
        }
    }

    private func checkpointWALIfDue() {
        let now = loop.nowMs
        guard !walCheckpointing, now >= lastWALCheckpointMs + Self.walCheckpointIntervalMs else { return }
        walCheckpointing = true
        lastWALCheckpointMs = now
        let store = self.store
        var restartDue = false
        // A full disk only postpones this copy to the next interval.
        onPool({ restartDue = try store.checkpointSQLiteWAL() }, ended: { [unowned self] in
            self.walCheckpointing = false
            if restartDue { self.walRestartDue = true }
        }, requeue: {})
    }

    private func run(_ work: @escaping () throws -> Void, requeue: @escaping () -> Void, then completion: @escaping () -> Void) {
        onPool(work, ended: { [unowned self] in self.committing = false }, requeue: requeue, then: { [unowned self] in
            if self.diskFullSinceMs != nil {
                self.diskFullSinceMs = nil
                self.onDiskFull?(false)
            }
            completion()
        })
    }

    /// Runs `work` on a pool thread; back on the loop, `ended`, then
    /// `requeue` and a retry later when the disk was full, `onFailure`
    /// (nothing after it completes) on any other error, or `completion` and
    /// the next queued work.
    private func onPool(_ work: @escaping () throws -> Void, ended: @escaping () -> Void, requeue: @escaping () -> Void,
                        then completion: @escaping () -> Void = {}) {
        ThreadPoolWork.submit(on: loop, work: { () -> Error? in
            do {
                try work()
                return nil
            } catch {
                return error
            }
        }, completion: { [weak self] error in
            guard let self else { return }
            ended()
            if let error, error.isDiskFull {
                requeue()
                self.diskFull()
                return
            }
            if let error {
                self.failed = true
                self.onFailure(error)
                return
            }
            completion()
            self.flush()
        })
    }

    /// The full disk refused a write: it waits for the retry.
    private func diskFull() {
        if diskFullSinceMs == nil {
            diskFullSinceMs = loop.nowMs
            onDiskFull?(true)
        }
        guard diskFullRetry == nil else { return }
        diskFullRetry = LoopTimer(loop: loop, delayMs: Self.diskFullRetryMs) { [unowned self] in
            self.diskFullRetry = nil
            self.flush()
        }
    }

    func close() {
        check?.cancel()
        check = nil
        diskFullRetry?.cancel()
        diskFullRetry = nil
    }
}
