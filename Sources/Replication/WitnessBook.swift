/// The witness's rules, without I/O: which term it granted last, to whom,
/// and until when the holder's lease runs on the witness's clock. The
/// `lts witness` server and the simulation's witness run this same type.
///
/// Invariants:
/// - `record.highestTerm` never decreases, and a term is granted to one node
///   only (a claim for a term below it, or for it by the other node, is
///   refused).
/// - A higher term goes to another node only once the holder's lease has
///   run out (or the holder released it).
/// - Every change of `record` is made durable before the answer that
///   depends on it leaves (`answer` says when one is needed).
/// - After a restart the lease is taken as held for the last hold asked
///   (`record.holdMs`) from the start: the witness cannot know how long it
///   was down, so it waits as if the holder had renewed just before.
public struct WitnessBook: Equatable {
    /// What the witness stores.
    public struct Record: Equatable {
        public var highestTerm: UInt64
        public var holder: Int?
        /// The longest hold the holder asked for in `highestTerm`.
        public var holdMs: UInt64

        public init(highestTerm: UInt64 = 0, holder: Int? = nil, holdMs: UInt64 = 0) {
            self.highestTerm = highestTerm
            self.holder = holder
            self.holdMs = holdMs
        }
    }

    public private(set) var record: Record
    /// The holder's lease runs until this time of the witness's clock.
    public private(set) var leaseUntilMs: UInt64

    /// - Parameters:
    ///   - record: what the witness stored (a new witness: `Record()`).
    ///   - nowMs: the witness's clock at start.
    public init(record: Record, nowMs: UInt64) {
        self.record = record
        leaseUntilMs = record.holder == nil ? nowMs : nowMs + record.holdMs
    }

    /// The answer to `claim` at `nowMs`, and whether `record` changed (it
    /// must then be durable before the answer is sent).
    public mutating func answer(_ claim: WitnessClaim, nowMs: UInt64) -> (answer: WitnessAnswer, persist: Bool) {
        precondition(claim.isWellFormed, "a malformed claim reaches the witness's rules")
        let before = record
        let granted = decide(claim, nowMs: nowMs)
        let answer = WitnessAnswer(granted: granted, highestTerm: record.highestTerm, holder: record.holder,
                                   leaseRemainingMs: leaseUntilMs > nowMs ? leaseUntilMs - nowMs : 0)
        return (answer, record != before)
    }

    /// Whether the claim is granted; updates the record and the lease.
    private mutating func decide(_ claim: WitnessClaim, nowMs: UInt64) -> Bool {
        let holds = record.holder == claim.node && record.highestTerm == claim.term
        if claim.release {
            if holds {
                record.holder = nil
                leaseUntilMs = nowMs
            }
            return false
        }
        if holds {
            leaseUntilMs = max(leaseUntilMs, nowMs + claim.holdMs)
            record.holdMs = max(record.holdMs, claim.holdMs)
            return true
        }
        guard claim.term > record.highestTerm else { return false }
        if let holder = record.holder, holder != claim.node, nowMs < leaseUntilMs { return false }
        record = Record(highestTerm: claim.term, holder: claim.node, holdMs: claim.holdMs)
        leaseUntilMs = nowMs + claim.holdMs
        return true
    }
}
