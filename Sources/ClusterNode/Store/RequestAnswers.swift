import LicenseState

/// The node's remembered answers to request IDs, on the loop: the answers
/// of log entries not yet durable in memory, every other one in the
/// store's `requests` table, found by LSN through `RequestLocator` so that
/// a new request ID reads nothing. Memory holds about 9 bytes per
/// remembered request, however many there are.
///
/// Invariant: `stored(for:)` is the answer the log's records so far give
/// `key` (`StoredAnswer.after`, applied in LSN order), or nil when none
/// did or it was forgotten. `unwritten[key]` holds the answers of appended
/// entries not yet durable, in append order, and `unwrittenOrder` each of
/// them once with its append sequence number (`LogWriter.nextSequence`),
/// which, unlike an LSN, never goes back after a truncation; while a
/// truncation or discard is on its way to the store, rows above
/// `truncatedAbove` are not read.
final class RequestAnswers {
    private let store: LicenseStore
    private(set) var locator: RequestLocator
    private var unwritten: [LicenseState.RequestKey: [StoredAnswer]] = [:]
    private var unwrittenOrder: [(lsn: UInt64, sequence: UInt64, key: LicenseState.RequestKey)] = []
    private var unwrittenStart = 0
    private var truncatedAbove: UInt64?

    init(store: LicenseStore, locator: RequestLocator) {
        self.store = store
        self.locator = locator
    }

    /// Answers of entries not yet durable.
    var unwrittenCount: Int { unwrittenOrder.count - unwrittenStart }

    /// The answer a repeat of `key` gets.
    /// - Throws: `StoreFailure` when the store cannot be read.
    func answer(for key: LicenseState.RequestKey) throws -> RememberedAnswer? {
        try stored(for: key)?.answer
    }

    private func stored(for key: LicenseState.RequestKey) throws -> StoredAnswer? {
        if let last = unwritten[key]?.last { return last }
        var candidates = locator.candidates(for: key)
        guard !candidates.isEmpty else { return nil }
        if let truncatedAbove { candidates.removeAll { $0 > truncatedAbove } }
        return try store.storedAnswer(for: key, candidates: candidates)
    }

    /// Whether an `expire(at: now)` record would forget an answer.
    func needsExpiry(now: Int64) -> Bool {
        locator.holdsAnswers(before: now - RequestBook.retentionSeconds)
    }

    /// `entry` is appended to the log as the `sequence`-th entry: returns
    /// the answer it leaves its request (for the store to write with it),
    /// nil when it changes none. An expiry's answers are forgotten by the
    /// store in its transaction; one not yet durable is still read until then.
    func appending(_ entry: LogEntry, sequence: UInt64) throws -> StoredAnswer? {
        if case .expire(let at) = entry.record { locator.forget(before: at - RequestBook.retentionSeconds) }
        guard let key = entry.record.answeredRequest, let next = StoredAnswer.after(entry.record, replacing: try stored(for: key)) else {
            return nil
        }
        unwritten[key, default: []].append(next)
        unwrittenOrder.append((entry.lsn, sequence, key))
        locator.insert(key, lsn: entry.lsn, forgetAt: next.forgetAt)
        return next
    }

    /// The store holds every entry appended through the `sequence`-th.
    func durable(throughSequence sequence: UInt64) {
        while unwrittenStart < unwrittenOrder.count, unwrittenOrder[unwrittenStart].sequence <= sequence {
            let key = unwrittenOrder[unwrittenStart].key
            unwrittenStart += 1
            unwritten[key]!.removeFirst()
            if unwritten[key]!.isEmpty { unwritten[key] = nil }
        }
        if unwrittenStart == unwrittenOrder.count {
            unwrittenOrder.removeAll(keepingCapacity: true)
            unwrittenStart = 0
        } else if unwrittenStart > 1024, unwrittenStart * 2 > unwrittenOrder.count {
            unwrittenOrder.removeFirst(unwrittenStart)
            unwrittenStart = 0
        }
    }

    /// The log after `lsn` is being cut off (`nil`: all of it): its
    /// answers are dropped now, and the store's rows above `lsn` are not
    /// read until `cutDone`.
    func cutting(after lsn: UInt64) {
        truncatedAbove = min(truncatedAbove ?? .max, lsn)
        locator.cut(after: lsn)
        while unwrittenOrder.count > unwrittenStart, let last = unwrittenOrder.last, last.lsn > lsn {
            unwrittenOrder.removeLast()
            unwritten[last.key]!.removeLast()
            if unwritten[last.key]!.isEmpty { unwritten[last.key] = nil }
        }
    }

    /// The store holds the cut log.
    func cutDone() {
        truncatedAbove = nil
    }

    /// The store was replaced (a snapshot) and holds these answers.
    func replaced(locator: RequestLocator) {
        precondition(unwrittenCount == 0, "the store is replaced only while nothing is written")
        self.locator = locator
        truncatedAbove = nil
    }
}
