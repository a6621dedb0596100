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
}
