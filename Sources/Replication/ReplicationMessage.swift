import WireFormat

/// What two replicas say to each other. Every message carries the sender's
/// term; `session` names one attachment of a standby to a primary (chosen by
/// the standby in its hello), so messages of an older attachment are known
/// as such.
///
/// Invariant: a message is valid on its own; the receiver checks its term
/// and session before it acts on it.
public enum ReplicationMessage: Equatable {
    /// Standby → peer: here is my log; attach me (or, between two standbys
    /// at a cold start, compare logs).
    case hello(term: UInt64, session: UInt64, nodeIndex: Int, history: TermHistory)
    /// Primary → standby: entries after `prevLsn`, whose term is `prevTerm`.
    case append(term: UInt64, session: UInt64, prevLsn: UInt64, prevTerm: UInt64, entries: [ReplicatedEntry], commitLsn: UInt64)
    /// Primary → peer: I am alive; `sentLsn` is the last LSN sent on
    /// `session`; `sentAtMs` is the primary's clock when it sent this (with
    /// a witness; 0 without).
    case heartbeat(term: UInt64, session: UInt64, commitLsn: UInt64, sentLsn: UInt64, sentAtMs: UInt64 = 0)
    /// Standby → primary: everything through `flushedLsn` is durable here;
    /// `heardAtMs` is the `sentAtMs` of the last heartbeat of this session
    /// the standby heard (0: none), which bounds when it may take over
    /// (`WitnessLease`).
    case ack(term: UInt64, session: UInt64, flushedLsn: UInt64, heardAtMs: UInt64 = 0)
    /// Primary → standby: your log differs from mine after `matchLsn`.
    case diverged(term: UInt64, session: UInt64, matchLsn: UInt64)
    /// Standby → primary: records only this node had (its log after a
    /// divergence point), to be applied again by the primary. `round`
    /// numbers this part of the queue (sent again, the same part keeps its
    /// number); 0 to a peer of replication protocol 2 or older, which reads
    /// no number.
    case reconcile(term: UInt64, session: UInt64, entries: [ReplicatedEntry], round: UInt64 = 0)
    /// Primary → standby: the reconciled records of `round` (the number
    /// the `reconcile` carried) are in my log at or before `throughLsn`;
    /// drop your copies once you hold that far.
    case reconciled(term: UInt64, session: UInt64, throughLsn: UInt64, round: UInt64 = 0)
    /// Primary → standby (planned switchover): you hold my whole log
    /// through `lastLsn`; take over.
    case handover(term: UInt64, session: UInt64, lastLsn: UInt64)
    /// Primary → standby: bytes `offset..<offset + bytes.count` of the
    /// snapshot `id` of `totalBytes` (the standby's log starts before the
    /// primary's retained log).
    case snapshotChunk(term: UInt64, session: UInt64, id: UInt64, offset: UInt64, totalBytes: UInt64, bytes: [UInt8])
    /// Standby → primary: the snapshot's first `receivedBytes` are here.
    case snapshotAck(term: UInt64, session: UInt64, receivedBytes: UInt64)

    public var term: UInt64 {
        switch self {
        case .hello(let term, _, _, _), .append(let term, _, _, _, _, _), .heartbeat(let term, _, _, _, _), .ack(let term, _, _, _),
             .diverged(let term, _, _), .reconcile(let term, _, _, _), .reconciled(let term, _, _, _), .handover(let term, _, _),
             .snapshotChunk(let term, _, _, _, _, _), .snapshotAck(let term, _, _):
            return term
        }
    }

    public var session: UInt64 {
        switch self {
        case .hello(_, let session, _, _), .append(_, let session, _, _, _, _), .heartbeat(_, let session, _, _, _),
             .ack(_, let session, _, _), .diverged(_, let session, _), .reconcile(_, let session, _, _),
             .reconciled(_, let session, _, _), .handover(_, let session, _), .snapshotChunk(_, let session, _, _, _, _),
             .snapshotAck(_, let session, _):
            return session
        }
    }

    /// Bytes of records or snapshot data the message carries: what the
    /// limits on queued messages count.
    public var payloadBytes: Int {
        switch self {
        case .append(_, _, _, _, let entries, _), .reconcile(_, _, let entries, _):
            return entries.reduce(0) { $0 + $1.payload.count }
        case .snapshotChunk(_, _, _, _, _, let bytes):
            return bytes.count
        case .hello, .heartbeat, .ack, .diverged, .reconciled, .handover, .snapshotAck:
            return 0
        }
    }
}
