import Foundation
import LTSTestSupport
import XCTest

/// `GET /dls/metrics` counts what clients saw: grants, repeats and
/// refusals by code, and every request in the latency histogram.
final class MetricsTests: XCTestCase {
    func testClientCallsAreCountedByOutcomeAndRequestsByLatency() throws {
        let licensed = try LicensedNode()
        _ = try licensed.importLicense(try licensed.issue(items: ["itemId=s,product=dbr,chargeWay=scan,quantity=3,expires=2099-12-31"]))
        for index in 0..<3 {
            XCTAssertEqual(try licensed.client("authorize", ["handshakeCode": "acme-1", "clientUUID": "c", "product": "dbr",
                                                             "requestId": "r\(index)"]).status, 200)
        }
        XCTAssertEqual(try licensed.client("authorize", ["handshakeCode": "acme-1", "clientUUID": "c", "product": "dbr", "requestId": "r0"]).status, 200)
        XCTAssertEqual(try licensed.client("authorize", ["handshakeCode": "acme-1", "clientUUID": "c", "product": "dbr"]).status, 403)
        XCTAssertEqual(try licensed.client("authorize", ["handshakeCode": "nope-1", "clientUUID": "c", "product": "dbr"]).status, 403)
        let values = try licensed.node.metrics()
        XCTAssertEqual(values["lts_client_calls_total{call=\"authorize\",result=\"granted\"}"], 3)
        XCTAssertEqual(values["lts_client_calls_total{call=\"authorize\",result=\"repeated\"}"], 1)
        XCTAssertEqual(values["lts_client_calls_total{call=\"authorize\",result=\"-20120\"}"], 1)
        XCTAssertEqual(values["lts_client_calls_total{call=\"authorize\",result=\"-20110\"}"], 1)
        XCTAssertEqual(values["lts_grants_total"], 3)
        XCTAssertEqual(values["lts_role{role=\"standalone\"}"], 1)
        XCTAssertEqual(values["lts_event_loop_busy_over_budget_total"], 0)
        XCTAssertGreaterThan(values["lts_event_loop_busy_max_ms"] ?? 0, 0, "the loop's turns took some CPU time")
        // Issue 20: requests by route pattern (never the raw path) and status class.
        func requests(_ route: String, _ status: String) -> Double? {
            values["lts_http_request_duration_seconds_count{route=\"\(route)\",status=\"\(status)\"}"]
        }
        XCTAssertEqual(requests("/api/v1/authorize", "2xx"), 4)
        XCTAssertEqual(requests("/api/v1/authorize", "4xx"), 2)
        XCTAssertEqual(values["lts_http_request_duration_seconds_bucket{route=\"/api/v1/authorize\",status=\"4xx\",le=\"+Inf\"}"], 2)
        XCTAssertNil(requests("/api/v1/authorize", "5xx"), "a class that counted nothing has no series")
        XCTAssertEqual(try licensed.node.client.send("GET", licensed.node.url("/api/handshakes/acme-1/nothing")).status, 404)
        XCTAssertEqual(try licensed.node.client.send("DELETE", licensed.node.url("/api/health")).status, 405)
        _ = try licensed.health()
        let after = try licensed.node.metrics()
        XCTAssertEqual(after["lts_http_request_duration_seconds_count{route=\"unmatched\",status=\"4xx\"}"], 2)
        XCTAssertEqual(after["lts_http_request_duration_seconds_count{route=\"/metrics\",status=\"2xx\"}"], 1, "the first scrape")
        XCTAssertGreaterThanOrEqual(after["lts_http_request_duration_seconds_count{route=\"/api/health\",status=\"2xx\"}"] ?? 0, 1)
        XCTAssertFalse(after.keys.contains { $0.contains("acme-1") }, "no raw path is a label")
    }

    func testAPairReportsRolesTermsAndReplication() throws {
        let pair = try NodePair()
        let primary = try pair.startBoth()
        let lead = try pair.nodes[primary].metrics()
        let follow = try pair.nodes[1 - primary].metrics()
        XCTAssertEqual(lead["lts_role{role=\"primary\"}"], 1)
        XCTAssertEqual(follow["lts_role{role=\"standby\"}"], 1)
        XCTAssertEqual(lead["lts_term"], follow["lts_term"])
        XCTAssertEqual(lead["lts_degraded"], 0)
        XCTAssertEqual(lead["lts_failovers_total"], 1)
        XCTAssertNotNil(lead["lts_replication_lag_records"])
        // A fresh self-signed certificate runs 825 days.
        XCTAssertEqual(lead["lts_tls_certificate_expiry_seconds"] ?? 0, 825 * 86_400, accuracy: 86_400)
        try assertServed(metricsOf: deploy("prometheus/lts-rules.yml"), in: lead)
    }

    /// Issue 20: deploy/prometheus/lts-rules.yml names only metrics a primary serves.
    private func assertServed(metricsOf rules: String, in values: [String: Double]) throws {
        let text = try String(contentsOfFile: rules, encoding: .utf8)
        let used = Set(text.split { !($0.isLetter || $0.isNumber || $0 == "_") }.filter { $0.hasPrefix("lts_") }.map(String.init))
        XCTAssertTrue(used.contains("lts_role") && used.contains("lts_tls_certificate_expiry_seconds"), "\(used)")
        let served = Set(values.keys.map { String($0.prefix { $0 != "{" }) })
        for name in used.sorted() {
            XCTAssertTrue(served.contains(name), "\(rules) uses \(name), which the node does not serve")
        }
    }

    private func deploy(_ path: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/" + path).path
    }
}
