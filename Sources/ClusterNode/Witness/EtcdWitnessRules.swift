import Replication

/// The witness's rules (those of `WitnessBook`) over two etcd keys, as a
/// pure function of what a read of them showed: `PREFIX/term` holds the
/// highest term granted (no lease: it stays), `PREFIX/holder` holds
/// `NODE:TERM` under an etcd lease, and is gone once the lease ran out.
/// The plan's write is a transaction that succeeds only if both keys are
/// still at the revisions read, so two claims never both win.
///
/// Invariants (as `WitnessBook`'s): the term never decreases; a term goes
/// to one node only; a higher term goes to the other node only once the
/// holder key is gone (its lease ran out, or it was released).
enum EtcdWitnessRules {
    /// What a read of the two keys showed.
    struct State: Equatable {
        var term: UInt64 = 0
        /// The term key's modification revision (0: the key does not exist).
        var termRevision: Int64 = 0
        var holder: Holder?
        /// The holder key's modification revision (0: it does not exist).
        var holderRevision: Int64 = 0
    }

    struct Holder: Equatable {
        var node: Int
        var term: UInt64

        /// `NODE:TERM`, as the key holds it.
        var text: String { "\(node):\(term)" }

        init(node: Int, term: UInt64) {
            self.node = node
            self.term = term
        }

        init?(text: String) {
            let parts = text.split(separator: ":")
            guard parts.count == 2, let node = Int(parts[0]), node == 0 || node == 1, let term = UInt64(parts[1]) else { return nil }
            self.init(node: node, term: term)
        }
    }

    enum Plan: Equatable {
        /// Refused as it stands; nothing to write.
        case refuse(WitnessAnswer)
        /// If both keys are unchanged: the term key set to `term` (when
        /// `writeTerm`), the holder key to the claimant under a new lease.
        case take(term: UInt64, writeTerm: Bool)
        /// If the holder key is unchanged: delete it.
        case release
        /// A release of what the claimant does not hold.
        case nothing
    }

    static func plan(_ claim: WitnessClaim, _ state: State) -> Plan {
        let mine = Holder(node: claim.node, term: claim.term)
        if claim.release { return state.holder == mine ? .release : .nothing }
        if state.term == claim.term, state.holder == mine || state.holder == nil {
            // The holder renews (or takes back a lease that ran out: its
            // term was never given to anyone else).
            return .take(term: claim.term, writeTerm: false)
        }
        let refusal = WitnessAnswer(granted: false, highestTerm: state.term, holder: state.holder?.node, leaseRemainingMs: 0)
        guard claim.term > state.term else { return .refuse(refusal) }
        if let holder = state.holder, holder.node != claim.node { return .refuse(refusal) }
        return .take(term: claim.term, writeTerm: true)
    }
}
