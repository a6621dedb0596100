/// The witness's part: claiming terms, renewing the lease, counting the
/// standby's promise, and the rule that a primary without either takes and
/// acknowledges no write. Without a witness none of this runs.
extension Replica {
    /// A term's lease the witness granted this primary.
    public struct Lease: Equatable {
        public var term: UInt64
        /// Writes may be taken until this time of this node's clock.
        public var untilMs: UInt64
    }

    /// Whether this node may take and acknowledge writes at `nowMs` of its
    /// clock: it is primary and, with a witness, holds a live lease of its
    /// term or its standby's promise not to take over.
    public func holdsWriteAuthority(atMs nowMs: UInt64) -> Bool {
        guard role == .primary else { return false }
        guard config.witness else { return true }
        if let lease, lease.term == term, nowMs < lease.untilMs { return true }
        if let standbyPromiseUntilMs, nowMs < standbyPromiseUntilMs { return true }
        return false
    }

    /// The time a heartbeat carries (only with a witness: see `WitnessLease`).
    var heartbeatTimeMs: UInt64 { config.witness ? nowMs : 0 }

    /// Primary: an ack of the attached standby carried back the send time of
    /// the last heartbeat it heard; it will not take over for
    /// `standbyPromiseMs` after that.
    mutating func notePromise(heardAtMs: UInt64) {
        guard config.witness, heardAtMs > 0, heardAtMs <= nowMs else { return }
        standbyPromiseUntilMs = max(standbyPromiseUntilMs ?? 0, heardAtMs + config.standbyPromiseMs)
    }

    /// Primary: renews the lease of its term once a heartbeat interval.
    mutating func renewLeaseIfDue() -> [ReplicaEffect] {
        guard config.witness, role == .primary else { return [] }
        return claimIfDue(term: term)
    }

    /// Standby that may take over: asks the witness for its next term.
    /// A term the witness granted to the other node counts as seen.
    mutating func claimTermIfDue() -> [ReplicaEffect] {
        claimIfDue(term: nextOwnTerm)
    }

    /// Sends a claim of `term`, unless one is in flight or the last went
    /// less than a heartbeat interval ago.
    private mutating func claimIfDue(term claimed: UInt64) -> [ReplicaEffect] {
        guard claimInFlight == nil, lastClaimMs.map({ nowMs - $0 >= config.heartbeatMs }) ?? true else { return [] }
        claimsSent += 1
        let claim = WitnessClaim(id: claimsSent, node: nodeIndex, term: claimed, holdMs: config.leaseHoldMs)
        claimInFlight = (claim, nowMs)
        lastClaimMs = nowMs
        return [.askWitness(claim)]
    }

    /// A primary handing its term over gives up its lease, so that the
    /// witness grants the next term without waiting for it to run out.
    mutating func releaseLease() -> [ReplicaEffect] {
        guard config.witness else { return [] }
        return release(term: term)
    }

    /// Gives up `released`, a term of this node the witness granted.
    private mutating func release(term released: UInt64) -> [ReplicaEffect] {
        claimsSent += 1
        return [.askWitness(WitnessClaim(id: claimsSent, node: nodeIndex, term: released, holdMs: config.leaseHoldMs, release: true))]
    }

    /// The witness answered `claim` (nil: no answer came, the witness is
    /// unreachable or slow).
    ///
    /// - A grant of this primary's term renews its lease, counted from
    ///   when the claim was sent.
    /// - A grant of a new term promotes a standby that still may take over
    ///   (its primary stayed silent meanwhile); one it can no longer use (it
    ///   heard its primary again) is released at once.
    /// - A refusal naming a higher term ends a primary's role and moves a
    ///   standby's next claim above it.
    public mutating func witnessAnswered(_ claim: WitnessClaim, _ answer: WitnessAnswer?) -> [ReplicaEffect] {
        defer { checkInvariants() }
        guard !claim.release, let inFlight = claimInFlight, inFlight.claim.id == claim.id else { return [] }
        claimInFlight = nil
        guard let answer else { return [] }
        witnessAnsweredMs = nowMs
        witnessHighestTerm = max(witnessHighestTerm, answer.highestTerm)
        guard answer.granted else {
            return answer.highestTerm > term ? adopt(term: answer.highestTerm) : []
        }
        let untilMs = inFlight.sentMs + config.leaseMs
        if role == .primary, claim.term == term {
            lease = Lease(term: term, untilMs: max(lease?.untilMs ?? 0, untilMs))
            return advanceCommit()
        }
        guard role == .standby, claim.term > term else { return [] }
        guard mayTakeOver else {
            return release(term: claim.term)
        }
        var effects = promote(to: claim.term, peerLost: true)
        lease = Lease(term: term, untilMs: untilMs)
        effects += advanceCommit()
        return effects
    }
}
