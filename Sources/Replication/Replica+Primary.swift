/// The primary's side: heartbeats, streaming, acknowledgement, degrading
/// and planned switchover.
extension Replica {
    mutating func tickPrimary() -> [ReplicaEffect] {
        var effects: [ReplicaEffect] = []
        if let peer, nowMs - peer.lastHeardMs >= config.failoverTimeoutMs {
            self.peer = nil
            standbyLostSinceMs = peer.lastHeardMs
        }
        if let since = handingOverSinceMs, nowMs - since >= config.failoverTimeoutMs {
            // The standby did not catch up in time: keep serving.
            handingOverSinceMs = nil
        }
        if let since = unconfirmedSinceMs, nowMs - since >= config.failoverTimeoutMs {
            // No word from the peer: it is gone or cut off, as for any primary.
            unconfirmedSinceMs = nil
        }
        if peer == nil, standbyLostSinceMs == nil { standbyLostSinceMs = nowMs }
        if config.mode == .sync, !degraded, config.degradeAfterMs > 0, let since = standbyLostSinceMs,
           nowMs - since >= config.degradeAfterMs {
            degraded = true
            effects += advanceCommit()
        }
        effects += resendStalledSnapshot()
        if nowMs - lastHeartbeatMs >= config.heartbeatMs {
            lastHeartbeatMs = nowMs
            effects.append(.send(.heartbeat(term: term, session: peer?.session ?? 0, commitLsn: commitLsn, sentLsn: peer?.sentLsn ?? 0,
                                            sentAtMs: heartbeatTimeMs)))
        }
        return effects + renewLeaseIfDue()
    }

    /// A message at this primary's own term.
    mutating func receivePrimary(_ message: ReplicationMessage) -> [ReplicaEffect] {
        switch message {
        case .hello(_, let session, _, let theirs):
            let match = history.matchLsn(with: theirs)
            guard match == theirs.lastLsn else {
                return [.send(.diverged(term: term, session: session, matchLsn: match))]
            }
            // A standby behind the retained log gets a snapshot; so does an
            // empty one when the log is longer than what is retained anyway.
            if match < compaction.compactedLsn || (theirs.lastLsn == 0 && history.lastLsn > config.retainedRecords) {
                // A repeated hello does not start the transfer over.
                if let peer, peer.session == session, peer.snapshot != nil { return [] }
                return startSnapshot(session: session)
            }
            peer = Peer(session: session, flushedLsn: 0, sentLsn: match, lastHeardMs: nowMs)
            standbyLostSinceMs = nil
            // The heartbeat attaches the standby even when there is nothing to send.
            return [.send(.heartbeat(term: term, session: session, commitLsn: commitLsn, sentLsn: match, sentAtMs: heartbeatTimeMs))]
                + streamToPeer()
        case .ack(_, let session, let flushed, let heardAtMs):
            guard var peer, peer.session == session else { return [] }
            peer.lastHeardMs = nowMs
            notePromise(heardAtMs: heardAtMs)
            // A standby waiting for its snapshot acks only to stay attached.
            guard peer.snapshot == nil else {
                self.peer = peer
                return []
            }
            peer.flushedLsn = max(peer.flushedLsn, min(flushed, peer.sentLsn))
            self.peer = peer
            shared(through: peer.flushedLsn)
            standbyLostSinceMs = nil
            if degraded, peer.flushedLsn >= flushedLsn { degraded = false }
            return advanceCommit() + streamToPeer() + handOverIfCaughtUp()
        case .reconcile(_, let session, let entries, let round):
            guard var peer, peer.session == session else { return [] }
            peer.lastHeardMs = nowMs
            self.peer = peer
            return [.reconcile(session: session, entries: entries, round: round)]
        case .snapshotAck(_, let session, let receivedBytes):
            return receiveSnapshotAck(session: session, receivedBytes: receivedBytes)
        case .append, .heartbeat, .diverged, .reconciled, .handover, .snapshotChunk:
            // Only the primary of a term sends these, and that is this node.
            return []
        }
    }

    /// Sends what the standby lacks, within the in-flight window.
    mutating func streamToPeer() -> [ReplicaEffect] {
        guard role == .primary, var peer, peer.snapshot == nil else { return [] }
        var effects: [ReplicaEffect] = []
        while true {
            let windowEnd = peer.flushedLsn + config.inFlightEntriesMax
            let through = min(history.lastLsn, peer.sentLsn + UInt64(config.appendEntriesMax), windowEnd)
            guard through > peer.sentLsn else { break }
            effects.append(.sendAppend(session: peer.session, prevLsn: peer.sentLsn, prevTerm: history.term(at: peer.sentLsn)!,
                                       throughLsn: through, commitLsn: commitLsn))
            peer.sentLsn = through
        }
        self.peer = peer
        return effects
    }

    /// Acknowledges clients up to what the mode allows (with a witness,
    /// only while this primary holds a lease or its standby's promise).
    mutating func advanceCommit() -> [ReplicaEffect] {
        guard holdsWriteAuthority(atMs: nowMs) else { return [] }
        let target: UInt64
        if config.mode == .async || degraded {
            target = flushedLsn
        } else {
            target = min(flushedLsn, peer?.flushedLsn ?? 0)
        }
        guard target > commitLsn else { return [] }
        commitLsn = target
        return [.ackClients(upTo: target)]
    }

    /// Ends a planned switchover once the standby holds the whole log.
    mutating func handOverIfCaughtUp() -> [ReplicaEffect] {
        guard handingOverSinceMs != nil, let peer, peer.flushedLsn >= history.lastLsn, flushedLsn >= history.lastLsn else { return [] }
        return [.send(.handover(term: term, session: peer.session, lastLsn: history.lastLsn))] + releaseLease() + stepDown()
    }
}
