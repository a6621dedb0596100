/// A position in the replicated log: the sequence number of a record and
/// the term it was written in.
///
/// Invariant: positions order by term first, then lsn, which is how two
/// nodes decide whose log is more complete (DESIGN.md §4, cold start).
public struct LogPosition: Comparable, Hashable, Codable, CustomStringConvertible {
    public var term: UInt64
    public var lsn: UInt64

    public init(term: UInt64, lsn: UInt64) {
        self.term = term
        self.lsn = lsn
    }

    /// The position of an empty log.
    public static let origin = LogPosition(term: 0, lsn: 0)

    public static func < (lhs: LogPosition, rhs: LogPosition) -> Bool {
        (lhs.term, lhs.lsn) < (rhs.term, rhs.lsn)
    }

    public var description: String { "\(lsn)@\(term)" }
}
