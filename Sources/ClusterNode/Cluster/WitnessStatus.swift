/// What a node knows of its pair's witness, for health, cluster status and
/// metrics.
///
/// Invariant: `leaseRemainingMs` and `standbyPromiseRemainingMs` are 0 for
/// a standby (only a primary holds either).
struct WitnessStatus: Equatable {
    var url: String
    /// The witness answered this node's last request (a claim, or a probe
    /// while no claim is due).
    var reachable: Bool
    /// Why the last request got no answer, when it did not.
    var problem: String?
    var leaseRemainingMs: UInt64
    var standbyPromiseRemainingMs: UInt64
    /// The highest term the witness said it granted.
    var highestTerm: UInt64
}
