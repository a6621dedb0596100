import Logging
import Transport

/// The log lines of connection limits that bit: the first of each kind at
/// once, then at most one a minute per kind, counting the ones in between.
///
/// Invariant: every event is either logged or counted in the next line of
/// its kind.
struct ConnectionLimitLog {
    static let intervalMs: UInt64 = 60_000

    private var lastLoggedMs: [ConnectionLimitEvent: UInt64] = [:]
    private var unlogged: [ConnectionLimitEvent: Int] = [:]

    /// The line to log for `event` from `address` at `nowMs`, or nil when
    /// one of its kind was logged less than a minute ago.
    mutating func note(_ event: ConnectionLimitEvent, address: String, nowMs: UInt64) -> String? {
        if let last = lastLoggedMs[event], nowMs - last < Self.intervalMs {
            unlogged[event, default: 0] += 1
            return nil
        }
        lastLoggedMs[event] = nowMs
        let more = unlogged.removeValue(forKey: event) ?? 0
        let since = more > 0 ? " (and \(more) more times since the last such line)" : ""
        return "\(event.description), from \(address)\(since); see \"connections\" in the configuration"
    }
}
