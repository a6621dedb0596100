/// How long a client waits after a round in which no server answered:
/// exponential from `baseMs`, capped at `maxMs`, with "equal jitter" (a
/// random point in the upper half), so clients that lost the same server do
/// not come back in step.
///
/// Invariant: every delay lies in `[d / 2, d]` with `d = min(maxMs, baseMs ·
/// 2^(failedRounds - 1))`; the randomness comes only from the generator given.
public struct RetrySchedule: Equatable {
    public var baseMs: Int
    public var maxMs: Int

    public init(baseMs: Int = 100, maxMs: Int = 2_000) {
        precondition(baseMs >= 1 && maxMs >= baseMs, "0 < baseMs <= maxMs")
        self.baseMs = baseMs
        self.maxMs = maxMs
    }

    /// The wait after `failedRounds` (≥ 1) rounds without an answer.
    public func delayMs<Generator: RandomNumberGenerator>(afterFailedRounds failedRounds: Int, using generator: inout Generator) -> Int {
        let exponent = min(max(failedRounds - 1, 0), 20)
        let ceiling = min(maxMs, baseMs << exponent)
        return Int.random(in: (ceiling / 2)...ceiling, using: &generator)
    }
}
