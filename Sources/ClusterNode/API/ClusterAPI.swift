import Foundation
import Replication
import Transport

/// The pair's status and controls: `GET /dls/api/admin/cluster`,
/// `POST /dls/api/admin/cluster/switchover`, and `POST
/// /dls/api/admin/cluster/drills` where `lts drill` leaves its last report.
///
/// Invariant: status is read from the driver's replica as it is now;
/// nothing here changes the log except through the replica. The last drill
/// report is a JSON object of at most `drillReportBytesMax`, kept in memory
/// on the node it was sent to (the primary at the drill's end).
final class ClusterAPI {
    private let loop: EventLoop
    private let driver: ClusterDriver
    private let service: LicenseService
    private let admin: AdminAPI
    private let nodeUUID: String
    /// The last drill report, as sent.
    private var lastDrill: Any = NSNull()
    static let drillReportBytesMax = 16 * 1024

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
            ("POST", "/api/admin/cluster/drills", HTTPServer.Route(bodyLimitBytes: Self.drillReportBytesMax) { [unowned self] in
                self.keepDrillReport($0)
            }),
        ]
    }

    /// The whole status of this node's side of the pair.
    var status: [String: Any] {
        let replica = driver.replica
        var peer: [String: Any] = ["url": driver.peerURL, "state": peerState]
        if let reads = driver.peerReads { peer["replication"] = reads.header }
        if let reason = driver.peerHeldForUpgrade { peer["heldForUpgrade"] = reason }
        switch replica.role {
        case .primary:
            if let attached = replica.peer {
                peer["flushedLsn"] = attached.flushedLsn
                peer["lagRecords"] = replica.standbyLagRecords
                peer["lastHeardAgoMs"] = loop.nowMs - min(loop.nowMs, attached.lastHeardMs)
                if let transfer = attached.snapshot {
                    peer["snapshot"] = ["totalBytes": transfer.totalBytes.map { $0 as Any } ?? NSNull(), "sentBytes": transfer.sentBytes,
                                        "ackedBytes": transfer.ackedBytes]
                }
            }
        case .standby:
            peer["lastHeardAgoMs"] = loop.nowMs - min(loop.nowMs, replica.lastHeardMs)
            if let incoming = replica.incomingSnapshot {
                peer["snapshot"] = ["totalBytes": incoming.totalBytes, "receivedBytes": incoming.receivedBytes]
            }
            if let lsn = replica.refusedDivergenceLsn { peer["refusedDivergenceAtLsn"] = lsn }
        }
        var witness: Any = NSNull()
        if let status = driver.witnessStatus {
            witness = ["url": status.url, "reachable": status.reachable, "problem": status.problem.map { $0 as Any } ?? NSNull(),
                       "leaseRemainingMs": status.leaseRemainingMs, "standbyPromiseRemainingMs": status.standbyPromiseRemainingMs,
                       "highestTerm": status.highestTerm, "acceptsWrites": replica.acceptsWrites] as [String: Any]
        }
        return ["uuid": nodeUUID, "clusterUuid": service.state.clusterUUID.map { $0 as Any } ?? NSNull(), "witness": witness, "role": replica.role.rawValue, "term": replica.term, "lsn": replica.lastLsn,
                "flushedLsn": replica.flushedLsn, "commitLsn": replica.commitLsn, "mode": replica.config.mode.rawValue,
                "degraded": replica.degraded, "switchoverInProgress": replica.handingOverSinceMs != nil,
                "failoversTotal": replica.failoversTotal, "lastFailoverSilenceMs": replica.lastFailoverSilenceMs.map { $0 as Any } ?? NSNull(), "reconciledTotal": driver.reconciledTotal,
                "reconcileOverrunsTotal": driver.reconcileOverrunsTotal, "reconcileVoidsTotal": driver.reconcileVoidsTotal, "reconcileQueue": replica.hasReconcileQueue,
                "checkpointLsn": replica.compaction.checkpointLsn, "compactedLsn": replica.compaction.compactedLsn,
                "replicationLagMs": driver.lag.summary, "lastDrill": lastDrill, "heartbeatMs": replica.config.heartbeatMs, "failoverTimeoutMs": replica.config.failoverTimeoutMs, "peer": peer]
    }

    /// `attached` when the standby streams with this node, `sendingSnapshot`
    /// / `receivingSnapshot` while a snapshot is on its way, `diverged` when
    /// this standby refuses a primary whose log leaves its own behind its
    /// compacted log, else `unreachable`.
    var peerState: String {
        let replica = driver.replica
        switch replica.role {
        case .primary:
            if driver.peerHeldForUpgrade != nil { return "heldForUpgrade" }
            guard let peer = replica.peer else { return "unreachable" }
            return peer.snapshot == nil ? "attached" : "sendingSnapshot"
        case .standby:
            if replica.refusedDivergenceLsn != nil { return "diverged" }
            if replica.incomingSnapshot != nil { return "receivingSnapshot" }
            return replica.attached ? "attached" : "unreachable"
        }
    }

    private func switchover(_ request: HTTPRequest) {
        guard admin.authorized(request) else { return }
        if let refusal = driver.writeRefusal() { return request.respond(error: refusal) }
        guard driver.requestSwitchover() else {
            return request.respond(error: APIError(status: 409, code: -20102,
                                                   message: "No standby is attached: a switchover needs a standby that holds the log."))
        }
        request.respondJSON(status: 202, ["switchover": "started", "term": driver.replica.term, "lsn": driver.replica.lastLsn])
    }

    private func keepDrillReport(_ request: HTTPRequest) {
        guard admin.authorized(request) else { return }
        guard let report = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any], report["kind"] is String else {
            return request.respond(error: APIError.badRequest("A drill report is a JSON object with a \"kind\"."))
        }
        lastDrill = report
        request.respondJSON(status: 201, ["kept": true])
    }
}
