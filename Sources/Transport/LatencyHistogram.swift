/// Request latencies in fixed buckets, as Prometheus histograms count them.
///
/// Invariant: `counts[i]` counts the observations at or below
/// `boundsMs[i]` and above the bound before it; the last count is the
/// overflow (+Inf); `count` is their sum.
public struct LatencyHistogram: Equatable {
    /// Upper bounds of the buckets, in milliseconds.
    public static let boundsMs: [Double] = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000]

    public private(set) var counts = [UInt64](repeating: 0, count: LatencyHistogram.boundsMs.count + 1)
    public private(set) var count: UInt64 = 0
    public private(set) var sumMs: Double = 0

    public init() {}

    public mutating func record(nanoseconds: UInt64) {
        let ms = Double(nanoseconds) / 1_000_000
        let bucket = Self.boundsMs.firstIndex { ms <= $0 } ?? Self.boundsMs.count
        counts[bucket] += 1
        count += 1
        sumMs += ms
    }

    /// The histogram's sample lines in Prometheus text format under `name`
    /// (in seconds, as Prometheus names durations), each with `labels`
    /// (`route="/api/health",status="2xx"`, or "") besides `le`.
    public func samples(name: String, labels: String) -> [String] {
        let before = labels.isEmpty ? "" : labels + ","
        let own = labels.isEmpty ? "" : "{\(labels)}"
        var lines: [String] = []
        var cumulative: UInt64 = 0
        for (index, bound) in Self.boundsMs.enumerated() {
            cumulative += counts[index]
            lines.append("\(name)_bucket{\(before)le=\"\(bound / 1000)\"} \(cumulative)")
        }
        lines.append("\(name)_bucket{\(before)le=\"+Inf\"} \(count)")
        lines.append("\(name)_sum\(own) \(sumMs / 1000)")
        lines.append("\(name)_count\(own) \(count)")
        return lines
    }
}
