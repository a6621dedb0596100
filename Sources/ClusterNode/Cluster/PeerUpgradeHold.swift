import Replication

/// A primary's hold on a standby whose lts cannot read what the primary
/// would stream it (a log record of a newer kind, a snapshot of a newer
/// format or schema), as it stated when it dialed (`ReplicationReads`).
///
/// While held, the standby is sent nothing it cannot read, and its hellos,
/// acknowledgements, reconciliation records and snapshot acknowledgements
/// (at this primary's term or lower) are not handed to the replica: to the
/// primary the standby is gone (sync mode degrades under its rule), while
/// the primary's heartbeats still reach it, so it does not take over. A
/// message at a higher term always passes: a newer primary is never
/// ignored.
///
/// Invariants: `held` is set only on a primary, and only for the reads the
/// peer stated then; it ends when the node stops being primary or the
/// peer's stream states other reads (an upgraded standby), whereupon the
/// next stream is checked again.
struct PeerUpgradeHold {
    /// What the held standby reads, where the log stopped being readable
    /// for it, and why, as a sentence.
    struct Held: Equatable {
        var reads: ReplicationReads
        var reason: String
    }

    private(set) var held: Held?

    /// The held reason, while `peerReads` are those held.
    func reason(peerReads: ReplicationReads?) -> String? {
        guard let held, held.reads == peerReads else { return nil }
        return held.reason
    }

    /// Checks entries about to be streamed to a standby that reads
    /// `peerReads`; `regrantLsns` are those of re-grants (grant records of
    /// a grant the log holds, voided), which a store older than
    /// `LicenseStore.regrantsSchemaVersion` cannot apply.
    /// - Returns: a new hold's reason (to log) when one starts; `streamable`
    ///   is false when the entries must not be sent.
    mutating func check(entries: [ReplicatedEntry], peerReads: ReplicationReads,
                        regrantLsns: Set<UInt64> = []) -> (streamable: Bool, newHold: String?) {
        if reason(peerReads: peerReads) != nil { return (false, nil) }
        if peerReads.schemaVersionMax < LicenseStore.regrantsSchemaVersion, !regrantLsns.isEmpty,
           let regrant = entries.first(where: { regrantLsns.contains($0.lsn) }) {
            return (false, hold(peerReads, because: "the standby runs an lts of replication \(peerReads), and the log holds at lsn \(regrant.lsn) a grant reconciliation made live again, which a store of schema \(peerReads.schemaVersionMax) cannot apply"))
        }
        guard let (entry, tag) = peerReads.firstUnreadable(entries) else { return (true, nil) }
        let what = tag.map { "a record of tag \($0)" } ?? "a record without a tag"
        return (false, hold(peerReads, because: "the standby runs an lts of replication \(peerReads), and the log holds \(what) at lsn \(entry.lsn)"))
    }

    /// Checks a snapshot (a store of `schema` whose state is in snapshot
    /// `format`, whose log may hold records up to `recordTagMax`) about to
    /// be sent to a standby that reads `peerReads`.
    /// - Returns: as `check(entries:peerReads:)`.
    mutating func checkSnapshot(format: UInt64, schema: UInt64, recordTagMax: UInt64,
                                peerReads: ReplicationReads) -> (streamable: Bool, newHold: String?) {
        if reason(peerReads: peerReads) != nil { return (false, nil) }
        guard !peerReads.readsSnapshots(format: format, schema: schema) || peerReads.recordTagMax < recordTagMax else {
            return (true, nil)
        }
        return (false, hold(peerReads, because: "the standby runs an lts of replication \(peerReads), and needs a snapshot of format \(format), store schema \(schema), with records up to tag \(recordTagMax)"))
    }

    /// Whether `message` from a peer that reads `peerReads` is kept from
    /// the replica of a primary at `term`.
    func drops(_ message: ReplicationMessage, peerReads: ReplicationReads?, term: UInt64) -> Bool {
        guard reason(peerReads: peerReads) != nil, message.term <= term else { return false }
        switch message {
        case .hello, .ack, .reconcile, .snapshotAck: return true
        case .append, .heartbeat, .diverged, .reconciled, .handover, .snapshotChunk: return false
        }
    }

    /// Ends the hold (this node is no longer primary).
    mutating func release() {
        held = nil
    }

    private mutating func hold(_ reads: ReplicationReads, because reason: String) -> String {
        held = Held(reads: reads, reason: reason)
        return reason
    }
}
