/// Usage aggregated per 2-hour bucket, license item and handshake code: what
/// the statistics API and pages read. Built from grant records only, so a
/// standby that replays the same log holds the same statistics.
///
/// Invariant: every bucket start is a multiple of `bucketSeconds`; `starts`
/// is sorted ascending, holds each key of `buckets` once, and no bucket is
/// empty; buckets older than `retentionSeconds` before the latest expiry
/// record are gone.
public struct UsageStatistics: Equatable {
    public static let bucketSeconds: Int64 = 2 * 3600
    /// How long buckets are kept (400 days).
    public static let retentionSeconds: Int64 = 400 * UTCTime.secondsPerDay

    /// Which item, drawn on through which code.
    public struct Pair: Hashable, Comparable {
        public var itemId: String
        public var code: String

        public init(itemId: String, code: String) {
            self.itemId = itemId
            self.code = code
        }

        public static func < (lhs: Pair, rhs: Pair) -> Bool { (lhs.itemId, lhs.code) < (rhs.itemId, rhs.code) }
    }

    /// What a bucket counted: grants, and the units they consumed (scans
    /// for scan items, one per grant otherwise).
    public struct Counts: Equatable {
        public var grants: Int64 = 0
        public var units: Int64 = 0

        public init(grants: Int64 = 0, units: Int64 = 0) {
            self.grants = grants
            self.units = units
        }

        mutating func add(_ other: Counts) {
            grants += other.grants
            units += other.units
        }
    }

    /// One bucket's counts per pair.
    public private(set) var buckets: [Int64: [Pair: Counts]] = [:]
    /// Bucket starts, oldest first.
    public private(set) var starts: [Int64] = []

    public init() {}

    /// The bucket start that holds `seconds`.
    public static func bucketStart(containing seconds: Int64, bucketSeconds: Int64 = bucketSeconds) -> Int64 {
        let remainder = seconds % bucketSeconds
        return remainder >= 0 ? seconds - remainder : seconds - remainder - bucketSeconds
    }

    /// Counts `grant` in the bucket of its time.
    mutating func add(_ grant: Grant) {
        add(Counts(grants: 1, units: grant.amount), to: Pair(itemId: grant.itemId, code: grant.handshakeCode),
            bucketStart: Self.bucketStart(containing: grant.at))
    }

    /// Adds `counts` to a pair's bucket (also what a snapshot decode uses).
    mutating func add(_ counts: Counts, to pair: Pair, bucketStart start: Int64) {
        if buckets[start] == nil {
            var index = starts.count
            while index > 0, starts[index - 1] > start { index -= 1 }
            starts.insert(start, at: index)
        }
        buckets[start, default: [:]][pair, default: Counts()].add(counts)
    }

    /// True when `prune(before: cutoff)` would forget a bucket.
    func hasBuckets(endingBy cutoff: Int64) -> Bool {
        starts.first.map { $0 + Self.bucketSeconds <= cutoff } ?? false
    }

    /// Forgets buckets that end at or before `cutoff`.
    mutating func prune(before cutoff: Int64) {
        var dropped = 0
        while dropped < starts.count, starts[dropped] + Self.bucketSeconds <= cutoff {
            buckets[starts[dropped]] = nil
            dropped += 1
        }
        if dropped > 0 { starts.removeFirst(dropped) }
    }

    // MARK: Reading

    /// One bucket of a query's answer.
    public struct Row: Equatable {
        public var start: Int64
        public var end: Int64
        public var counts: Counts
    }

    /// One pair's counts in one 2-hour bucket, for exports.
    public struct Entry: Equatable {
        public var bucketStart: Int64
        public var pair: Pair
        public var counts: Counts
    }

    /// Every bucket of `bucketSeconds` (a multiple of 2 h that divides a
    /// day, or a day) that overlaps `from..<to`, oldest first, zeros
    /// included; pairs filtered by `itemId` and `code` when given.
    public func rows(from: Int64, to: Int64, bucketSeconds: Int64, itemId: String?, code: String?) -> [Row] {
        precondition(bucketSeconds % Self.bucketSeconds == 0, "rows come in multiples of the stored bucket")
        var rows: [Row] = []
        var start = Self.bucketStart(containing: from, bucketSeconds: bucketSeconds)
        while start < to {
            rows.append(Row(start: start, end: start + bucketSeconds, counts: Counts()))
            start += bucketSeconds
        }
        guard let first = rows.first?.start else { return [] }
        for entry in entries(from: first, to: start, itemId: itemId, code: code) {
            rows[Int((entry.bucketStart - first) / bucketSeconds)].counts.add(entry.counts)
        }
        return rows
    }

    /// Totals per handshake code of the 2-hour buckets that overlap
    /// `from..<to`, largest units first (then by code).
    public func totalsByCode(from: Int64, to: Int64, itemId: String?, code: String?) -> [(code: String, counts: Counts)] {
        var totals: [String: Counts] = [:]
        for entry in entries(from: from, to: to, itemId: itemId, code: code) {
            totals[entry.pair.code, default: Counts()].add(entry.counts)
        }
        return totals.map { (code: $0.key, counts: $0.value) }.sorted {
            $0.counts.units != $1.counts.units ? $0.counts.units > $1.counts.units : $0.code < $1.code
        }
    }

    /// The stored entries of the 2-hour buckets that overlap `from..<to`,
    /// by bucket, then item, then code.
    public func entries(from: Int64, to: Int64, itemId: String?, code: String?) -> [Entry] {
        let low = Self.bucketStart(containing: from)
        var result: [Entry] = []
        var index = firstIndex(atOrAfter: low)
        while index < starts.count, starts[index] < to {
            let start = starts[index]
            for (pair, counts) in buckets[start]!.sorted(by: { $0.key < $1.key })
            where (itemId == nil || pair.itemId == itemId) && (code == nil || pair.code == code) {
                result.append(Entry(bucketStart: start, pair: pair, counts: counts))
            }
            index += 1
        }
        return result
    }

    private func firstIndex(atOrAfter start: Int64) -> Int {
        var low = 0, high = starts.count
        while low < high {
            let middle = (low + high) / 2
            if starts[middle] < start { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
