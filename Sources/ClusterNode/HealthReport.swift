/// The body of `GET /dls/api/health`: what a monitor or a client needs to
/// know about one node.
struct HealthReport: Codable, Equatable {
    /// `standalone`, `primary` or `standby`.
    var role: String
    var term: UInt64
    var lsn: UInt64
    var uuid: String
    var version: String
}
