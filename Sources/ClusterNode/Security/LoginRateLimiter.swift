/// Counts failed attempts per key (a client address; for session passwords
/// also a code and an address): after `failuresMax` failures within a
/// minute, further attempts are refused until the oldest failure is a
/// minute old.
///
/// Invariant: at most `addressesMax` keys are tracked (the oldest are
/// forgotten first); times are the loop's milliseconds.
struct LoginRateLimiter {
    /// Failed admin logins a minute from one address.
    static let failuresPerMinuteMax = 5

    let failuresMax: Int

    init(failuresMax: Int = LoginRateLimiter.failuresPerMinuteMax) {
        self.failuresMax = failuresMax
    }
    static let windowMs: UInt64 = 60_000
    static let addressesMax = 10_000

    private var failures: [String: [UInt64]] = [:]

    /// True when `address` may try to log in at `nowMs`.
    mutating func allows(_ address: String, nowMs: UInt64) -> Bool {
        prune(address, nowMs: nowMs)
        return (failures[address]?.count ?? 0) < failuresMax
    }

    mutating func recordFailure(_ address: String, nowMs: UInt64) {
        prune(address, nowMs: nowMs)
        if failures[address] == nil, failures.count >= Self.addressesMax {
            let oldest = failures.min { ($0.value.last ?? 0) < ($1.value.last ?? 0) }!.key
            failures[oldest] = nil
        }
        failures[address, default: []].append(nowMs)
    }

    mutating func recordSuccess(_ address: String) {
        failures[address] = nil
    }

    private mutating func prune(_ address: String, nowMs: UInt64) {
        guard let times = failures[address] else { return }
        let kept = times.filter { $0 + Self.windowMs > nowMs }
        failures[address] = kept.isEmpty ? nil : kept
    }
}
