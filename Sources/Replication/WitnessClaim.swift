/// What a node asks the witness: to hold term `term` (a new one, or its
/// current one again to renew its lease), or to give it up.
///
/// Invariant: `term % 2 == node` (a node claims only its own terms) and
/// `holdMs > 0`; `WitnessBook` refuses anything else.
public struct WitnessClaim: Equatable {
    /// Names the claim among this node's claims (answers carry it back).
    public var id: UInt64
    /// The node's position in `servers` (0 or 1).
    public var node: Int
    public var term: UInt64
    /// How long the witness holds the lease from when it grants it, on its
    /// own clock (`WitnessLease.holdMs`).
    public var holdMs: UInt64
    /// The node hands the term over (a planned switchover): the lease ends now.
    public var release: Bool

    public init(id: UInt64, node: Int, term: UInt64, holdMs: UInt64, release: Bool = false) {
        self.id = id
        self.node = node
        self.term = term
        self.holdMs = holdMs
        self.release = release
    }

    /// Whether the fields can describe a claim at all.
    public var isWellFormed: Bool {
        (node == 0 || node == 1) && term >= 1 && term % 2 == UInt64(node) && holdMs > 0 && holdMs <= WitnessLease.holdMsMax
    }
}

/// The witness's answer to one claim.
///
/// Invariant: `granted` implies `highestTerm == claim.term` and
/// `holder == claim.node`.
public struct WitnessAnswer: Equatable {
    public var granted: Bool
    /// The highest term the witness ever granted (0: none).
    public var highestTerm: UInt64
    /// Who holds `highestTerm` (nil: nobody yet, or the lease was released).
    public var holder: Int?
    /// How long the holder's lease still runs on the witness's clock.
    public var leaseRemainingMs: UInt64

    public init(granted: Bool, highestTerm: UInt64, holder: Int?, leaseRemainingMs: UInt64) {
        self.granted = granted
        self.highestTerm = highestTerm
        self.holder = holder
        self.leaseRemainingMs = leaseRemainingMs
    }
}
