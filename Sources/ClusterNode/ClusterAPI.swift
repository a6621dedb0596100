import Foundation
import Replication
import Transport

/// The pair's status and controls: `GET /dls/api/admin/cluster`,
/// `POST /dls/api/admin/cluster/switchover` and `GET /dls/metrics`.
///
/// Invariant: status is read from the driver's replica as it is now;
/// nothing here changes the log except through the replica.
final class ClusterAPI {
    private let loop: EventLoop
    private let driver: ClusterDriver
    private let service: LicenseService
    private let admin: AdminAPI
    private let nodeUUID: String

    init(loop: EventLoop, driver: ClusterDriver, service: LicenseService, admin: AdminAPI, nodeUUID: String) {
        self.loop = loop
        self.driver = driver
        self.service = service
        self.admin = admin
        self.nodeUUID = nodeUUID
    }

    var routes: [RouteSpec] {
        [
            ("GET", "/api/admin/cluster", HTTPServer.Route { [unowned self] request in
                guard self.admin.authorized(request) else { return }
                request.respondJSON(self.status)
            }),
            ("POST", "/api/admin/cluster/switchover", HTTPServer.Route(bodyLimitBytes: 4096) { [unowned self] in self.switchover($0) }),
            ("GET", "/metrics", HTTPServer.Route { [unowned self] request in
                request.respond(status: 200, headers: [("content-type", "text/plain; version=0.0.4")], body: Data(self.metrics.utf8))
            }),
        ]
    }

    /// The whole status of this node's side of the pair.
    var status: [String: Any] {
        let replica = driver.replica
        var peer: [String: Any] = ["url": driver.peerURL, "state": peerState]
        switch replica.role {
        case .primary:
            if let attached = replica.peer {
                peer["flushedLsn"] = attached.flushedLsn
                peer["lagRecords"] = replica.lastLsn - min(replica.lastLsn, attached.flushedLsn)
                peer["lastHeardAgoMs"] = loop.nowMs - min(loop.nowMs, attached.lastHeardMs)
            }
        case .standby:
            peer["lastHeardAgoMs"] = loop.nowMs - min(loop.nowMs, replica.lastHeardMs)
        }
        return ["uuid": nodeUUID, "role": replica.role.rawValue, "term": replica.term, "lsn": replica.lastLsn,
                "flushedLsn": replica.flushedLsn, "commitLsn": replica.commitLsn, "mode": replica.config.mode.rawValue,
                "degraded": replica.degraded, "switchoverInProgress": replica.handingOverSinceMs != nil,
                "failoversTotal": replica.failoversTotal, "lastFailoverSilenceMs": replica.lastFailoverSilenceMs.map { $0 as Any } ?? NSNull(), "reconciledTotal": driver.reconciledTotal,
                "reconcileOverrunsTotal": driver.reconcileOverrunsTotal, "reconcileQueue": replica.hasReconcileQueue,
                "replicationLagMs": driver.lag.summary, "heartbeatMs": replica.config.heartbeatMs, "failoverTimeoutMs": replica.config.failoverTimeoutMs, "peer": peer]
    }

    /// `attached` when the standby streams with this node, else `unreachable`.
    var peerState: String {
        let replica = driver.replica
        switch replica.role {
        case .primary: return replica.peer == nil ? "unreachable" : "attached"
        case .standby: return replica.attached ? "attached" : "unreachable"
        }
    }

    private func switchover(_ request: HTTPRequest) {
        guard admin.authorized(request) else { return }
        if let refusal = driver.writeRefusal { return request.respond(error: refusal) }
        guard driver.requestSwitchover() else {
            return request.respond(error: APIError(status: 409, code: -20102,
                                                   message: "No standby is attached: a switchover needs a standby that holds the log."))
        }
        request.respondJSON(status: 202, ["switchover": "started", "term": driver.replica.term, "lsn": driver.replica.lastLsn])
    }

    /// Prometheus text format.
    private var metrics: String {
        let replica = driver.replica
        let lag = replica.peer.map { replica.lastLsn - min(replica.lastLsn, $0.flushedLsn) } ?? 0
        var lines: [String] = []
        func gauge(_ name: String, _ help: String, _ value: UInt64, type: String = "gauge") {
            lines += ["# HELP \(name) \(help)", "# TYPE \(name) \(type)", "\(name) \(value)"]
        }
        lines += ["# HELP lts_role The node's role (1 for the current one).", "# TYPE lts_role gauge"]
        for role in [Replica.Role.primary, .standby] {
            lines.append("lts_role{role=\"\(role.rawValue)\"} \(replica.role == role ? 1 : 0)")
        }
        gauge("lts_term", "The current term.", replica.term)
        gauge("lts_lsn", "The last log sequence number on this node.", replica.lastLsn)
        gauge("lts_commit_lsn", "The last LSN acknowledged to clients (primary) or known committed (standby).", replica.commitLsn)
        gauge("lts_replication_lag_records", "Records the standby has not flushed yet (primary only).", lag)
        gauge("lts_degraded", "1 while a sync primary answers without its standby.", replica.degraded ? 1 : 0)
        gauge("lts_failovers_total", "Times this node became primary.", replica.failoversTotal, type: "counter")
        gauge("lts_grants_total", "Grants applied on this node.", UInt64(service.state.grantsTotal), type: "counter")
        gauge("lts_reconciled_records_total", "Records applied again after a failover.", UInt64(driver.reconciledTotal), type: "counter")
        return lines.joined(separator: "\n") + "\n"
    }
}
