import WireFormat

/// What a node gives its `ReplicaShell`: the log and store, the link to the
/// peer, the clients waiting for answers and the snapshot files. The real
/// node (`ClusterDriver`) and the deterministic simulation
/// (`SimulatedNode`) each implement it; everything else about carrying out
/// `ReplicaEffect`s is the shell's, and so runs the same in both.
///
/// Contract:
/// - Every call comes from the shell's one thread (the node's loop), and
///   every `done` is called on it too, once, and never from within the call
///   that was given it (the shell is not re-entered).
/// - A durable step (`persistTerm`, `truncate`, `discardLog`,
///   `installSnapshot`) completes after every write queued before it.
/// - Appends (`write`, and records the host logs on its own) are reported
///   durable through `ReplicaShell.flushed(through:)`, in log order.
public protocol ReplicaHost: AnyObject {
    /// Local time, from the clock the ticks come from, read at each call:
    /// not a loop's time cached when its pass began, which callbacks
    /// earlier in the pass may have made stale (a lease then looks held
    /// after it ran out).
    var nowMs: UInt64 { get }
    /// The highest LSN in this node's log, durable or not. It grows when
    /// the node logs records of its own (client writes, reconciliation),
    /// which the shell then reports to the replica.
    var loggedLsn: UInt64 { get }

    // MARK: Durable steps

    func persistTerm(_ term: UInt64, done: @escaping () -> Void)
    /// Moves the log's entries after `lsn` into the reconciliation queue,
    /// in one durable step.
    func truncate(after lsn: UInt64, done: @escaping () -> Void)
    /// Moves the entries after `lsn` into the reconciliation queue and
    /// empties log, state and checkpoint, in one durable step.
    func discardLog(queueAfter lsn: UInt64, done: @escaping () -> Void)
    /// Checks the complete incoming snapshot of `totalBytes` and makes it
    /// the store, keeping the term and the reconciliation queue.
    func installSnapshot(totalBytes: UInt64, done: @escaping (Result<InstalledSnapshot, Error>) -> Void)

    // MARK: The log

    /// Whether the records of an arriving `append` can be applied; one that
    /// cannot is dropped before the replica sees it.
    func accepts(_ entries: [ReplicatedEntry]) -> Bool
    /// Standby: appends entries the replica accepted (reported durable later).
    func write(_ entries: [ReplicatedEntry])
    /// The log's entries `(lsn, throughLsn]` as they are now, or nil when
    /// they cannot be read (the host says why).
    func entries(after lsn: UInt64, through throughLsn: UInt64) -> [ReplicatedEntry]?
    /// Stores the state as of `lsn` and removes the log through
    /// `compactThrough`, in order with the writes before it.
    func checkpoint(lsn: UInt64, compactThrough: UInt64)

    // MARK: Reconciliation

    /// Standby: the primary reads a reconciliation round's number
    /// (replication protocol 3 or later), so its queue may go in rounds.
    var peerNumbersReconcileRounds: Bool { get }
    /// Standby: the oldest entries of the reconciliation queue, at most `limit`.
    func reconcileQueue(limit: Int) -> [ReplicatedEntry]
    /// Standby: removes the first `count` entries of the queue (those the
    /// last `reconcile` carried); `remains` tells whether more are queued.
    func clearReconcileQueue(first count: Int, done: @escaping (_ remains: Bool) -> Void)
    /// Primary: logs again, as new records, the peer's records this log
    /// lacks (by the reconciliation policy); `loggedLsn` grows accordingly.
    /// A grant the log lacks is one neither `reapplied` nor the store
    /// holds; each grant logged again goes into `reapplied`.
    func reapply(_ entries: [ReplicatedEntry], reapplied: inout ReappliedRecords)
    /// A primary (just promoted, or a round ago): logs again what the
    /// oldest `limit` records of its own queue hold that the log lacks (as
    /// `reapply` judges it), removes them from the queue, and once that
    /// removal is durable calls `done`, whose `remains` tells whether more
    /// are queued (nothing when the queue is empty).
    func reapplyOwnQueue(limit: Int, reapplied: inout ReappliedRecords, done: @escaping (_ remains: Bool) -> Void)

    // MARK: The peer and the clients

    func send(_ message: ReplicationMessage)
    /// Serve (primary) or refuse and redirect (standby); a node that stops
    /// being primary answers its waiting clients with a refusal.
    func roleChanged(_ role: Replica.Role, term: UInt64)
    /// Answers the clients whose records are at or before `lsn`.
    func acknowledge(upTo lsn: UInt64)
    /// Says that the primary's log leaves this one behind its compacted log.
    func refuseDivergence(matchLsn: UInt64, compactedLsn: UInt64)

    // MARK: The witness

    /// Sends `claim` to the witness. Unless it is a release, the host
    /// reports the answer, or that none came within its timeout, through
    /// `ReplicaShell.witnessAnswered` exactly once (never from within this
    /// call). Only called with a witness configured.
    func askWitness(_ claim: WitnessClaim)

    // MARK: Snapshots

    /// Primary: copies the store (in order after the writes before it) and
    /// keeps the copy open for reading; `done` gives its size.
    func prepareSnapshot(done: @escaping (Result<UInt64, Error>) -> Void)
    /// Primary: bytes of the prepared snapshot, or nil when they cannot be
    /// read (the host says why).
    func readSnapshot(offset: UInt64, count: UInt64) -> [UInt8]?
    /// Primary: the prepared snapshot is no longer needed (`delivered`: the
    /// standby holds it whole).
    func releaseOutgoingSnapshot(delivered: Bool)
    /// Standby: writes bytes at `offset` of the incoming snapshot (0 starts
    /// a new one); false when they could not be written.
    func writeSnapshot(offset: UInt64, bytes: [UInt8]) -> Bool
    /// Standby: the incoming snapshot will not be installed.
    func releaseIncomingSnapshot()

    // MARK: Observation

    /// A primary's replica learned of records through `lsn` (with a standby
    /// attached or not).
    func observeAppended(through lsn: UInt64, peerAttached: Bool)
    /// The attached standby's flushed LSN changed (nil: no standby now).
    func observePeerFlushed(_ flushedLsn: UInt64?)
}

/// What an installed snapshot holds: the replica restarts its log from it.
public struct InstalledSnapshot {
    public var history: TermHistory
    public var checkpointLsn: UInt64
    public var compactedLsn: UInt64

    public init(history: TermHistory, checkpointLsn: UInt64, compactedLsn: UInt64) {
        self.history = history
        self.checkpointLsn = checkpointLsn
        self.compactedLsn = compactedLsn
    }
}

public extension ReplicaHost {
    func observeAppended(through lsn: UInt64, peerAttached: Bool) {}
    func observePeerFlushed(_ flushedLsn: UInt64?) {}
}
