import WireFormat

/// One log record as replication moves it: its position and its encoded
/// bytes, which replication never looks into.
///
/// Invariant: `lsn >= 1` and `term >= 1`.
public struct ReplicatedEntry: Equatable {
    public var lsn: UInt64
    public var term: UInt64
    public var payload: [UInt8]

    public init(lsn: UInt64, term: UInt64, payload: [UInt8]) {
        precondition(lsn >= 1 && term >= 1, "an entry has a position")
        self.lsn = lsn
        self.term = term
        self.payload = payload
    }

    public var position: LogPosition { LogPosition(term: term, lsn: lsn) }
}
