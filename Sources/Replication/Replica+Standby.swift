import WireFormat

/// The standby's side: attaching, appending, failure detection, rejoining
/// after a divergence and the cold start.
extension Replica {
    mutating func tickStandby() -> [ReplicaEffect] {
        if mayTakeOver {
            // With a witness, only its grant of the term promotes (`witnessAnswered`).
            guard config.witness else { return promote(peerLost: true) }
            return claimTermIfDue()
        }
        guard lastHelloMs.map({ nowMs - $0 >= config.heartbeatMs }) ?? true else { return [] }
        lastHelloMs = nowMs
        // Attached, the ack doubles as this standby's heartbeat: without it
        // an idle primary would take its standby for lost.
        var effects: [ReplicaEffect] = [.send(attached ? .ack(term: term, session: session, flushedLsn: flushedLsn, heardAtMs: heardAtMs) : hello)]
        // A lost `reconcile` (a dropped connection) is not detected by
        // anything else, and the queue would wait forever: send it again
        // until `reconciled` answers. (ReplicaScenarioTests.testALostReconcileIsSentAgain.)
        if attached, hasReconcileQueue, reconcileClearAtLsn == nil, let sentMs = reconcileSentMs,
           nowMs - sentMs >= config.failoverTimeoutMs {
            reconcileSentMs = nowMs
            effects.append(.sendReconcile(session: session))
        }
        return effects
    }

    /// The primary has been silent for `failoverTimeoutMs`, and this node
    /// may lead: its log holds something, or the peer's is empty too (or,
    /// untold, this is a new main).
    var mayTakeOver: Bool {
        role == .standby && nowMs - lastHeardMs >= config.failoverTimeoutMs && (history.lastLsn > 0 || (peerLogEmpty ?? isNewMain))
    }

    private var hello: ReplicationMessage {
        .hello(term: term, session: session, nodeIndex: nodeIndex, history: history)
    }

    /// Starts a new attachment: messages of the old one are ignored from now.
    mutating func rehello() -> [ReplicaEffect] {
        helloCount += 1
        session = incarnation &+ helloCount
        attached = false
        heardAtMs = 0
        incomingSnapshot = nil
        lastHelloMs = nowMs
        return [.send(hello)]
    }

    /// A message at this standby's own term.
    mutating func receiveStandby(_ message: ReplicationMessage) -> [ReplicaEffect] {
        switch message {
        case .heartbeat(_, let session, let commit, let sentLsn, let sentAtMs):
            lastHeardMs = nowMs
            // Session 0: the primary has no standby (it took this one for
            // lost, or attached a stale hello of an older session that then
            // went silent). Keepalives on a session it dropped would be
            // ignored forever: say hello again. (ReplicaScenarioTests.
            // testAnAttachedStandbySaysHelloAgainWhenThePrimaryNamesNoSession.)
            if session == 0, attached { return rehello() }
            guard session == self.session else { return [] }
            if config.witness { heardAtMs = max(heardAtMs, sentAtMs) }
            var effects = attachIfNeeded()
            commitLsn = max(commitLsn, min(commit, flushedLsn))
            shared(through: commitLsn)
            // Appends travel before the heartbeat that counts them: less here means one was lost.
            if history.lastLsn < sentLsn { effects += rehello() }
            return effects
        case .append(_, let session, let prevLsn, let prevTerm, let entries, let commit):
            lastHeardMs = nowMs
            guard session == self.session else { return [] }
            var effects = attachIfNeeded()
            guard prevLsn <= history.lastLsn, history.term(at: prevLsn) == prevTerm else { return effects + rehello() }
            var fresh: [ReplicatedEntry] = []
            for entry in entries {
                if entry.lsn <= history.lastLsn {
                    guard history.term(at: entry.lsn) == entry.term else { return effects + rehello() }
                    continue
                }
                guard entry.term >= history.lastTerm, entry.term <= term else { return effects + rehello() }
                history.append(lsn: entry.lsn, term: entry.term)
                fresh.append(entry)
            }
            commitLsn = max(commitLsn, min(commit, flushedLsn))
            shared(through: commitLsn)
            if !fresh.isEmpty { effects.append(.write(fresh)) }
            return effects
        case .diverged(_, let session, let matchLsn):
            lastHeardMs = nowMs
            guard session == self.session, matchLsn < history.lastLsn else { return [] }
            if matchLsn < compaction.compactedLsn {
                // Records after the match point live only in the checkpoint:
                // they could not be reconciled. Follow nothing, lose nothing.
                refusedDivergenceLsn = matchLsn
                return [.refuseDivergence(matchLsn: matchLsn, compactedLsn: compaction.compactedLsn)]
            }
            if matchLsn < compaction.checkpointLsn { return discardLog(queueAfter: matchLsn) + rehello() }
            history.truncate(after: matchLsn)
            flushedLsn = min(flushedLsn, matchLsn)
            commitLsn = min(commitLsn, matchLsn)
            hasReconcileQueue = true
            reconcileClearAtLsn = nil
            return [.truncate(after: matchLsn)] + rehello()
        case .reconciled(_, let session, let throughLsn, _):
            // Its round is the one on the wire: the shell dropped others.
            guard session == self.session, hasReconcileQueue else { return [] }
            reconcileClearAtLsn = throughLsn
            guard flushedLsn >= throughLsn else { return [] }
            reconcileClearAtLsn = nil
            hasReconcileQueue = false
            return [.clearReconcileQueue]
        case .handover(_, let session, let lastLsn):
            guard session == self.session, flushedLsn >= lastLsn else { return [] }
            return promote()
        case .hello(_, _, let peerIndex, let theirs):
            // Two standbys (cold start, or just after a handover): the longer
            // log leads (on a tie, node 0) by the usual timeout, and the
            // other yields while it hears it. Promoting at once on a hello
            // would let a stale one, delivered late, depose a live primary.
            let mine = history.last
            // A hello at this term means the peer is a standby too (it
            // restarted, or handed over): any attachment to it is over. Say
            // hello from the next tick, so that it learns this log; an
            // attached standby sends only acks, and two empty standbys
            // would each wait for the other to lead.
            if attached {
                attached = false
                lastHelloMs = nil
            }
            if theirs.last > mine || (theirs.last == mine && peerIndex < nodeIndex) { lastHeardMs = nowMs }
            return []
        case .snapshotChunk(_, let session, let id, let offset, let totalBytes, let bytes):
            return receiveSnapshotChunk(session: session, id: id, offset: offset, totalBytes: totalBytes, bytes: bytes)
        case .ack, .reconcile, .snapshotAck:
            return []
        }
    }

    private mutating func attachIfNeeded() -> [ReplicaEffect] {
        guard !attached else { return [] }
        attached = true
        refusedDivergenceLsn = nil
        var effects: [ReplicaEffect] = [.send(.ack(term: term, session: session, flushedLsn: flushedLsn, heardAtMs: heardAtMs))]
        if hasReconcileQueue, reconcileClearAtLsn == nil {
            reconcileSentMs = nowMs
            effects.append(.sendReconcile(session: session))
        }
        return effects
    }
}
