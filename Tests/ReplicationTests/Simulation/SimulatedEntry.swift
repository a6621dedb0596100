import LicenseState
import Replication

/// One record in a simulated log: its position, a unique record ID, and the
/// `LogRecord` it holds. A plain entry (what scenarios write) holds a grant
/// `g<id>` with no request ID on no item, which reconciliation deduplicates
/// by grant ID alone; the simulator's clients write real grants, refusals
/// and repeats of requests against a license item.
///
/// Invariant: the wire payload is the 8 big-endian bytes of `id`, followed,
/// unless the entry is plain, by the encoded record, so
/// `init(replicated:)` inverts `replicated`.
struct SimulatedEntry: Equatable {
    var lsn: UInt64
    var term: UInt64
    var id: UInt64
    var record: LogRecord

    var position: LogPosition { LogPosition(term: term, lsn: lsn) }

    /// The record of a plain entry `id`.
    static func plainRecord(_ id: UInt64) -> LogRecord {
        .grant(Grant(grantId: "g\(id)", kind: .authorize, requestId: nil, handshakeCode: "-", clientUUID: "-", itemId: "-",
                     amount: 1, domain: nil, leaseExpiresAt: nil, grace: false, at: 0))
    }

    var isPlain: Bool { record == Self.plainRecord(id) }

    /// The request the entry answers or voids an answer of, if any.
    var requestKey: LicenseState.RequestKey? {
        switch record {
        case .grant(let grant), .grantAnsweredAgain(let grant, _), .voidGrant(let grant, _): return grant.requestKey
        case .refusal(let refusal): return refusal.key
        default: return nil
        }
    }

    var replicated: ReplicatedEntry {
        let idBytes = (0..<8).map { UInt8(truncatingIfNeeded: id >> (56 - 8 * $0)) }
        return ReplicatedEntry(lsn: lsn, term: term, payload: idBytes + (isPlain ? [] : LogRecordCodec.encode(record)))
    }

    init(lsn: UInt64, term: UInt64, id: UInt64, record: LogRecord? = nil) {
        self.lsn = lsn
        self.term = term
        self.id = id
        self.record = record ?? Self.plainRecord(id)
    }

    init(replicated entry: ReplicatedEntry) {
        precondition(Self.isWellFormed(entry.payload), "simulated payloads are an 8-byte record ID and a record")
        lsn = entry.lsn
        term = entry.term
        id = entry.payload.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
        record = entry.payload.count == 8 ? Self.plainRecord(id) : try! LogRecordCodec.decode(Array(entry.payload.dropFirst(8)))
    }

    static func isWellFormed(_ payload: [UInt8]) -> Bool {
        payload.count == 8 || (payload.count > 8 && (try? LogRecordCodec.decode(Array(payload.dropFirst(8)))) != nil)
    }

    /// How a transcript shows the entry: `lsn@term:g<id>`, then what a
    /// client record holds.
    var description: String {
        let base = "\(lsn)@\(term):g\(id)"
        switch record {
        case _ where isPlain: return base
        case .grant(let grant): return "\(base)=grant(\(grant.requestId ?? "-")#\(grant.attempt ?? 0))"
        case .refusal(let refusal): return "\(base)=refusal(\(refusal.requestId)#\(refusal.attempt))"
        case .voidGrant(let grant, _): return "\(base)=void(\(grant.grantId))"
        case .grantAnsweredAgain(let grant, _): return "\(base)=again(\(grant.requestId ?? "-")#\(grant.attempt ?? 0))"
        default: return "\(base)=\(record.kind)"
        }
    }
}
