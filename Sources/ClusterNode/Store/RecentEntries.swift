import Replication

/// The newest log entries, encoded, kept in memory so that a primary streams
/// them to its standby without reading the store; older ones come from the
/// store.
///
/// Invariant: the entries are contiguous in LSN order; after every append
/// there are at most `2 × entriesMax` of them holding at most
/// `2 × payloadBytesMax` payload bytes (trimming from the front down to the
/// limits is amortized over many appends).
struct RecentEntries {
    /// Entries kept: about a second of a busy primary's writes.
    static let entriesMax = 65_536
    /// Payload bytes kept: license imports carry files of up to 1 MiB.
    static let payloadBytesMax = 32 << 20

    private var entries: [ReplicatedEntry] = []
    private(set) var payloadBytes = 0

    var count: Int { entries.count }

    mutating func append(_ entry: ReplicatedEntry) {
        precondition(entries.last.map { entry.lsn == $0.lsn + 1 } ?? true, "recent entries follow each other")
        entries.append(entry)
        payloadBytes += entry.payload.count
        guard entries.count > 2 * Self.entriesMax || payloadBytes > 2 * Self.payloadBytesMax else { return }
        var drop = 0
        var bytes = payloadBytes
        while drop < entries.count, entries.count - drop > Self.entriesMax || bytes > Self.payloadBytesMax {
            bytes -= entries[drop].payload.count
            drop += 1
        }
        entries.removeFirst(drop)
        payloadBytes = bytes
    }

    /// The entries `(after, through]` when the window starts at or before
    /// `after + 1` (fewer at the end when it ends first); nil when the
    /// window starts later, so the store must be read.
    func entries(after: UInt64, through: UInt64) -> [ReplicatedEntry]? {
        guard let first = entries.first, first.lsn <= after + 1 else { return nil }
        let start = Int(after + 1 - first.lsn)
        let end = min(entries.count, Int(through - first.lsn) + 1)
        return start < end ? Array(entries[start..<end]) : []
    }

    /// Forgets the entries after `lsn` (a truncated log).
    mutating func truncate(after lsn: UInt64) {
        while let last = entries.last, last.lsn > lsn {
            payloadBytes -= last.payload.count
            entries.removeLast()
        }
    }

    mutating func removeAll() {
        entries = []
        payloadBytes = 0
    }
}
