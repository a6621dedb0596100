import Foundation
import LicenseState
import Platform
import Replication
import Transport

/// The pair's status and controls: `GET /dls/api/admin/cluster`,
/// `POST /dls/api/admin/cluster/switchover`, and the drills: `POST
/// /dls/api/admin/cluster/drills` where `lts drill` leaves its report, `GET
/// /dls/api/admin/cluster/drills[/{id}]` that lists them, and `POST
/// /dls/api/admin/cluster/drills/pass` that gives a drill's load its pass.
///
/// Invariant: status is read from the driver's replica as it is now;
/// nothing here changes the log except through the replica and the audit
/// entries of a switchover and of a drill report (`AdminAPI.audit`). A drill
/// report is a JSON object with a string `kind` and a lowercase UUID `id`
/// (given one when it has none), at most `DrillRecord.reportBytesMax` bytes,
/// logged (`LogRecord.drillReport`) and so kept on both nodes and across
/// restarts.
final class ClusterAPI {
    private let loop: EventLoop
    private let driver: ClusterDriver
    private let service: LicenseService
    private let admin: AdminAPI
    private let nodeUUID: String
    private let drillPass: DrillPass
    static let drillReportBytesMax = DrillRecord.reportBytesMax
    static let drillKindBytesMax = 64

    init(loop: EventLoop, driver: ClusterDriver, service: LicenseService, admin: AdminAPI, nodeUUID: String, drillPass: DrillPass) {
        self.loop = loop
        self.driver = driver
        self.service = service
        self.admin = admin
        self.nodeUUID = nodeUUID
        self.drillPass = drillPass
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
            ("GET", "/api/admin/cluster/drills", HTTPServer.Route { [unowned self] in self.drills($0) }),
            ("GET", "/api/admin/cluster/drills/{id}", HTTPServer.Route { [unowned self] in self.drill($0, id: $0.parameters["id"] ?? "") }),
            ("POST", "/api/admin/cluster/drills/pass", HTTPServer.Route(bodyLimitBytes: 4096) { [unowned self] in self.issueDrillPass($0) }),
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
        return ["uuid": nodeUUID, "pid": Int(getpid()), "clusterUuid": service.state.clusterUUID.map { $0 as Any } ?? NSNull(), "witness": witness, "role": replica.role.rawValue, "term": replica.term, "lsn": replica.lastLsn,
                "flushedLsn": replica.flushedLsn, "commitLsn": replica.commitLsn, "mode": replica.config.mode.rawValue,
                "degraded": replica.degraded, "switchoverInProgress": replica.handingOverSinceMs != nil,
                "failoversTotal": replica.failoversTotal, "lastFailoverSilenceMs": replica.lastFailoverSilenceMs.map { $0 as Any } ?? NSNull(), "reconciledTotal": driver.reconciledTotal,
                "reconcileOverrunsTotal": driver.reconcileOverrunsTotal, "reconcileVoidsTotal": driver.reconcileVoidsTotal, "reconcileQueue": driver.hasReconcileQueue,
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
        if let refusal = driver.writeRefusal() {
            admin.audit(.switchover, request, object: driver.peerURL, refusal: refusal.code)
            return request.respond(error: refusal)
        }
        // Audited before it starts: a switchover soon stops this node writing the log.
        guard driver.replica.peer != nil else {
            let refusal = APIError(status: 409, code: -20102, message: "No standby is attached: a switchover needs a standby that holds the log.")
            admin.audit(.switchover, request, object: driver.peerURL, refusal: refusal.code)
            return request.respond(error: refusal)
        }
        admin.audit(.switchover, request, object: driver.peerURL)
        guard driver.requestSwitchover() else {
            // The replica refused after all (its standby fell silent, or a durable step is under way): a second entry says so.
            let refusal = APIError(status: 409, code: -20102, message: "No standby is attached: a switchover needs a standby that holds the log.")
            admin.audit(.switchover, request, object: driver.peerURL, refusal: refusal.code)
            return request.respond(error: refusal)
        }
        request.respondJSON(status: 202, ["switchover": "started", "term": driver.replica.term, "lsn": driver.replica.lastLsn])
    }

    // MARK: Drills

    /// The newest drill report, parsed (null when there is none).
    private var lastDrill: Any {
        guard let newest = service.state.drills.records.last else { return NSNull() }
        return (try? JSONSerialization.jsonObject(with: Data(newest.report))) ?? NSNull()
    }

    /// Logs the report (on the primary only). A report that names an ID kept
    /// already is kept once: 200 instead of 201, nothing logged.
    private func keepDrillReport(_ request: HTTPRequest) {
        guard admin.authorized(request) else { return }
        if let refusal = driver.writeRefusal() ?? service.backlogRefusal { return request.respond(error: refusal) }
        guard var report = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any], let kind = report["kind"] as? String,
              !kind.isEmpty, kind.utf8.count <= Self.drillKindBytesMax else {
            let refusal = APIError.badRequest("A drill report is a JSON object with a \"kind\" of 1 to \(Self.drillKindBytesMax) bytes.")
            admin.audit(.drillReport, request, refusal: refusal.code)
            return request.respond(error: refusal)
        }
        var bytes = Array(request.body)
        if report["id"] == nil {
            report["id"] = Crypto.randomUUID().lowercased()
            bytes = Array((try? JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
        }
        guard let id = report["id"] as? String, ClusterIdentity.isWellFormed(id) else {
            let refusal = APIError.badRequest("A drill report's \"id\" is a lowercase UUID.")
            admin.audit(.drillReport, request, object: kind, refusal: refusal.code)
            return request.respond(error: refusal)
        }
        guard DrillRecord.isValid(id: id, report: bytes) else {
            let refusal = APIError.bodyTooLarge(limitBytes: Self.drillReportBytesMax)
            admin.audit(.drillReport, request, object: id, refusal: refusal.code)
            return request.respond(error: refusal)
        }
        if service.state.drills[id] != nil { return request.respondJSON(status: 200, ["kept": true, "id": id]) }
        service.commit(.drillReport(DrillRecord(id: id, report: bytes, at: WallClock.nowSeconds())), request: request) { entry in
            request.respondJSON(status: 201, ["kept": true, "id": id, "lsn": entry.lsn])
        }
        admin.audit(.drillReport, request, object: "\(kind) \(id)")
    }

    /// The kept reports, newest first, as they were sent (their bytes are
    /// joined, not parsed again: 200 reports are up to 3 MiB).
    private func drills(_ request: HTTPRequest) {
        guard admin.authorized(request) else { return }
        var body = Data("[".utf8)
        for (index, drill) in service.state.drills.newestFirst.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: drill.report)
        }
        body.append(UInt8(ascii: "]"))
        request.respond(status: 200, headers: [("content-type", "application/json")], body: body)
    }

    private func drill(_ request: HTTPRequest, id: String) {
        guard admin.authorized(request) else { return }
        guard let drill = service.state.drills[id] else {
            return request.respond(error: APIError(status: 404, code: -20104, message: "There is no drill report with the ID \"\(id.prefix(64))\"."))
        }
        request.respond(status: 200, headers: [("content-type", "application/json")], body: Data(drill.report))
    }

    /// A pass for the drill code (`DrillPass`), on either node: the pass
    /// opens the code on both.
    private func issueDrillPass(_ request: HTTPRequest) {
        guard admin.authorized(request) else { return }
        let issued = drillPass.issue(now: WallClock.nowSeconds())
        request.respondJSON(status: 201, ["pass": issued.pass, "expiresAt": UTCTime.format(issued.expiresAt), "handshakeCode": DrillItem.handshakeCode,
                                          "product": DrillItem.product])
    }
}
