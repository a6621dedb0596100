/// When a node writes a checkpoint of its state and how far it may then
/// remove its log: a checkpoint every `everyRecords` records, at the newest
/// LSN; the log is kept back `retainedRecords` behind what both nodes are
/// known to hold, so a standby that falls a little behind catches up from
/// the log, and a record only this node holds is never removed (it may be
/// needed for reconciliation).
///
/// Invariant: `compactedLsn <= checkpointLsn`, both only grow, and
/// `compactedLsn` never passes the `sharedLsn` it was given.
public struct LogCompaction: Equatable {
    public var everyRecords: UInt64
    public var retainedRecords: UInt64
    /// The state is stored as of this LSN (0: no checkpoint).
    public private(set) var checkpointLsn: UInt64
    /// The log holds no entry at or before this LSN.
    public private(set) var compactedLsn: UInt64

    public init(everyRecords: UInt64, retainedRecords: UInt64, checkpointLsn: UInt64 = 0, compactedLsn: UInt64 = 0) {
        precondition(compactedLsn <= checkpointLsn, "the log is removed only behind a checkpoint")
        self.everyRecords = everyRecords
        self.retainedRecords = retainedRecords
        self.checkpointLsn = checkpointLsn
        self.compactedLsn = compactedLsn
    }

    /// A checkpoint due at `lastLsn`, and how far the log may go with it.
    /// - Parameter sharedLsn: the log through this LSN is durable on both
    ///   nodes (a standalone node: its own last LSN).
    public mutating func next(lastLsn: UInt64, sharedLsn: UInt64) -> (checkpointLsn: UInt64, compactThrough: UInt64)? {
        guard everyRecords > 0, lastLsn >= checkpointLsn + everyRecords else { return nil }
        let limit = min(lastLsn, sharedLsn)
        checkpointLsn = lastLsn
        compactedLsn = max(compactedLsn, limit > retainedRecords ? limit - retainedRecords : 0)
        return (checkpointLsn, compactedLsn)
    }

    /// The log was emptied (a divergence behind the checkpoint): nothing is
    /// stored until a snapshot arrives.
    public mutating func reset(checkpointLsn: UInt64 = 0, compactedLsn: UInt64 = 0) {
        self = LogCompaction(everyRecords: everyRecords, retainedRecords: retainedRecords, checkpointLsn: checkpointLsn,
                             compactedLsn: compactedLsn)
    }
}
