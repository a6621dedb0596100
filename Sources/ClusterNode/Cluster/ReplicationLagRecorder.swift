/// How long records take from being appended on the primary to being
/// flushed on the standby, over the most recent samples.
///
/// Invariant: `pending` is in increasing LSN order and holds only LSNs the
/// standby has not flushed; at most `samplesMax` samples are kept (the oldest
/// go first) and at most `pendingMax` appends wait.
struct ReplicationLagRecorder {
    static let samplesMax = 65_536
    static let pendingMax = 65_536

    private var pending: [(lsn: UInt64, atMs: UInt64)] = []
    private var pendingStart = 0
    private var samples: [UInt64] = []
    private var nextSample = 0

    /// Records through `lsn` were appended at `atMs`.
    mutating func appended(through lsn: UInt64, atMs: UInt64) {
        guard pending.count - pendingStart < Self.pendingMax else { return }
        pending.append((lsn, atMs))
    }

    /// The standby flushed through `lsn` at `atMs`.
    mutating func flushed(through lsn: UInt64, atMs: UInt64) {
        while pendingStart < pending.count, pending[pendingStart].lsn <= lsn {
            record(atMs - min(atMs, pending[pendingStart].atMs))
            pendingStart += 1
        }
        if pendingStart == pending.count {
            pending = []
            pendingStart = 0
        } else if pendingStart > 4096 {
            pending.removeFirst(pendingStart)
            pendingStart = 0
        }
    }

    /// The standby is gone: what waits will not be measured.
    mutating func forgetPending() {
        pending = []
        pendingStart = 0
    }

    private mutating func record(_ lagMs: UInt64) {
        if samples.count < Self.samplesMax {
            samples.append(lagMs)
        } else {
            samples[nextSample] = lagMs
            nextSample = (nextSample + 1) % Self.samplesMax
        }
    }

    /// p50, p99 and max of the samples kept, in ms, and their count.
    var summary: [String: UInt64] {
        guard !samples.isEmpty else { return ["samples": 0] }
        let sorted = samples.sorted()
        func at(_ p: Double) -> UInt64 { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        return ["p50": at(0.5), "p99": at(0.99), "max": sorted.last!, "samples": UInt64(sorted.count)]
    }
}
