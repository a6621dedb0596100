import WireFormat

/// The replication and failover rules of one node of a main + standby pair,
/// as a state machine without I/O: the shell feeds it ticks, messages and
/// local log events and carries out the effects it returns (in order, see
/// `ReplicaEffect`).
///
/// Invariants:
/// - A node is primary only in terms `t` with `t % 2 == nodeIndex`, so two
///   nodes are never primary in the same term.
/// - The term never decreases, and is persisted before it is used.
/// - A primary acknowledges a record to clients only once it is durable
///   here and, in sync mode, on the standby (unless degraded).
/// - A standby appends an entry only after the entry before it matched.
/// - `commitLsn <= flushedLsn <= history.lastLsn` (LSNs are contiguous:
///   `TermHistory.append` checks each).
/// - `compactedLsn <= checkpointLsn`.
/// - With a witness (`config.witness`), a primary acknowledges and takes
///   writes only while it holds a live lease of its term or a standby's
///   promise (`holdsWriteAuthority`), and a standby takes over on a failure
///   only with the witness's grant of the new term (see `WitnessLease` for
///   why the two never overlap).
/// These are checked after every input (`checkInvariants`).
public struct Replica {
    public enum Role: String, Equatable {
        case primary
        case standby
    }

    /// What a primary knows of its attached standby.
    public struct Peer: Equatable {
        public var session: UInt64
        /// Highest LSN the standby reported durable.
        public var flushedLsn: UInt64
        /// Highest LSN sent on this session.
        public var sentLsn: UInt64
        public var lastHeardMs: UInt64
        /// The standby's log starts before this node's retained log: it
        /// gets a snapshot first, and no appends until it says hello again.
        public var snapshot: SnapshotTransfer?
    }

    public let config: ReplicaConfig
    /// This node's position in `servers` (0 or 1).
    public let nodeIndex: Int
    public internal(set) var role: Role = .standby
    public internal(set) var term: UInt64
    public internal(set) var history: TermHistory
    /// Highest LSN durable on this node.
    public internal(set) var flushedLsn: UInt64
    /// Highest LSN acknowledged to clients (primary) or known committed by
    /// the primary (standby).
    public internal(set) var commitLsn: UInt64
    public internal(set) var nowMs: UInt64
    /// Checkpoints of the state, and how far the log is removed.
    public internal(set) var compaction: LogCompaction
    /// The log through this LSN is durable on both nodes: acknowledged by
    /// the standby (primary) or committed by the primary (standby).
    public internal(set) var sharedLsn: UInt64

    // Primary
    public internal(set) var peer: Peer?
    /// Since when a primary has had no healthy standby (for `degradeAfterMs`).
    public internal(set) var standbyLostSinceMs: UInt64?
    public internal(set) var degraded = false
    /// A planned switchover waits for the standby to hold `lastLsn`.
    public internal(set) var handingOverSinceMs: UInt64?
    /// Since when a primary that ran again after a stall of its own (a
    /// paused process) has not heard its peer: until a message of its term
    /// (or a higher one, which ends its role) or `failoverTimeoutMs` of
    /// silence, it takes no write.
    public internal(set) var unconfirmedSinceMs: UInt64?
    var lastHeartbeatMs: UInt64 = 0
    /// Snapshot transfers started (their IDs follow `incarnation`).
    var snapshotsStarted: UInt64 = 0

    // Witness (see Replica+Witness)
    /// Primary: the witness granted this term's lease, which lets it take
    /// writes until `untilMs` (own clock).
    public internal(set) var lease: Lease?
    /// Primary: the attached standby will not take over before this time
    /// (own clock), by the heartbeat it last acknowledged.
    public internal(set) var standbyPromiseUntilMs: UInt64?
    /// The claim sent and not yet answered, and when it was sent.
    public internal(set) var claimInFlight: (claim: WitnessClaim, sentMs: UInt64)?
    var claimsSent: UInt64 = 0
    var lastClaimMs: UInt64?
    /// When the witness last answered (nil: never since start).
    public internal(set) var witnessAnsweredMs: UInt64?
    /// The highest term the witness said it granted.
    public internal(set) var witnessHighestTerm: UInt64 = 0
    /// Standby: the send time of the last heartbeat heard on this session,
    /// carried back in acks (0: none, or no witness).
    var heardAtMs: UInt64 = 0

    // Standby
    let incarnation: UInt64
    var helloCount: UInt64 = 0
    /// The session of the standby's current hello.
    public internal(set) var session: UInt64
    /// True once the primary answered the current session.
    public internal(set) var attached = false
    /// Last time this standby heard a primary (or a peer about to become one).
    public internal(set) var lastHeardMs: UInt64
    /// When this standby last sent a hello, or (attached) a keepalive ack.
    var lastHelloMs: UInt64?
    /// The primary's log leaves this one at this LSN, behind this node's
    /// compacted log: the node refuses to follow (see `refuseDivergence`).
    public internal(set) var refusedDivergenceLsn: UInt64?
    /// A snapshot the primary is sending on the current session.
    public internal(set) var incomingSnapshot: IncomingSnapshot?
    /// Whether the peer's log was empty when it last told (nil: it has not
    /// told). A node with an empty log promotes only when the peer's is
    /// empty too, or, untold, when it is a new main (`isNewMain`: a new
    /// installation starts with the main): otherwise the peer may hold everything (this
    /// node is new, or waits for a snapshot), and taking over would start a
    /// history without it.
    var peerLogEmpty: Bool?

    /// The main of a store never used: no term taken, nothing queued (a
    /// node that emptied its log for a snapshot is no new main).
    var isNewMain: Bool { nodeIndex == 0 && term <= 1 && !hasReconcileQueue }
    /// The reconciliation queue holds records (the shell says so at start).
    public internal(set) var hasReconcileQueue: Bool
    /// Clear the queue once the log holds this LSN.
    var reconcileClearAtLsn: UInt64?
    /// When the queue was last sent to the primary (to send it again).
    var reconcileSentMs: UInt64?
    public internal(set) var failoversTotal: UInt64 = 0
    /// At the last failover, how long the peer had been silent (the time
    /// it took to notice it was gone).
    public internal(set) var lastFailoverSilenceMs: UInt64?
    /// Time this node did not run (stalls of `config.stallMs` or more),
    /// which its timers did not count.
    public internal(set) var stalledForMsTotal: UInt64 = 0

    /// - Parameters:
    ///   - term: the persisted term.
    ///   - history: the terms of the log as stored.
    ///   - incarnation: a random number, different at each start (sessions).
    ///   - hasReconcileQueue: records are waiting in the reconciliation queue.
    ///   - checkpointLsn: the stored state is as of this LSN.
    ///   - compactedLsn: the stored log holds no entry at or before this LSN.
    public init(config: ReplicaConfig, nodeIndex: Int, term: UInt64, history: TermHistory, incarnation: UInt64,
                hasReconcileQueue: Bool, nowMs: UInt64, checkpointLsn: UInt64 = 0, compactedLsn: UInt64 = 0) {
        precondition(config.validate() == nil, "invalid replica config: \(config.validate()!)")
        precondition(nodeIndex == 0 || nodeIndex == 1, "a pair has nodes 0 and 1")
        self.config = config
        self.nodeIndex = nodeIndex
        self.term = max(term, history.lastTerm)
        self.history = history
        flushedLsn = history.lastLsn
        commitLsn = 0
        self.nowMs = nowMs
        self.incarnation = incarnation
        session = incarnation
        lastHeardMs = nowMs
        self.hasReconcileQueue = hasReconcileQueue
        compaction = LogCompaction(everyRecords: config.checkpointEveryRecords, retainedRecords: config.retainedRecords,
                                   checkpointLsn: checkpointLsn, compactedLsn: compactedLsn)
        sharedLsn = compactedLsn
    }

    /// Whether client and admin writes may be taken now.
    public var acceptsWrites: Bool {
        role == .primary && handingOverSinceMs == nil && unconfirmedSinceMs == nil && holdsWriteAuthority(atMs: nowMs)
    }

    public var lastLsn: UInt64 { history.lastLsn }

    /// Primary: records the attached standby has not flushed yet (nil without one).
    public var standbyLagRecords: UInt64? {
        peer.map { history.lastLsn - min(history.lastLsn, $0.flushedLsn) }
    }

    // MARK: Inputs

    /// Time passes: heartbeats, hellos, failure detection, degrading.
    public mutating func tick(nowMs: UInt64) -> [ReplicaEffect] {
        defer { checkInvariants() }
        advanceClock(to: nowMs)
        switch role {
        case .primary: return tickPrimary()
        case .standby: return tickStandby()
        }
    }

    /// The clock moves to `nowMs` (it never goes back). The shell calls it
    /// before every input, so a message handled before the first tick after
    /// a pause meets the time as it is, not as it was.
    ///
    /// A jump of `config.stallMs` or more since the last input means this
    /// node did not run meanwhile (a paused process, a blocked loop): the
    /// time it missed is not the peer's silence, nor time its standby was
    /// away, so every timer moves forward by it, as if the clock had
    /// stopped with the node. A standby that resumes then hears its primary
    /// (whose messages waited in the socket) before it could take over, and
    /// a primary that resumes does not degrade for the pause.
    public mutating func advanceClock(to nowMs: UInt64) {
        defer { checkInvariants() }
        precondition(nowMs >= self.nowMs, "time never goes back")
        let stalledMs = nowMs - self.nowMs
        self.nowMs = nowMs
        guard stalledMs >= config.stallMs else { return }
        // The standby may have taken over while this node did not run, and
        // the requests waiting in its sockets would be decided before it
        // reads the new term: take no write until the peer is heard again.
        if role == .primary { unconfirmedSinceMs = nowMs }
        stalledForMsTotal += stalledMs
        lastHeardMs += stalledMs
        lastHelloMs? += stalledMs
        lastHeartbeatMs += stalledMs
        reconcileSentMs? += stalledMs
        standbyLostSinceMs? += stalledMs
        handingOverSinceMs? += stalledMs
        peer?.lastHeardMs += stalledMs
        peer?.snapshot?.lastProgressMs += stalledMs
    }

    /// A message from the peer.
    public mutating func receive(_ message: ReplicationMessage) -> [ReplicaEffect] {
        defer { checkInvariants() }
        notePeerLog(message)
        var effects: [ReplicaEffect] = []
        if message.term > term {
            effects += adopt(term: message.term)
        } else if message.term < term {
            // A stale peer learns the current term from the answer.
            return staleReply(to: message)
        }
        // A peer at this term has not taken over: this node is still primary.
        unconfirmedSinceMs = nil
        switch role {
        case .primary: effects += receivePrimary(message)
        case .standby: effects += receiveStandby(message)
        }
        return effects
    }

    /// Remembers whether the peer's log is empty, as far as `message` tells.
    private mutating func notePeerLog(_ message: ReplicationMessage) {
        switch message {
        case .hello(_, _, _, let theirs): peerLogEmpty = theirs.lastLsn == 0
        case .heartbeat(_, _, let commitLsn, let sentLsn, _): if commitLsn > 0 || sentLsn > 0 { peerLogEmpty = false }
        case .append(_, _, _, _, let entries, _): if !entries.isEmpty { peerLogEmpty = false }
        case .diverged, .snapshotChunk, .handover: peerLogEmpty = false
        case .ack, .reconcile, .reconciled, .snapshotAck: break
        }
    }

    /// Primary: records through `lsn` were appended to the local log in
    /// this term (durable or not).
    public mutating func appended(through lsn: UInt64) -> [ReplicaEffect] {
        defer { checkInvariants() }
        precondition(role == .primary, "only a primary appends its own records")
        while history.lastLsn < lsn { history.append(lsn: history.lastLsn + 1, term: term) }
        return streamToPeer()
    }

    /// Records through `position` are durable on this node. A position the
    /// log no longer holds (its entry was truncated since) is ignored.
    public mutating func flushed(through position: LogPosition) -> [ReplicaEffect] {
        defer { checkInvariants() }
        let lsn = position.lsn
        guard lsn > flushedLsn, history.term(at: lsn) == position.term else { return [] }
        flushedLsn = lsn
        switch role {
        case .primary:
            return advanceCommit() + checkpointIfDue()
        case .standby:
            var effects: [ReplicaEffect] = []
            if attached { effects.append(.send(.ack(term: term, session: session, flushedLsn: flushedLsn, heardAtMs: heardAtMs))) }
            return effects + clearReconcileQueueIfHeld() + checkpointIfDue()
        }
    }

    /// Standby: clears the reconciliation queue once this log holds what
    /// the primary said it logged the queue's records through.
    mutating func clearReconcileQueueIfHeld() -> [ReplicaEffect] {
        guard let clearAt = reconcileClearAtLsn, flushedLsn >= clearAt else { return [] }
        reconcileClearAtLsn = nil
        hasReconcileQueue = false
        return [.clearReconcileQueue]
    }

    /// Records are still queued after a round: a standby's queue after a
    /// `clearReconcileQueue` (the shell sends it in messages of a bounded
    /// size), whose next part it sends; a primary's own after a round of
    /// `reconcileOwnQueue`, whose next round it re-applies.
    public mutating func reconcileQueueRemains() -> [ReplicaEffect] {
        defer { checkInvariants() }
        // A primary re-applies its own queue a round at a time.
        if role == .primary { return [.reconcileOwnQueue] }
        guard role == .standby else { return [] }
        hasReconcileQueue = true
        reconcileClearAtLsn = nil
        guard attached else { return [] }
        reconcileSentMs = nowMs
        return [.sendReconcile(session: session)]
    }

    /// Primary: the records of round `round` of a `reconcile` from
    /// `session` are in the log now, at or before `throughLsn`.
    public mutating func reconciled(session: UInt64, throughLsn: UInt64, round: UInt64) -> [ReplicaEffect] {
        defer { checkInvariants() }
        guard role == .primary else { return [] }
        return [.send(.reconciled(term: term, session: session, throughLsn: throughLsn, round: round))] + streamToPeer()
    }

    /// Primary: stop taking writes, wait until the standby holds the whole
    /// log, then hand the term over. Returns nil when there is no standby.
    public mutating func requestSwitchover() -> [ReplicaEffect]? {
        defer { checkInvariants() }
        guard role == .primary, let peer, nowMs - peer.lastHeardMs < config.failoverTimeoutMs else { return nil }
        if handingOverSinceMs == nil { handingOverSinceMs = nowMs }
        return handOverIfCaughtUp()
    }

    /// Traps when a state invariant of the type's doc comment is broken:
    /// checked after every input, in release builds too (a replica that
    /// broke one would acknowledge or stream what it must not).
    func checkInvariants() {
        precondition(commitLsn <= flushedLsn, "commitLsn \(commitLsn) is past flushedLsn \(flushedLsn)")
        precondition(flushedLsn <= history.lastLsn, "flushedLsn \(flushedLsn) is past the log's end \(history.lastLsn)")
        precondition(role == .standby || term % 2 == UInt64(nodeIndex), "node \(nodeIndex) is primary in term \(term) of the other node")
        precondition(term >= history.lastTerm, "term \(term) is behind the log's last term \(history.lastTerm)")
        precondition(compaction.compactedLsn <= compaction.checkpointLsn, "the log is compacted past its checkpoint")
        precondition(unconfirmedSinceMs == nil || role == .primary, "a standby has no role to confirm")
        precondition(lease == nil || (role == .primary && lease!.term == term), "a lease of term \(lease!.term) held in term \(term) as \(role)")
        precondition(standbyPromiseUntilMs == nil || role == .primary, "a standby counts on a promise")
        precondition(config.witness || (lease == nil && standbyPromiseUntilMs == nil), "a lease or promise without a witness")
    }

    // MARK: Term changes

    /// A higher term was seen: take it and follow.
    mutating func adopt(term newTerm: UInt64) -> [ReplicaEffect] {
        term = newTerm
        heardAtMs = 0
        // A `reconciled` answer speaks of the log of the primary of the old
        // term, which may have lost the re-applied records in a crash: the
        // queue is cleared only on the word of this term's primary, so send
        // it again. (ReplicaScenarioTests.
        // testAReconciledAnswerOfAnEarlierTermDoesNotClearTheQueue.)
        reconcileClearAtLsn = nil
        var effects: [ReplicaEffect] = [.persistTerm(newTerm)]
        if role == .primary {
            effects += stepDown()
        } else {
            attached = false
            lastHelloMs = nil
            // A snapshot of the old term's primary is of no use in the new one.
            incomingSnapshot = nil
            effects.append(.roleChanged(.standby, term: term))
        }
        return effects
    }

    mutating func stepDown() -> [ReplicaEffect] {
        role = .standby
        unconfirmedSinceMs = nil
        lease = nil
        standbyPromiseUntilMs = nil
        heardAtMs = 0
        peer = nil
        degraded = false
        standbyLostSinceMs = nil
        handingOverSinceMs = nil
        attached = false
        lastHeardMs = nowMs
        lastHelloMs = nil
        incomingSnapshot = nil
        return [.roleChanged(.standby, term: term)]
    }

    /// The next term of this node's own (`t % 2 == nodeIndex`) above `term`.
    var nextOwnTerm: UInt64 {
        var next = term + 1
        if next % 2 != UInt64(nodeIndex) { next += 1 }
        return next
    }

    /// - Parameters:
    ///   - newTerm: the term to take (the witness granted it); by default
    ///     the next of this node's own.
    ///   - peerLost: the promotion is a failover: the peer, which
    ///     was primary, has been silent for `failoverTimeoutMs`. A sync primary
    ///     then answers alone at once (unless it must never degrade): the only
    ///     node that could be its standby is the one that just failed, and
    ///     waiting `degradeAfterMs` for it would only lengthen the outage.
    mutating func promote(to newTerm: UInt64? = nil, peerLost: Bool = false) -> [ReplicaEffect] {
        term = newTerm ?? nextOwnTerm
        precondition(term % 2 == UInt64(nodeIndex), "node \(nodeIndex) promoted to term \(term) of the other node")
        role = .primary
        lease = nil
        standbyPromiseUntilMs = nil
        heardAtMs = 0
        failoversTotal += 1
        attached = false
        incomingSnapshot = nil
        peer = nil
        degraded = peerLost && config.mode == .sync && config.degradeAfterMs > 0
        if peerLost { lastFailoverSilenceMs = nowMs - lastHeardMs }
        standbyLostSinceMs = nowMs
        lastHeartbeatMs = nowMs
        // Everything this node holds is part of the new primary's log.
        commitLsn = max(commitLsn, flushedLsn)
        var effects: [ReplicaEffect] = [.persistTerm(term), .roleChanged(.primary, term: term)]
        if hasReconcileQueue {
            // The primary that was to re-apply the queue is gone: do it here.
            hasReconcileQueue = false
            reconcileClearAtLsn = nil
            effects.append(.reconcileOwnQueue)
        }
        return effects + [.send(.heartbeat(term: term, session: 0, commitLsn: commitLsn, sentLsn: 0, sentAtMs: heartbeatTimeMs))]
    }

    /// An answer that carries this node's higher term to a stale sender.
    private func staleReply(to message: ReplicationMessage) -> [ReplicaEffect] {
        switch role {
        // Session 0 names no attachment: the stale node must say hello again
        // in this term before anything it is sent counts.
        case .primary: return [.send(.heartbeat(term: term, session: 0, commitLsn: commitLsn, sentLsn: 0, sentAtMs: heartbeatTimeMs))]
        case .standby: return [.send(.hello(term: term, session: session, nodeIndex: nodeIndex, history: history))]
        }
    }
}
