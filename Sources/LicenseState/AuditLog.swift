/// The admin audit log: `AuditEntry`s in log order, oldest first, each with
/// an ID (1 for the first entry ever appended, then one more each).
///
/// Invariant: at most `entriesMax` (50,000) entries are kept; past that the
/// oldest go first. An entry is kept `retentionSeconds` (400 days) after its
/// time, measured by record time (the newest entry's, or an `expire`
/// record's), never by a clock; entries leave from the oldest end only, so
/// the IDs of the entries kept are consecutive and end at `appendedTotal`.
public struct AuditLog: Equatable {
    public static let entriesMax = 50_000
    public static let retentionSeconds: Int64 = 400 * 86_400

    public private(set) var entries: [AuditEntry] = []
    /// Entries ever appended: the ID of the newest one.
    public private(set) var appendedTotal: Int64 = 0

    public init() {}

    /// A log restored from a snapshot (`StateSnapshotCodec`).
    init(entries: [AuditEntry], appendedTotal: Int64) {
        precondition(entries.count <= Self.entriesMax && appendedTotal >= Int64(entries.count), "audit log out of bounds")
        self.entries = entries
        self.appendedTotal = appendedTotal
    }

    /// The ID of `entries[index]`.
    public func id(at index: Int) -> Int64 {
        appendedTotal - Int64(entries.count) + Int64(index) + 1
    }

    mutating func append(_ entry: AuditEntry) {
        entries.append(entry)
        appendedTotal += 1
        expire(now: entry.at)
        if entries.count > Self.entriesMax { entries.removeFirst(entries.count - Self.entriesMax) }
    }

    /// Drops the entries at the oldest end that are older than the retention at `now`.
    mutating func expire(now: Int64) {
        guard needsExpiry(now: now) else { return }
        let cutoff = now - Self.retentionSeconds
        entries.removeFirst(entries.firstIndex { $0.at >= cutoff } ?? entries.count)
    }

    /// True when `expire(now:)` would drop an entry.
    func needsExpiry(now: Int64) -> Bool {
        entries.first.map { $0.at < now - Self.retentionSeconds } ?? false
    }

    /// Entries at or after `since`, with an ID below `beforeId`, that
    /// `matches` accepts, newest first, at most `limit`, each with its ID.
    public func page(since: Int64?, beforeId: Int64?, limit: Int,
                     matching matches: (AuditEntry) -> Bool = { _ in true }) -> [(id: Int64, entry: AuditEntry)] {
        var found: [(id: Int64, entry: AuditEntry)] = []
        var index = entries.count - 1
        if let beforeId { index = min(index, Int(clamping: beforeId - id(at: 0)) - 1) }
        while index >= 0, found.count < limit {
            let entry = entries[index]
            if since.map({ entry.at >= $0 }) ?? true, matches(entry) { found.append((id(at: index), entry)) }
            index -= 1
        }
        return found
    }
}
