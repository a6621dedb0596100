import Foundation
import LicenseState
import Platform
import Replication
import Transport

/// `GET /dls/metrics`: the node in Prometheus text format — its role and
/// log, replication (in a pair), client calls by outcome, usage alert
/// emails and request latency.
///
/// Invariant: every value is read when the scrape arrives; nothing is
/// kept here.
final class MetricsAPI {
    private let service: LicenseService
    private let clientAPI: ClientAPI
    private let driver: ClusterDriver?
    private let alerts: AlertMonitor
    private let lagProbe: LoopLagProbe
    private let busyProbe: LoopBusyProbe
    /// The server, once it exists (it is made after the routes).
    var server: HTTPServer?
    /// The password thread's queue.
    var passwords: PasswordWork?
    /// What knows the TLS certificate served (nil without TLS).
    var certificate: CertificateReloader?

    init(service: LicenseService, clientAPI: ClientAPI, driver: ClusterDriver?, alerts: AlertMonitor, lagProbe: LoopLagProbe,
         busyProbe: LoopBusyProbe) {
        self.lagProbe = lagProbe
        self.busyProbe = busyProbe
        self.service = service
        self.clientAPI = clientAPI
        self.driver = driver
        self.alerts = alerts
    }

    var routes: [RouteSpec] {
        [("GET", "/metrics", HTTPServer.Route { [unowned self] request in
            request.respond(status: 200, headers: [("content-type", "text/plain; version=0.0.4")], body: Data(self.text.utf8))
        })]
    }

    private var text: String {
        var lines: [String] = []
        func metric(_ name: String, _ help: String, type: String = "gauge", _ samples: [(labels: String, value: String)]) {
            lines += ["# HELP \(name) \(help)", "# TYPE \(name) \(type)"]
            lines += samples.map { "\(name)\($0.labels) \($0.value)" }
        }
        let role = driver.map { $0.replica.role.rawValue } ?? "standalone"
        metric("lts_role", "The node's role (1 for the current one).",
               ["primary", "standby", "standalone"].map { ("{role=\"\($0)\"}", $0 == role ? "1" : "0") })
        metric("lts_term", "The current term.", [("", "\(driver?.replica.term ?? service.term)")])
        metric("lts_lsn", "The last log sequence number on this node.", [("", "\(service.lastLsn)")])
        metric("lts_store_disk_full", "1 while the data dir's disk is full and writes are refused.", [("", service.diskFull ? "1" : "0")])
        metric("lts_event_loop_lag_max_ms", "The longest the event loop was held (a timer ran late), since the node started.",
               [("", "\(lagProbe.maxLagMs)")])
        metric("lts_event_loop_stalls_total", "Times the event loop was held \(LoopLagProbe.stallMs) ms or more.", type: "counter",
               [("", "\(lagProbe.stallsTotal)")])
        metric("lts_event_loop_busy_max_ms",
               "The most CPU time one turn of the event loop took (the node's own work, without waits and time other processes held the core), since the node started.",
               [("", String(format: "%.3f", busyProbe.maxBusyMs))])
        metric("lts_event_loop_busy_over_budget_total", "Turns of the event loop that took \(LoopLagProbe.stallMs) ms of CPU time or more.",
               type: "counter", [("", "\(busyProbe.overBudgetTotal)")])
        metric("lts_event_loop_lag_ms", "How late a timer due every \(LoopLagProbe.intervalMs) ms ran on the event loop.", type: "histogram",
               zip(LoopLagProbe.bucketBoundsMs, lagProbe.lagsAtMost).map { ("_bucket{le=\"\($0)\"}", "\($1)") }
               + [("_bucket{le=\"+Inf\"}", "\(lagProbe.firingsTotal)"), ("_sum", "\(lagProbe.lagSumMs)"), ("_count", "\(lagProbe.firingsTotal)")])
        if let driver {
            let replica = driver.replica
            metric("lts_commit_lsn", "The last LSN acknowledged to clients (primary) or known committed (standby).", [("", "\(replica.commitLsn)")])
            metric("lts_replication_lag_records", "Records the standby has not flushed yet (primary only).", [("", "\(replica.standbyLagRecords ?? 0)")])
            metric("lts_degraded", "1 while a sync primary answers without its standby.", [("", replica.degraded ? "1" : "0")])
            metric("lts_failovers_total", "Times this node became primary.", type: "counter", [("", "\(replica.failoversTotal)")])
            metric("lts_stalled_ms_total", "Time this node itself did not run (gaps of half the failover timeout or more), which failure detection did not count as the peer's silence.",
                   type: "counter", [("", "\(replica.stalledForMsTotal)")])
            if let witness = driver.witnessStatus {
                metric("lts_witness_reachable", "1 when the witness answered this node's last request.", [("", witness.reachable ? "1" : "0")])
                metric("lts_witness_lease_remaining_ms", "How long this primary's lease from the witness still runs (0 on a standby).",
                       [("", "\(witness.leaseRemainingMs)")])
                metric("lts_witness_standby_promise_remaining_ms", "How long this primary may still count on its standby not taking over, by its last acknowledgement (0 on a standby).",
                       [("", "\(witness.standbyPromiseRemainingMs)")])
            }
            metric("lts_reconciled_records_total", "Records applied again after a failover.", type: "counter", [("", "\(driver.reconciledTotal)")])
            metric("lts_reconcile_overruns_total", "Reconciled grants that took a license item past its quantity plus grace.", type: "counter",
                   [("", "\(driver.reconcileOverrunsTotal)")])
            metric("lts_reconcile_voided_grants_total", "Grants voided by reconciliation: the other node answered their request to a later attempt.",
                   type: "counter", [("", "\(driver.reconcileVoidsTotal)")])
        }
        metric("lts_grants_total", "Grants in this node's log.", type: "counter", [("", "\(service.state.grantsTotal)")])
        var calls: [(String, String)] = []
        for (kind, outcomes) in clientAPI.outcomes.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let call = kind == .authorize ? "authorize" : "report"
            for (result, count) in outcomes.sorted(by: { $0.key < $1.key }) {
                calls.append(("{call=\"\(call)\",result=\"\(result)\"}", "\(count)"))
            }
        }
        metric("lts_client_calls_total", "Authorize and report calls by result: granted, repeated, or the refusal's code.",
               type: "counter", calls)
        let emails = service.state.alerts.emails
        metric("lts_alert_emails", "Alert emails kept in the log, by delivery status (the last 50 finished, and every pending one).",
               [("pending", AlertEmail.Status.pending), ("sent", .sent), ("failed", .failed)].map { name, status in
                   ("{status=\"\(name)\"}", "\(emails.filter { $0.status == status }.count)")
               })
        metric("lts_alert_email_attempts_total", "Alert email delivery attempts made by this node, by result.", type: "counter",
               [("{result=\"sent\"}", "\(alerts.mailer.sentTotal)"), ("{result=\"failed\"}", "\(alerts.mailer.failedAttemptsTotal)")])
        metric("lts_alert_checks_total", "Usage alert checks run by this node.", type: "counter", [("", "\(alerts.checksTotal)")])
        metric("lts_alerts_crossed", "Alert conditions alerted and still crossed.", [("", "\(service.state.alerts.alerted.count)")])
        if let passwords {
            metric("lts_password_checks_queued", "Password hashes queued or running on the password thread.", [("", "\(passwords.queued)")])
            metric("lts_password_checks_refused_total", "Password checks answered 503 because the queue was full.", type: "counter",
                   [("", "\(passwords.refusedTotal)")])
            metric("lts_password_checks_dropped_total", "Queued password checks dropped unrun because their request went away.",
                   type: "counter", [("", "\(passwords.droppedTotal)")])
        }
        if let certificate {
            metric("lts_tls_certificate_expiry_seconds", "Seconds until the served TLS certificate's notAfter (negative once expired).",
                   [("", "\(certificate.servedNotAfter - WallClock.nowSeconds())")])
        }
        if let server {
            let connections = server.connectionStats
            metric("lts_http_connections", "Open client connections, and those that have not sent a request yet (TLS handshakes included).",
                   [("{state=\"open\"}", "\(connections.open)"), ("{state=\"fresh\"}", "\(connections.fresh)")])
            metric("lts_http_connection_limit_events_total", "Times a connection limit bit, by what the node did.", type: "counter",
                   ConnectionLimitEvent.allCases.map { ("{event=\"\($0.label)\"}", "\(connections.events[$0] ?? 0)") })
            lines.append(server.latencies.prometheus(name: "lts_http_request_duration_seconds",
                                                     help: "Time from a request's arrival to its answer, by route pattern and status class."))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
