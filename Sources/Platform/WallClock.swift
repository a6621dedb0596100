import Foundation

/// The node's wall clock, read only by the shell: decisions and records get
/// their time from here, `apply` never reads a clock.
public enum WallClock {
    /// Whole seconds since 1970 UTC.
    public static func nowSeconds() -> Int64 {
        Int64(Date().timeIntervalSince1970)
    }

    /// Milliseconds since 1970 UTC.
    public static func nowMs() -> UInt64 {
        UInt64(Date().timeIntervalSince1970 * 1000)
    }
}
