/// The body of `GET /dls/api/health`: what a monitor or a client needs to
/// know about one node.
///
/// Invariant: `peer` is present exactly in main_standby mode, `witness`
/// exactly when the pair has one.
struct HealthReport: Codable, Equatable {
    /// What this node knows of the other node of its pair.
    struct Peer: Codable, Equatable {
        var url: String
        /// `attached` (streaming with this node), `unreachable`, or a
        /// state on the way (`sendingSnapshot`, `receivingSnapshot`,
        /// `diverged`, `heldForUpgrade`), as the cluster status names it.
        var state: String
        /// Primary: why the standby is held until it runs a newer lts.
        var heldForUpgrade: String?
    }

    /// The pair's witness, as this node reaches it.
    struct Witness: Codable, Equatable {
        var url: String
        var reachable: Bool
        /// This node is primary and holds a live lease of its term.
        var lease: Bool
    }

    /// `standalone`, `primary` or `standby`.
    var role: String
    var term: UInt64
    var lsn: UInt64
    /// This node's own UUID.
    var uuid: String
    /// The pair's UUID (the same on both nodes; the one license files are
    /// bound to); absent until the first node to write the log logged it.
    var clusterUuid: String?
    var version: String
    /// A sync primary answering without its standby.
    var degraded: Bool?
    /// Present (true) while the data dir's disk is full: writes are refused.
    var diskFull: Bool?
    var peer: Peer?
    /// Present when the pair has a witness.
    var witness: Witness?
}
