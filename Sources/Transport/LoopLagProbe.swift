/// Measures how late the loop runs a timer: the time some callback held the
/// loop. A node whose loop is held looks dead to its peer, so the largest
/// lag is a metric, and the tests check it stays far below the failover
/// timeout.
///
/// Invariant: every firing of a timer due every `intervalMs` is counted in
/// `lagsAtMost` (cumulative, as a Prometheus histogram's buckets) by how
/// late it ran on the loop's clock; `maxLagMs` is the largest such delay
/// since the probe started.
public final class LoopLagProbe {
    /// How often the probe's timer is due.
    public static let intervalMs: UInt64 = 10
    /// A lag this long counts as a stall: the loop's budget.
    public static let stallMs: UInt64 = 50
    /// Upper bounds of the histogram's buckets (ms); the last is +Inf.
    public static let bucketBoundsMs: [UInt64] = [10, 50, 100, 250, 500, 1_000]

    private let loop: EventLoop
    private var timer: LoopTimer?
    private var dueMs: UInt64
    public private(set) var maxLagMs: UInt64 = 0
    /// Lags of `stallMs` or more.
    public private(set) var stallsTotal: UInt64 = 0
    /// Per bound of `bucketBoundsMs`, the firings that ran at most that late.
    public private(set) var lagsAtMost: [UInt64] = Array(repeating: 0, count: LoopLagProbe.bucketBoundsMs.count)
    public private(set) var firingsTotal: UInt64 = 0
    public private(set) var lagSumMs: UInt64 = 0

    public init(loop: EventLoop) {
        self.loop = loop
        dueMs = loop.nowMs + Self.intervalMs
        timer = LoopTimer(loop: loop, delayMs: Self.intervalMs, repeatMs: Self.intervalMs) { [unowned self] in self.fired() }
    }

    private func fired() {
        let nowMs = loop.nowMs
        let lagMs = nowMs > dueMs ? nowMs - dueMs : 0
        maxLagMs = max(maxLagMs, lagMs)
        if lagMs >= Self.stallMs { stallsTotal += 1 }
        firingsTotal += 1
        lagSumMs += lagMs
        for (index, boundMs) in Self.bucketBoundsMs.enumerated() where lagMs <= boundMs { lagsAtMost[index] += 1 }
        dueMs = nowMs + Self.intervalMs
    }

    public func cancel() {
        timer?.cancel()
        timer = nil
    }
}
