/// One drill report kept in the log (`LogRecord.drillReport`): what `lts
/// drill` measured, as the JSON object it sent, under the ID it chose.
///
/// Invariant: `id` is a lowercase UUID (`ClusterIdentity.isWellFormed`)
/// and `report` holds 1 to `reportBytesMax` bytes. The core keeps the
/// report's bytes as they were logged and never reads them: the node's API
/// checked that they are a JSON object before logging them.
public struct DrillRecord: Equatable {
    /// The largest report the log keeps (what the API accepts).
    public static let reportBytesMax = 16 * 1024

    public let id: String
    /// The report, a UTF-8 JSON object.
    public let report: [UInt8]
    /// When the node logged it (UTC seconds).
    public let at: Int64

    public init(id: String, report: [UInt8], at: Int64) {
        precondition(Self.isValid(id: id, report: report), "a drill record has a UUID and a report of 1 to \(Self.reportBytesMax) bytes")
        self.id = id
        self.report = report
        self.at = at
    }

    /// Whether `id` and `report` may make a record.
    public static func isValid(id: String, report: [UInt8]) -> Bool {
        ClusterIdentity.isWellFormed(id) && !report.isEmpty && report.count <= reportBytesMax
    }
}
