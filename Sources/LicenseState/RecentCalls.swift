/// Client calls of the last hour, per minute: grants and refusals per
/// handshake code, and overuse per concurrent item. What the failure-rate
/// and overuse alerts read. Grants come from grant records; refusals (which
/// write no record of their own) from the `tallyCalls` records the primary
/// writes before each alert check.
///
/// Invariant: keys are minute starts; when a minute is added, those older
/// than `windowSeconds` before it are dropped (reads only count the window,
/// so expiry records need not touch it); no count is zero.
public struct RecentCalls: Equatable {
    /// The window the rates are taken over (60 minutes).
    public static let windowSeconds: Int64 = 3600

    /// What one minute counted.
    public struct Minute: Equatable {
        public var granted: [String: Int64] = [:]
        public var refused: [String: Int64] = [:]
        public var overuse: [String: Int64] = [:]

        public init(granted: [String: Int64] = [:], refused: [String: Int64] = [:], overuse: [String: Int64] = [:]) {
            self.granted = granted
            self.refused = refused
            self.overuse = overuse
        }
    }

    public private(set) var minutes: [Int64: Minute] = [:]

    public init() {}

    init(minutes: [Int64: Minute]) { self.minutes = minutes }

    mutating func granted(code: String, at: Int64) {
        update(at: at) { $0.granted[code, default: 0] += 1 }
    }

    /// Counts a grant made in grace on a concurrent item as overuse.
    mutating func overused(itemId: String, count: Int64, at: Int64) {
        guard count > 0 else { return }
        update(at: at) { $0.overuse[itemId, default: 0] += count }
    }

    mutating func add(_ tally: CallTally, at: Int64) {
        guard !tally.isEmpty else { return }
        update(at: at) { minute in
            for (code, count) in tally.refusedByCode where count > 0 { minute.refused[code, default: 0] += count }
            for (item, count) in tally.overuseByItem where count > 0 { minute.overuse[item, default: 0] += count }
        }
    }

    /// Forgets minutes that left the window at `now`.
    private mutating func prune(now: Int64) {
        let cutoff = now - Self.windowSeconds
        if minutes.keys.contains(where: { $0 < cutoff }) { minutes = minutes.filter { $0.key >= cutoff } }
    }

    private mutating func update(at: Int64, _ change: (inout Minute) -> Void) {
        let minute = UsageStatistics.bucketStart(containing: at, bucketSeconds: 60)
        if minutes[minute] == nil { prune(now: at) }
        change(&minutes[minute, default: Minute()])
    }

    // MARK: Reading

    private func window(now: Int64) -> some Sequence<Minute> {
        minutes.lazy.filter { $0.key > now - Self.windowSeconds && $0.key <= now }.map(\.value)
    }

    /// Calls under `code` in the hour before `now`: all of them, and those refused.
    public func attempts(code: String, now: Int64) -> (attempts: Int64, refused: Int64) {
        var granted: Int64 = 0, refused: Int64 = 0
        for minute in window(now: now) {
            granted += minute.granted[code] ?? 0
            refused += minute.refused[code] ?? 0
        }
        return (granted + refused, refused)
    }

    /// Overuse of a concurrent item in the hour before `now`.
    public func overuse(itemId: String, now: Int64) -> Int64 {
        window(now: now).reduce(0) { $0 + ($1.overuse[itemId] ?? 0) }
    }

    /// Handshake codes with calls in the window.
    public var codes: Set<String> {
        Set(minutes.values.flatMap { Array($0.granted.keys) + Array($0.refused.keys) })
    }
}
