import WireFormat

/// Checkpoints, and snapshots for a standby whose log starts before the
/// primary's retained log (a new, empty standby; one that was away long;
/// one whose divergence lay behind its checkpoint).
extension Replica {
    // MARK: Checkpoints

    /// A checkpoint when one is due; none while a snapshot is on its way,
    /// so the log the snapshot ends with is still there when the standby
    /// says hello again.
    mutating func checkpointIfDue() -> [ReplicaEffect] {
        guard peer?.snapshot == nil, incomingSnapshot == nil,
              let due = compaction.next(lastLsn: history.lastLsn, sharedLsn: sharedLsn) else { return [] }
        return [.checkpoint(lsn: due.checkpointLsn, compactThrough: due.compactThrough)]
    }

    /// Records that the log through `lsn` is on both nodes.
    mutating func shared(through lsn: UInt64) {
        sharedLsn = max(sharedLsn, min(lsn, flushedLsn))
    }

    // MARK: Primary

    /// The standby's log (matching through its end, `lsn`) starts before
    /// this node's retained log: send it a snapshot.
    mutating func startSnapshot(session: UInt64) -> [ReplicaEffect] {
        snapshotsStarted += 1
        peer = Peer(session: session, flushedLsn: 0, sentLsn: 0, lastHeardMs: nowMs,
                    snapshot: SnapshotTransfer(id: incarnation &+ snapshotsStarted, lastProgressMs: nowMs))
        // A standby without the log does not count for acknowledgements:
        // the degrade clock keeps running.
        if standbyLostSinceMs == nil { standbyLostSinceMs = nowMs }
        // The heartbeat attaches the standby, so it waits for the snapshot.
        return [.send(.heartbeat(term: term, session: session, commitLsn: commitLsn, sentLsn: 0, sentAtMs: heartbeatTimeMs)),
                .prepareSnapshot(session: session)]
    }

    /// Primary: the snapshot for `session` is ready, `totalBytes` long.
    public mutating func snapshotPrepared(session: UInt64, totalBytes: UInt64) -> [ReplicaEffect] {
        defer { checkInvariants() }
        guard role == .primary, var peer, peer.session == session, var transfer = peer.snapshot, transfer.totalBytes == nil,
              totalBytes > 0 else { return [] }
        transfer.totalBytes = totalBytes
        transfer.lastProgressMs = nowMs
        peer.snapshot = transfer
        self.peer = peer
        return sendSnapshotChunks()
    }

    mutating func receiveSnapshotAck(session: UInt64, receivedBytes: UInt64) -> [ReplicaEffect] {
        guard var peer, peer.session == session, var transfer = peer.snapshot else { return [] }
        peer.lastHeardMs = nowMs
        transfer.reportedBytes = receivedBytes
        peer.snapshot = transfer
        // The standby may hold more than this node sent since it went back
        // (a stall resent from a lower, stale report): those bytes are this
        // transfer's too, and the next chunk follows them.
        if receivedBytes > transfer.ackedBytes, let total = transfer.totalBytes, receivedBytes <= total {
            transfer.ackedBytes = receivedBytes
            transfer.sentBytes = max(transfer.sentBytes, receivedBytes)
            transfer.lastProgressMs = nowMs
            peer.snapshot = transfer
            self.peer = peer
            if transfer.isComplete { return [.snapshotSent(session: session)] }
            return sendSnapshotChunks()
        }
        self.peer = peer
        return []
    }

    /// Primary: the snapshot for `session` could not be made (the shell
    /// said why): drop the standby, which then says hello again and so
    /// asks for a new one.
    public mutating func snapshotUnavailable(session: UInt64) -> [ReplicaEffect] {
        defer { checkInvariants() }
        guard role == .primary, let peer, peer.session == session, peer.snapshot != nil else { return [] }
        self.peer = nil
        return [.send(.heartbeat(term: term, session: 0, commitLsn: commitLsn, sentLsn: 0, sentAtMs: heartbeatTimeMs))]
    }

    /// Sends chunks up to the window past what the standby acknowledged.
    mutating func sendSnapshotChunks() -> [ReplicaEffect] {
        guard var peer, var transfer = peer.snapshot, let total = transfer.totalBytes else { return [] }
        var effects: [ReplicaEffect] = []
        let windowEnd = transfer.ackedBytes + config.snapshotChunkBytes * config.snapshotWindowChunks
        while transfer.sentBytes < min(total, windowEnd) {
            let count = min(config.snapshotChunkBytes, total - transfer.sentBytes)
            effects.append(.sendSnapshotChunk(session: peer.session, id: transfer.id, offset: transfer.sentBytes, count: count, totalBytes: total))
            transfer.sentBytes += count
        }
        peer.snapshot = transfer
        self.peer = peer
        return effects
    }

    /// A transfer that made no progress for a failover timeout (a lost
    /// chunk or ack) goes back to what the standby acknowledged, or to what
    /// it last said it holds if that is less (it started over).
    mutating func resendStalledSnapshot() -> [ReplicaEffect] {
        guard var peer, var transfer = peer.snapshot, transfer.totalBytes != nil, !transfer.isComplete,
              nowMs - transfer.lastProgressMs >= config.failoverTimeoutMs else { return [] }
        transfer.ackedBytes = min(transfer.ackedBytes, transfer.reportedBytes ?? transfer.ackedBytes)
        transfer.sentBytes = transfer.ackedBytes
        transfer.lastProgressMs = nowMs
        peer.snapshot = transfer
        self.peer = peer
        return sendSnapshotChunks()
    }

    // MARK: Standby

    mutating func receiveSnapshotChunk(session: UInt64, id: UInt64, offset: UInt64, totalBytes: UInt64, bytes: [UInt8]) -> [ReplicaEffect] {
        lastHeardMs = nowMs
        guard session == self.session, role == .standby else { return [] }
        // A new transfer starts over (a restarted primary answered the same
        // hello); a late duplicate of the first chunk of this one does not.
        if offset == 0, incomingSnapshot?.id != id {
            incomingSnapshot = IncomingSnapshot(id: id, totalBytes: totalBytes, receivedBytes: 0)
        }
        guard var incoming = incomingSnapshot, incoming.id == id, incoming.totalBytes == totalBytes, incoming.receivedBytes == offset else {
            // Out of order (a chunk was lost): say what is here of this
            // transfer, the primary goes back. Bytes of another transfer
            // (an older primary's) are none of this one's: counted as its,
            // they had the primary skip chunks this node never got.
            guard let incomingSnapshot else { return [] }
            let received = incomingSnapshot.id == id ? incomingSnapshot.receivedBytes : 0
            return [.send(.snapshotAck(term: term, session: session, receivedBytes: received))]
        }
        incoming.receivedBytes += UInt64(bytes.count)
        incomingSnapshot = incoming
        var effects: [ReplicaEffect] = [.writeSnapshotChunk(offset: offset, bytes: bytes),
                                        .send(.snapshotAck(term: term, session: session, receivedBytes: incoming.receivedBytes))]
        if incoming.receivedBytes == totalBytes {
            incomingSnapshot = nil
            effects.append(.installSnapshot(totalBytes: totalBytes))
        }
        return effects
    }

    /// Standby: the snapshot is the store now; `history` is its log's,
    /// whose entries through `compactedLsn` are gone and whose state is
    /// stored as of `checkpointLsn`. Says hello with the new log. `nowMs`:
    /// the install took time in which no tick came; the primary, whose
    /// messages waited meanwhile, counts as heard now.
    public mutating func installedSnapshot(history installed: TermHistory, checkpointLsn: UInt64, compactedLsn: UInt64,
                                           nowMs: UInt64) -> [ReplicaEffect] {
        defer { checkInvariants() }
        self.nowMs = max(self.nowMs, nowMs)
        lastHeardMs = self.nowMs
        history = installed
        flushedLsn = installed.lastLsn
        // The primary copied its durable store: all of it is on both nodes.
        commitLsn = installed.lastLsn
        sharedLsn = installed.lastLsn
        compaction.reset(checkpointLsn: checkpointLsn, compactedLsn: compactedLsn)
        guard role == .standby else { return [] }
        // The snapshot may hold what the primary logged the queue's records
        // through (it was copied after their reconciliation): no append
        // follows then to clear the queue.
        return clearReconcileQueueIfHeld() + rehello()
    }

    /// Standby: the snapshot could not be installed (the shell said why):
    /// start over with a new hello.
    public mutating func snapshotRefused() -> [ReplicaEffect] {
        defer { checkInvariants() }
        incomingSnapshot = nil
        guard role == .standby else { return [] }
        return rehello()
    }

    /// Standby: the divergence point lies behind the checkpoint: the state
    /// there cannot be rebuilt, so the node keeps its own records (queued)
    /// and starts empty, to get a snapshot.
    mutating func discardLog(queueAfter matchLsn: UInt64) -> [ReplicaEffect] {
        history = TermHistory()
        peerLogEmpty = false
        flushedLsn = 0
        commitLsn = 0
        sharedLsn = 0
        compaction.reset()
        hasReconcileQueue = true
        reconcileClearAtLsn = nil
        return [.discardLog(queueAfter: matchLsn)]
    }
}
