import Replication

/// What survives a crash of a simulated node: the log, the persisted term and
/// the reconciliation queue — the simulated counterpart of the SQLite store.
///
/// Invariant: the log holds LSNs 1...count in order with terms that never go
/// back; the persisted term never decreases.
struct DurableStore {
    private(set) var log: [SimulatedEntry] = []
    private(set) var term: UInt64 = 0
    private(set) var queue: [SimulatedEntry] = []

    init() {}

    /// A store as a scenario begins with it.
    init(log: [SimulatedEntry], term: UInt64) {
        append(log)
        persist(term: max(term, log.last?.term ?? 0))
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
        }
    }

    mutating func persist(term newTerm: UInt64) {
        precondition(newTerm >= term, "persisted term goes back: \(newTerm) < \(term)")
        term = newTerm
    }

    /// Moves the entries after `lsn` into the queue, in one step.
    /// - Returns: the moved entries.
    mutating func truncate(after lsn: UInt64) -> [SimulatedEntry] {
        precondition(lsn <= UInt64(log.count), "truncating past the durable end")
        let moved = Array(log[Int(lsn)...])
        log.removeLast(moved.count)
        queue += moved
        return moved
    }

    mutating func clearQueue() {
        queue = []
    }
}
