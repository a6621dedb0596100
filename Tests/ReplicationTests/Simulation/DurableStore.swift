import LicenseState
import Replication

/// What survives a crash of a simulated node: the log, the persisted term,
/// the reconciliation queue and the checkpoint — the simulated counterpart
/// of the SQLite store.
///
/// The log is kept whole, as the node's state: entries at or before
/// `compactedLsn` stand for the state a checkpoint holds, and may not be
/// streamed (the shell checks that it never reads them).
///
/// Invariant: the log holds LSNs 1...count in order with terms that never go
/// back; the persisted term never decreases; `compactedLsn <=
/// checkpointLsn <= count`; `standings` holds where each grant of the log
/// stands after its last grant or void record (as the store's grants table
/// does).
struct DurableStore {
    private(set) var log: [SimulatedEntry] = []
    private var standings: [String: GrantStanding] = [:]
    private(set) var term: UInt64 = 0
    private(set) var queue: [SimulatedEntry] = []
    private(set) var checkpointLsn: UInt64 = 0
    private(set) var compactedLsn: UInt64 = 0

    init() {}

    /// A store as a scenario begins with it.
    init(log: [SimulatedEntry], term: UInt64, checkpointLsn: UInt64 = 0, compactedLsn: UInt64 = 0) {
        append(log)
        persist(term: max(term, log.last?.term ?? 0))
        checkpoint(lsn: checkpointLsn, compactThrough: compactedLsn)
    }

    /// The term history a restarting node hands its `Replica`.
    var history: TermHistory {
        var history = TermHistory()
        for entry in log { history.append(lsn: entry.lsn, term: entry.term) }
        return history
    }

    mutating func append(_ entries: [SimulatedEntry]) {
        for entry in entries {
            precondition(entry.lsn == UInt64(log.count) + 1, "durable log gap: \(entry.lsn) after \(log.count)")
            precondition(entry.term >= (log.last?.term ?? 0), "durable log term goes back at \(entry.lsn)")
            log.append(entry)
            noteStanding(of: entry.record)
        }
    }

    /// Where the grant `grantId` stands in the log, as the store answers it.
    func grantStanding(_ grantId: String) -> GrantStanding {
        standings[grantId] ?? .absent
    }

    private mutating func noteStanding(of record: LogRecord) {
        switch record {
        case .grant(let grant): standings[grant.grantId] = .held
        case .voidGrant(let grant, _): standings[grant.grantId] = .voided
        default: break
        }
    }

    mutating func persist(term newTerm: UInt64) {
        precondition(newTerm >= term, "persisted term goes back: \(newTerm) < \(term)")
        term = newTerm
    }

    mutating func checkpoint(lsn: UInt64, compactThrough: UInt64) {
        precondition(lsn <= UInt64(log.count), "a checkpoint follows the writes before it")
        precondition(compactThrough <= lsn && compactThrough >= compactedLsn && lsn >= checkpointLsn, "checkpoints only move forward")
        checkpointLsn = lsn
        compactedLsn = compactThrough
    }

    /// Moves the entries after `lsn` into the queue, in one step.
    /// - Returns: the moved entries.
    mutating func truncate(after lsn: UInt64) -> [SimulatedEntry] {
        precondition(lsn >= checkpointLsn, "truncating behind the checkpoint: the state there is gone")
        return truncateUnchecked(after: lsn)
    }

    /// Moves the entries after `lsn` into the queue and forgets the rest:
    /// the store is empty but for its term and queue.
    /// - Returns: the moved entries.
    mutating func discard(queueAfter lsn: UInt64) -> [SimulatedEntry] {
        precondition(lsn >= compactedLsn, "the entries after a divergence point are never compacted")
        let moved = truncateUnchecked(after: lsn)
        log = []
        standings = [:]
        checkpointLsn = 0
        compactedLsn = 0
        return moved
    }

    private mutating func truncateUnchecked(after lsn: UInt64) -> [SimulatedEntry] {
        precondition(lsn <= UInt64(log.count), "truncating past the durable end")
        let moved = Array(log[Int(lsn)...])
        log.removeLast(moved.count)
        standings = [:]
        for entry in log { noteStanding(of: entry.record) }
        queue += moved
        return moved
    }

    /// Takes the log and checkpoint of `snapshot`, keeping this store's term
    /// and queue.
    mutating func install(_ snapshot: SimulatedSnapshot) {
        log = []
        standings = [:]
        append(snapshot.log)
        persist(term: max(term, snapshot.log.last?.term ?? 0))
        checkpointLsn = snapshot.checkpointLsn
        compactedLsn = snapshot.compactedLsn
    }

    /// Removes the oldest `count` entries of the queue.
    mutating func clearQueue(first count: Int) {
        queue.removeFirst(min(count, queue.count))
    }
}
