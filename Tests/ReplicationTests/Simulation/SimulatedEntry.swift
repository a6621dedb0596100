import LicenseState
import Replication

/// One client record ("grant") in a simulated log: its position and a unique
/// record ID, which stands for the grant ID reconciliation deduplicates by.
///
/// Invariant: the wire payload is exactly the 8 big-endian bytes of `id`, so
/// `init(replicated:)` inverts `replicated`.
struct SimulatedEntry: Equatable {
    var lsn: UInt64
    var term: UInt64
    var id: UInt64

    var position: LogPosition { LogPosition(term: term, lsn: lsn) }

    var replicated: ReplicatedEntry {
        ReplicatedEntry(lsn: lsn, term: term, payload: (0..<8).map { UInt8(truncatingIfNeeded: id >> (56 - 8 * $0)) })
    }

    init(lsn: UInt64, term: UInt64, id: UInt64) {
        self.lsn = lsn
        self.term = term
        self.id = id
    }

    init(replicated entry: ReplicatedEntry) {
        precondition(entry.payload.count == 8, "simulated payloads are 8-byte record IDs")
        lsn = entry.lsn
        term = entry.term
        id = entry.payload.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
