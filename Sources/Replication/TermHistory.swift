import WireFormat

/// The terms of a log, as the first LSN of each term that has entries, and
/// the log's last LSN: enough to tell the term of every entry and to find
/// where two logs stop agreeing.
///
/// Invariant: `starts` is ordered by strictly increasing term and strictly
/// increasing LSN, every start is `<= lastLsn`, and the first starts at 1
/// when the log is not empty.
public struct TermHistory: Equatable {
    /// A term and the LSN of its first entry.
    public struct Start: Equatable {
        public var term: UInt64
        public var lsn: UInt64

        public init(term: UInt64, lsn: UInt64) {
            self.term = term
            self.lsn = lsn
        }
    }

    /// Most term starts a history sent on the wire may hold.
    public static let startsMax = 65_536

    public private(set) var starts: [Start] = []
    public private(set) var lastLsn: UInt64 = 0

    public init() {}

    /// A history from its parts; nil when they break the invariant (input
    /// from the wire).
    public init?(starts: [Start], lastLsn: UInt64) {
        guard starts.count <= Self.startsMax else { return nil }
        if starts.isEmpty { guard lastLsn == 0 else { return nil } } else { guard starts[0].lsn == 1 else { return nil } }
        for (previous, next) in zip(starts, starts.dropFirst()) where next.term <= previous.term || next.lsn <= previous.lsn {
            return nil
        }
        guard starts.last.map({ $0.lsn <= lastLsn && $0.term >= 1 }) ?? true else { return nil }
        self.starts = starts
        self.lastLsn = lastLsn
    }

    /// The term of the last entry (0 for an empty log).
    public var lastTerm: UInt64 { starts.last?.term ?? 0 }

    public var last: LogPosition { LogPosition(term: lastTerm, lsn: lastLsn) }

    /// The term of the entry at `lsn`; 0 for lsn 0, nil past the end.
    public func term(at lsn: UInt64) -> UInt64? {
        guard lsn <= lastLsn else { return nil }
        guard lsn > 0 else { return 0 }
        return starts.last(where: { $0.lsn <= lsn })!.term
    }

    /// Records the entry `lsn` written in `term`.
    public mutating func append(lsn: UInt64, term: UInt64) {
        precondition(lsn == lastLsn + 1, "entries are appended in LSN order")
        precondition(term >= lastTerm && term >= 1, "terms never go back in a log")
        if term != lastTerm { starts.append(Start(term: term, lsn: lsn)) }
        lastLsn = lsn
    }

    /// Forgets the entries after `lsn`.
    public mutating func truncate(after lsn: UInt64) {
        precondition(lsn <= lastLsn, "truncating past the end")
        starts.removeAll { $0.lsn > lsn }
        lastLsn = lsn
    }

    /// The last LSN at which this log and `other` hold the same entry (same
    /// term), 0 when they share nothing. Logs written under the rule that an
    /// entry is appended only after its predecessor matched agree on every
    /// entry up to that point, so it is where they start to differ.
    public func matchLsn(with other: TermHistory) -> UInt64 {
        var candidate = min(lastLsn, other.lastLsn)
        while candidate > 0 {
            let mine = term(at: candidate)!
            let theirs = other.term(at: candidate)!
            if mine == theirs { return candidate }
            // Both terms are constant back to the later of their starts:
            // jump before it.
            let mineStart = starts.last(where: { $0.lsn <= candidate })!.lsn
            let theirStart = other.starts.last(where: { $0.lsn <= candidate })!.lsn
            candidate = max(mineStart, theirStart) - 1
        }
        return 0
    }
}
