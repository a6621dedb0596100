/// What a `Replica` asks its shell to do.
///
/// The shell performs the effects of one step **in the order given**, and
/// an effect that makes something durable (`persistTerm`, `truncate`;
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
    /// Standby: append these entries to the log; report `flushed` when durable.
    case write([ReplicatedEntry])
    case send(ReplicationMessage)
    /// Primary: send the entries `(prevLsn, throughLsn]` of the log as one
    /// `append` message with these fields.
    case sendAppend(session: UInt64, prevLsn: UInt64, prevTerm: UInt64, throughLsn: UInt64, commitLsn: UInt64)
    /// Standby: send the reconciliation queue, or its oldest part, as one
    /// `reconcile` message.
    case sendReconcile(session: UInt64)
    /// Primary: apply these records of the peer again, skipping what is
    /// already here (by grant ID), then report `reconciled`.
    case reconcile(session: UInt64, entries: [ReplicatedEntry])
    /// A standby just promoted: apply its own reconciliation queue (skipping
    /// what is already here), then empty the queue.
    case reconcileOwnQueue
    /// Standby: what the last `reconcile` sent is in the log now: remove it
    /// from the queue (and report `reconcileQueueRemains` if more is queued).
    case clearReconcileQueue
    /// The role or term changed: serve (primary) or redirect (standby).
    case roleChanged(Replica.Role, term: UInt64)
    /// Primary: answer the clients whose records are at or before `lsn`.
    case ackClients(upTo: UInt64)
}
