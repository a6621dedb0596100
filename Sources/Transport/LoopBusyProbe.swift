import Foundation

/// Measures the CPU time the loop thread spends in each turn of the event
/// loop: the work its callbacks do. Unlike the lag probe's timer lateness,
/// this leaves out the wait for events and any time the thread did not run
/// (another process holding the core), so it shows what the node itself
/// blocks, on a busy machine too.
///
/// Invariant: `maxBusyNs` is the largest thread CPU time between two
/// consecutive check phases of the loop since the second one after start
/// (the first only starts the clock, on the loop's own thread);
/// `overBudgetTotal` counts the turns of `LoopLagProbe.stallMs` or more.
public final class LoopBusyProbe {
    private var check: LoopCheck?
    private var lastCpuNs: UInt64?
    /// Called with the CPU time (ns) of each turn of `LoopLagProbe.stallMs` or more.
    private let overBudget: (UInt64) -> Void
    public private(set) var maxBusyNs: UInt64 = 0
    public private(set) var overBudgetTotal: UInt64 = 0

    public init(loop: EventLoop, overBudget: @escaping (UInt64) -> Void = { _ in }) {
        self.overBudget = overBudget
        check = LoopCheck(loop: loop) { [unowned self] in self.turnEnded() }
    }

    /// `maxBusyNs` in milliseconds.
    public var maxBusyMs: Double { Double(maxBusyNs) / 1_000_000 }

    private func turnEnded() {
        let nowNs = Self.threadCpuNs()
        defer { lastCpuNs = nowNs }
        guard let lastCpuNs else { return }
        let busyNs = nowNs &- lastCpuNs
        maxBusyNs = max(maxBusyNs, busyNs)
        if busyNs >= LoopLagProbe.stallMs * 1_000_000 {
            overBudgetTotal += 1
            overBudget(busyNs)
        }
    }

    /// The CPU time the calling thread has used.
    public static func threadCpuNs() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    public func cancel() {
        check?.cancel()
        check = nil
    }
}
