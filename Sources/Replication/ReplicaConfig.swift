import WireFormat

/// The timing and acknowledgement rules of one replica.
///
/// Invariant: `failoverTimeoutMs > 3 * heartbeatMs` (checked by `validate`
/// and again by `Replica.init`), so a few lost heartbeats never promote.
public struct ReplicaConfig: Equatable {
    /// When a client's record may be acknowledged.
    public enum Mode: String, Equatable {
        /// After the standby flushed it too.
        case sync
        /// After the local commit.
        case async
    }

    public var heartbeatMs: UInt64
    public var failoverTimeoutMs: UInt64
    /// How long a sync primary without its standby waits before it answers
    /// alone; 0 = never.
    public var degradeAfterMs: UInt64
    public var mode: Mode
    /// Most entries in one append message.
    public var appendEntriesMax: Int
    /// Most entries sent and not yet acknowledged by the standby. A
    /// catching-up standby is sent this many at once, in one turn of the
    /// primary's loop (read from the store, encoded), and may take them in
    /// one turn of its own: 4,096 keeps both far inside the loop's 50 ms,
    /// and still streams 80,000 entries a second over a 50 ms round trip.
    public var inFlightEntriesMax: UInt64
    /// A checkpoint of the state every this many records (0 = never).
    public var checkpointEveryRecords: UInt64
    /// Records kept in the log behind what both nodes hold.
    public var retainedRecords: UInt64
    /// Bytes of a snapshot per chunk message.
    public var snapshotChunkBytes: UInt64
    /// Most snapshot chunks sent and not yet acknowledged.
    public var snapshotWindowChunks: UInt64
    /// A gap this long between two inputs means the node itself did not
    /// run (see `Replica.advanceClock`). By default half the failover
    /// timeout: far above the gap between two ticks (a quarter of
    /// `heartbeatMs`) and a loop lag within budget. `.max`: never (the
    /// scenario transcripts, where one tick may jump a second).
    public var stallMs: UInt64
    /// A witness decides terms and holds the primary's lease (see
    /// `WitnessLease`): a failover needs its grant, and a primary takes
    /// writes only with a live lease or its standby's recent
    /// acknowledgement. Without one, a cut link lets both nodes answer.
    public var witness: Bool
    /// How long a granted lease lets the primary take writes, on its clock,
    /// from when it sent the claim. It is renewed every heartbeat.
    public var leaseMs: UInt64
    /// The bound on clock drift the lease arithmetic assumes, per mille.
    public var clockDriftPerMille: UInt64

    /// Largest snapshot chunk: the largest byte string a message field may hold.
    public static let snapshotChunkBytesMax = UInt64(BinaryReader.fieldBytesMax)

    public init(heartbeatMs: UInt64 = 100, failoverTimeoutMs: UInt64 = 1_000, degradeAfterMs: UInt64 = 5_000,
                mode: Mode = .sync, appendEntriesMax: Int = 1_024, inFlightEntriesMax: UInt64 = 4_096,
                checkpointEveryRecords: UInt64 = 100_000, retainedRecords: UInt64 = 100_000,
                snapshotChunkBytes: UInt64 = 1 << 20, snapshotWindowChunks: UInt64 = 4, stallMs: UInt64? = nil,
                witness: Bool = false, leaseMs: UInt64? = nil, clockDriftPerMille: UInt64 = 50) {
        self.heartbeatMs = heartbeatMs
        self.failoverTimeoutMs = failoverTimeoutMs
        self.degradeAfterMs = degradeAfterMs
        self.mode = mode
        self.appendEntriesMax = appendEntriesMax
        self.inFlightEntriesMax = inFlightEntriesMax
        self.checkpointEveryRecords = checkpointEveryRecords
        self.retainedRecords = retainedRecords
        self.snapshotChunkBytes = snapshotChunkBytes
        self.snapshotWindowChunks = snapshotWindowChunks
        self.stallMs = stallMs ?? failoverTimeoutMs / 2
        self.witness = witness
        self.leaseMs = leaseMs ?? failoverTimeoutMs / 2
        self.clockDriftPerMille = clockDriftPerMille
    }

    /// How long the witness holds this node's lease (`WitnessLease.holdMs`).
    public var leaseHoldMs: UInt64 { WitnessLease.holdMs(leaseMs: leaseMs, driftPerMille: clockDriftPerMille) }

    /// How long after a heartbeat's send time the standby that acknowledged
    /// it will not take over (`WitnessLease.promiseMs`).
    public var standbyPromiseMs: UInt64 {
        WitnessLease.promiseMs(failoverTimeoutMs: failoverTimeoutMs, driftPerMille: clockDriftPerMille)
    }

    /// Why the values cannot work together, if they cannot.
    public func validate() -> String? {
        if heartbeatMs == 0 { return "heartbeatMs must be at least 1" }
        if failoverTimeoutMs <= 3 * heartbeatMs {
            return "failoverTimeoutMs (\(failoverTimeoutMs)) must exceed 3 × heartbeatMs (\(3 * heartbeatMs))"
        }
        if appendEntriesMax < 1 || inFlightEntriesMax < UInt64(appendEntriesMax) {
            return "inFlightEntriesMax must be at least appendEntriesMax, which must be at least 1"
        }
        if stallMs <= heartbeatMs { return "stallMs (\(stallMs)) must exceed heartbeatMs (\(heartbeatMs))" }
        if snapshotChunkBytes < 1 || snapshotChunkBytes > Self.snapshotChunkBytesMax || snapshotWindowChunks < 1 {
            return "snapshotChunkBytes must be 1 to \(Self.snapshotChunkBytesMax) and snapshotWindowChunks at least 1"
        }
        if clockDriftPerMille > WitnessLease.driftPerMilleMax {
            return "clockDriftPerMille (\(clockDriftPerMille)) must be at most \(WitnessLease.driftPerMilleMax)"
        }
        if witness, leaseMs <= 2 * heartbeatMs || leaseHoldMs >= failoverTimeoutMs {
            return "leaseMs (\(leaseMs)) must exceed 2 × heartbeatMs (\(2 * heartbeatMs)), and the witness's hold of it (\(leaseHoldMs) with a drift of \(clockDriftPerMille)‰) stay under failoverTimeoutMs (\(failoverTimeoutMs))"
        }
        return nil
    }
}
