import Foundation
import LTSTestSupport

extension NodeProcess {
    /// The node's `GET /dls/metrics`, as values by sample name (labels
    /// included, as in `name{label="value"}`).
    func metrics() throws -> [String: Double] {
        let text = String(decoding: try client.send("GET", url("/metrics")).body, as: UTF8.self)
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            values[String(line[..<space])] = value
        }
        return values
    }

    /// Event-loop timer firings more than 250 ms late since the node started
    /// (`lts_event_loop_lag_ms`: all of them less those in the 250 ms bucket).
    func timerFiringsOver250MsLate() throws -> Double {
        let values = try metrics()
        guard let count = values["lts_event_loop_lag_ms_count"], let within = values["lts_event_loop_lag_ms_bucket{le=\"250\"}"] else {
            throw MetricMissing(name: "lts_event_loop_lag_ms")
        }
        return count - within
    }

    /// Turns of the event loop that took 50 ms of the loop thread's CPU time
    /// or more since the node started (`lts_event_loop_busy_over_budget_total`),
    /// and the longest turn's CPU time in ms: what the node's own work held
    /// the loop, whatever else ran on the machine.
    func loopTurnsOverBudget() throws -> (count: Double, longestMs: Double) {
        let values = try metrics()
        guard let count = values["lts_event_loop_busy_over_budget_total"], let longest = values["lts_event_loop_busy_max_ms"] else {
            throw MetricMissing(name: "lts_event_loop_busy_over_budget_total")
        }
        return (count, longest)
    }
}

/// A metric the node should export is not in its answer.
struct MetricMissing: Error, CustomStringConvertible {
    let name: String
    var description: String { "the node exports no \(name)" }
}
