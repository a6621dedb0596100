import CH2O

/// A high-resolution monotonic clock for measurements (benchmarks), not for
/// decisions: the loop's cached `nowMs` is the clock of the node's logic.
public enum MonotonicClock {
    /// Nanoseconds from an arbitrary origin.
    public static func nanoseconds() -> UInt64 {
        uv_hrtime()
    }
}
