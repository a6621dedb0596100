/// How long requests took, by the route that answered them and the class
/// of their status: the histogram `lts_http_request_duration_seconds{route,status}`.
///
/// Invariant: one `LatencyHistogram` per route and status class, all made
/// with the server, so recording a request only updates counts in place (no
/// allocation per request). `routes` are the router's patterns as
/// registered, then `unmatched` (no route: 404 or 405, or refused before
/// routing); a request whose connection went away unanswered is not counted.
public struct RequestLatencies {
    public static let statusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"]
    public static let unmatched = "unmatched"

    /// The route labels, by the router's route number.
    public let routes: [String]
    private var histograms: [LatencyHistogram]

    init(patterns: [String]) {
        routes = patterns + [Self.unmatched]
        histograms = Array(repeating: LatencyHistogram(), count: routes.count * Self.statusClasses.count)
    }

    /// The route number of `unmatched`.
    var unmatchedRoute: Int { routes.count - 1 }

    /// Counts one answered request (`status` 100–599; others are not counted).
    mutating func record(route: Int, status: Int, nanoseconds: UInt64) {
        let statusClass = status / 100 - 1
        guard Self.statusClasses.indices.contains(statusClass) else { return }
        histograms[route * Self.statusClasses.count + statusClass].record(nanoseconds: nanoseconds)
    }

    /// The histogram in Prometheus text format under `name`, one labelled
    /// series per route and status class that counted a request.
    public func prometheus(name: String, help: String) -> String {
        var lines = ["# HELP \(name) \(help)", "# TYPE \(name) histogram"]
        for (index, histogram) in histograms.enumerated() where histogram.count > 0 {
            let route = routes[index / Self.statusClasses.count]
            let status = Self.statusClasses[index % Self.statusClasses.count]
            lines += histogram.samples(name: name, labels: "route=\"\(route)\",status=\"\(status)\"")
        }
        return lines.joined(separator: "\n")
    }
}
