/// The lease arithmetic of a pair with a witness, under a bound ρ on clock
/// drift: every clock (both nodes' and the witness's) measures an interval
/// of real length d as something within d × (1 ± ρ). Message delays do not
/// enter: every bound is counted from when a message was *sent*.
///
/// - **Lease.** A primary sends a claim at its time `c` and, once granted,
///   takes writes until `c + leaseMs` on its clock: at most
///   `leaseMs / (1 - ρ)` of real time after sending. The witness received
///   the claim after it was sent and holds the lease `holdMs` on its clock,
///   at least `holdMs / (1 + ρ)` of real time. With
///   `holdMs ≥ leaseMs × (1 + ρ) / (1 - ρ)` the witness's hold ends after
///   the primary's own view of its lease, so the witness never grants the
///   next term to the other node while this one may still take writes on
///   its lease.
/// - **Standby's promise.** A standby promotes on a failure only after
///   `failoverTimeoutMs` of silence from its primary on its clock (and only
///   with the witness's grant): at least `failoverTimeoutMs / (1 + ρ)` of
///   real time after it last heard a heartbeat. The standby's
///   acknowledgements carry back the send time `s` of the last heartbeat it
///   heard, so the primary may take writes until `s + promiseMs`, with
///   `promiseMs < failoverTimeoutMs × (1 - ρ) / (1 + ρ)`: on the
///   primary's clock that is less real time than the standby waits.
///
/// Invariant: `holdMs(leaseMs:driftPerMille:) ≥ leaseMs × (1000 + ρ‰) /
/// (1000 - ρ‰)` and `promiseMs(...) < failoverTimeoutMs × (1000 - ρ‰) /
/// (1000 + ρ‰)`, both in integer milliseconds rounded the safe way.
public enum WitnessLease {
    /// Largest hold a claim may ask (a minute).
    public static let holdMsMax: UInt64 = 60_000
    /// Largest drift bound accepted (10 %).
    public static let driftPerMilleMax: UInt64 = 100

    /// How long the witness holds a lease the node counts as `leaseMs`.
    public static func holdMs(leaseMs: UInt64, driftPerMille: UInt64) -> UInt64 {
        precondition(driftPerMille <= driftPerMilleMax, "drift bound \(driftPerMille)‰ above \(driftPerMilleMax)‰")
        let numerator = leaseMs * (1_000 + driftPerMille)
        let denominator = 1_000 - driftPerMille
        return (numerator + denominator - 1) / denominator
    }

    /// How long after a heartbeat's send time a primary may count on a
    /// standby that acknowledged it.
    public static func promiseMs(failoverTimeoutMs: UInt64, driftPerMille: UInt64) -> UInt64 {
        precondition(driftPerMille <= driftPerMilleMax, "drift bound \(driftPerMille)‰ above \(driftPerMilleMax)‰")
        let bound = failoverTimeoutMs * (1_000 - driftPerMille) / (1_000 + driftPerMille)
        return bound > 0 ? bound - 1 : 0
    }
}
