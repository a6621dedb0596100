/// What a `Replica` asks its shell to do.
///
/// The shell performs the effects of one step **in the order given**, and
/// an effect that makes something durable (`persistTerm`, `truncate`,
/// `discardLog`, `installSnapshot`;
/// `write` once its `flushed` is reported) completes before any later
/// `send` leaves the node: a peer is never told what this node could forget
/// in a crash.
public enum ReplicaEffect: Equatable {
    /// Store the term durably.
    case persistTerm(UInt64)
    /// Standby: in one durable step, move the log's entries after `lsn` into
    /// the reconciliation queue and remove them from the log (state rebuilt
    /// from what remains).
    case truncate(after: UInt64)
    /// Standby: in one durable step, move the log's entries after `lsn` into
    /// the reconciliation queue and remove the whole log, state and
    /// checkpoint (the divergence lies behind the checkpoint, so the state
    /// at `lsn` is gone): the node waits empty for a snapshot.
    case discardLog(queueAfter: UInt64)
    /// Standby: the primary's log leaves this one at `matchLsn`, behind the
    /// log this node compacted through `compactedLsn`: the records after the
    /// match point live only in the checkpoint and could not be reconciled,
    /// so the node neither truncates nor follows. Say so (an operator must
    /// choose which node's history to keep).
    case refuseDivergence(matchLsn: UInt64, compactedLsn: UInt64)
    /// Store the state as of `lsn` (the newest LSN: what the state holds
    /// now) and remove the log through `compactThrough`, in one
    /// transaction, in order with the writes before it.
    case checkpoint(lsn: UInt64, compactThrough: UInt64)
    /// Standby: append these entries to the log; report `flushed` when durable.
    case write([ReplicatedEntry])
    case send(ReplicationMessage)
    /// Primary: send the entries `(prevLsn, throughLsn]` of the log as one
    /// `append` message with these fields.
    case sendAppend(session: UInt64, prevLsn: UInt64, prevTerm: UInt64, throughLsn: UInt64, commitLsn: UInt64)
    /// Standby: send the reconciliation queue's oldest part as one
    /// `reconcile` message (the shell picks the part and numbers its round).
    case sendReconcile(session: UInt64)
    /// Primary: apply these records of the peer again, skipping what is
    /// already here (by grant ID), then report `reconciled` of `round`.
    case reconcile(session: UInt64, entries: [ReplicatedEntry], round: UInt64)
    /// A standby just promoted: apply its own reconciliation queue (skipping
    /// what is already here), then empty the queue.
    case reconcileOwnQueue
    /// Standby: what the last `reconcile` sent is in the log now: remove it
    /// from the queue (and report `reconcileQueueRemains` if more is queued).
    case clearReconcileQueue
    /// Primary: make a snapshot of the store (in order after the writes
    /// before it) and report `snapshotPrepared` with its size.
    case prepareSnapshot(session: UInt64)
    /// Primary: send bytes `offset..<offset + count` of the prepared
    /// snapshot, as snapshot `id`.
    case sendSnapshotChunk(session: UInt64, id: UInt64, offset: UInt64, count: UInt64, totalBytes: UInt64)
    /// Primary: the standby holds the whole snapshot; its file may go.
    case snapshotSent(session: UInt64)
    /// Standby: write these bytes at `offset` of the incoming snapshot (0
    /// starts a new one).
    case writeSnapshotChunk(offset: UInt64, bytes: [UInt8])
    /// Standby: check the complete incoming snapshot and make it the store,
    /// keeping this node's term and reconciliation queue; then report
    /// `installedSnapshot` (or `snapshotRefused`).
    case installSnapshot(totalBytes: UInt64)
    /// The role or term changed: serve (primary) or redirect (standby).
    case roleChanged(Replica.Role, term: UInt64)
    /// Primary: answer the clients whose records are at or before `lsn`.
    case ackClients(upTo: UInt64)
    /// Send `claim` to the witness and report its answer (or that none
    /// came) with `witnessAnswered`; a release needs no report.
    case askWitness(WitnessClaim)
}
