import Foundation
import LicenseState
import Transport

/// The node's live domain state and its log: every change is decided
/// against `state`, applied at once (so the next decision in the same turn
/// sees it) and acknowledged only after it is durable.
///
/// Invariant: `state` equals the replay of the log up to `lastLsn`; callers
/// answer clients only from `commit` completions.
final class LicenseService {
    private(set) var state = LicenseState()
    private(set) var lastLsn: UInt64 = 0
    private(set) var term: UInt64
    let store: LicenseStore
    private let writer: LogWriter

    /// Replays the log from `store` and starts the writer.
    init(loop: EventLoop, store: LicenseStore, onWriteFailure: @escaping (Error) -> Void) throws {
        self.store = store
        var replayed = LicenseState()
        var last: UInt64 = 0
        var lastTerm: UInt64 = 0
        try store.readLog { entry in
            replayed.apply(entry.record)
            last = entry.lsn
            lastTerm = entry.term
        }
        state = replayed
        lastLsn = last
        if let stored = try store.meta("term"), let value = UInt64(stored) {
            term = max(value, lastTerm)
        } else {
            term = max(1, lastTerm)
            try store.setMeta("term", String(term))
        }
        writer = LogWriter(loop: loop, store: store, flushedLsn: last, onFailure: onWriteFailure)
    }

    /// The position of the newest record (durable or not).
    var position: (term: UInt64, lsn: UInt64) { (term, lastLsn) }

    /// Records not yet durable.
    var pendingCount: Int { writer.pendingCount }

    /// Applies `record` now and calls `done` with its entry once it is durable.
    func commit(_ record: LogRecord, done: @escaping (LogEntry) -> Void) {
        state.apply(record)
        lastLsn += 1
        let entry = LogEntry(lsn: lastLsn, term: term, record: record)
        writer.append(entry) { done(entry) }
    }

    func close() {
        writer.close()
    }
}
