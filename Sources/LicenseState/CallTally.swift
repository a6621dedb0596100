/// Refusals the primary counted since its last tally: what a `tallyCalls`
/// record carries into `RecentCalls`, so failure rates survive a failover.
///
/// Invariant: counts are positive (zeros are left out).
public struct CallTally: Equatable {
    /// Refused authorize and report calls per handshake code.
    public var refusedByCode: [String: Int64]
    /// Calls refused because a concurrent item was full, per item.
    public var overuseByItem: [String: Int64]

    public init(refusedByCode: [String: Int64] = [:], overuseByItem: [String: Int64] = [:]) {
        self.refusedByCode = refusedByCode.filter { $0.value > 0 }
        self.overuseByItem = overuseByItem.filter { $0.value > 0 }
    }

    public var isEmpty: Bool { refusedByCode.isEmpty && overuseByItem.isEmpty }
}
