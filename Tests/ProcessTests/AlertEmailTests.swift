import Foundation
@testable import ClusterNode
import LTSTestSupport
import Transport
import XCTest

/// Usage alerts end to end: a real pair checks every 3 s and mails a real
/// SMTP server (aiosmtpd, STARTTLS and AUTH). Each crossing is mailed once,
/// a failover neither repeats nor drops an alert, a mail server that is
/// down is retried and reported, and one that hangs never holds up grants.
final class AlertEmailTests: XCTestCase {
    static let item = "itemId=scan-10,product=dbr,chargeWay=scan,quantity=10,expires=2099-12-31"
    static let recipients = ["ops@example.com"]
    static let mailTimeout: TimeInterval = 30

    /// A pair whose `lts.json` sends alerts through `smtp` (or to `port`
    /// when the server is not one that answers), node 0 leading, admin set
    /// up and the 10-scan item imported.
    func startPair(smtp: SMTPTestServer?, port: Int? = nil, timeoutSeconds: Int = 15) throws -> (pair: NodePair, code: String) {
        var mail: [String: Any] = ["host": "127.0.0.1", "port": port ?? smtp!.port, "security": "starttls", "username": "alice",
                                   "password": "s3cret", "from": "lts@example.com", "timeoutSeconds": timeoutSeconds]
        if let smtp { mail["caFile"] = smtp.caFile }
        let pair = try NodePair(extraConfig: ["alerts": ["recipients": Self.recipients, "checkMinutes": 0.05], "smtp": mail])
        XCTAssertEqual(try pair.startBoth(), 0)
        try pair.setUpAdmin(on: 0)
        return (pair, try pair.importLicense(on: 0, items: [Self.item]))
    }

    func report(_ pair: NodePair, _ index: Int, _ code: String, scans: Int) throws {
        let response = try pair.client(index).send("POST", pair.nodes[index].url("/api/v1/report"),
                                                   body: json(["handshakeCode": code, "clientUUID": "scanner-1", "scans": scans]))
        XCTAssertEqual(response.status, 200, String(decoding: response.body, as: UTF8.self))
    }

    func alerts(_ pair: NodePair, _ index: Int) throws -> [String: Any] {
        let response = try pair.admin(index, "GET", "/api/admin/alerts")
        XCTAssertEqual(response.status, 200)
        return try XCTUnwrap(response.json)
    }

    func emails(_ pair: NodePair, _ index: Int) throws -> [[String: Any]] {
        try XCTUnwrap(try alerts(pair, index)["emails"] as? [[String: Any]])
    }

    /// Waits until node `index` has run a whole alert check that started after now.
    func waitForCheck(_ pair: NodePair, _ index: Int) throws {
        let now = Int(Date().timeIntervalSince1970)
        try pair.wait(for: "an alert check on node \(index) after \(now)") {
            ((try? self.alerts(pair, index))?["lastCheckAt"] as? Int).map { $0 > now } ?? false
        }
    }

    func testCrossing60PercentMailsOnceAndTheNextCrossingMailsAgain() throws {
        let smtp = try SMTPTestServer(security: .starttls, auth: (user: "alice", password: "s3cret"))
        let (pair, code) = try startPair(smtp: smtp)
        try report(pair, 0, code, scans: 5)
        try waitForCheck(pair, 0)
        XCTAssertEqual(smtp.received.count, 0, "50 % crosses nothing")

        try report(pair, 0, code, scans: 1)
        let first = try XCTUnwrap(try smtp.waitForMessages(count: 1, timeout: Self.mailTimeout).first)
        XCTAssertEqual(first.subject, "[lts] dbr (item scan-10) reached 60 % of its quantity")
        XCTAssertTrue(first.body.contains("- dbr (item scan-10): 6 of 10 used (60 %); alert at 60 %."), first.body)
        XCTAssertEqual(first.rcptTos, Self.recipients)
        XCTAssertEqual(first.mailFrom, "lts@example.com")
        XCTAssertTrue(first.tls, "STARTTLS was used")
        XCTAssertEqual(first.authUser, "alice")

        try report(pair, 0, code, scans: 1)
        try waitForCheck(pair, 0)
        try waitForCheck(pair, 0)
        XCTAssertEqual(smtp.received.count, 1, "70 %: the 60 % crossing is not mailed again")

        try report(pair, 0, code, scans: 1)
        let both = try smtp.waitForMessages(count: 2, timeout: Self.mailTimeout)
        XCTAssertEqual(both.last?.subject, "[lts] dbr (item scan-10) reached 80 % of its quantity")
        try pair.wait(for: "both emails logged as sent") { ((try? self.emails(pair, 0)) ?? []).filter { $0["status"] as? String == "sent" }.count == 2 }

        // The standby holds the same alert book.
        try pair.login(1)
        try pair.wait(for: "the standby to list both emails as sent") {
            ((try? self.emails(pair, 1)) ?? []).map { $0["status"] as? String } == ["sent", "sent"]
        }
        let conditions = try XCTUnwrap(try alerts(pair, 1)["conditions"] as? [[String: Any]])
        let alerted = conditions.filter { !($0["alertedAt"] is NSNull) }.compactMap { $0["key"] as? String }
        XCTAssertEqual(alerted, ["item:scan-10:usage:60", "item:scan-10:usage:80"])
    }

    func testAFailoverNeitherRepeatsNorDropsAlerts() throws {
        let smtp = try SMTPTestServer(security: .starttls, auth: (user: "alice", password: "s3cret"))
        let (pair, code) = try startPair(smtp: smtp)
        try report(pair, 0, code, scans: 6)
        XCTAssertEqual(try smtp.waitForMessages(count: 1, timeout: Self.mailTimeout).first?.subject, "[lts] dbr (item scan-10) reached 60 % of its quantity")
        try pair.wait(for: "the standby to hold the sent email") {
            (try? pair.login(1)) != nil && ((try? self.emails(pair, 1)) ?? []).first?["status"] as? String == "sent"
        }

        pair.nodes[0].stop(signal: SIGKILL)
        try pair.waitForRole(1, "primary")
        let takeover = try smtp.waitForMessages(count: 2, timeout: Self.mailTimeout)[1]
        XCTAssertEqual(takeover.subject, "[lts] the primary changed")
        try report(pair, 1, code, scans: 2)
        let all = try smtp.waitForMessages(count: 3, timeout: Self.mailTimeout)
        XCTAssertEqual(all[2].subject, "[lts] dbr (item scan-10) reached 80 % of its quantity")
        try waitForCheck(pair, 1)
        let subjects = smtp.received.map(\.subject)
        XCTAssertEqual(subjects.filter { $0.contains("60 %") }.count, 1, "the 60 % alert is not repeated by the new primary: \(subjects)")
        XCTAssertEqual(subjects.count, 3, "\(subjects)")
    }

    func testADownMailServerIsRetriedAndReportedAndItsEmailSurvivesAFailover() throws {
        let closedPort = try NodePair.freePort()
        let (pair, code) = try startPair(smtp: nil, port: closedPort)
        try report(pair, 0, code, scans: 6)
        try pair.wait(for: "a failed attempt in the email list") {
            guard let email = (try? self.emails(pair, 0))?.first else { return false }
            return email["status"] as? String == "pending" && (email["attempts"] as? Int ?? 0) >= 1
                && (email["error"] as? String)?.contains("127.0.0.1:\(closedPort)") == true && !(email["nextAttemptAt"] is NSNull)
        }
        let metrics = try pair.client(0).send("GET", pair.nodes[0].url("/metrics"))
        XCTAssertTrue(String(decoding: metrics.body, as: UTF8.self).contains("lts_alert_emails{status=\"pending\"} 1"))
        XCTAssertFalse(String(decoding: metrics.body, as: UTF8.self).contains("lts_alert_email_attempts_total{result=\"failed\"} 0"))

        // The primary dies with the email still pending; the new primary
        // delivers it once the admin points it at a working server.
        try pair.login(1)
        try pair.wait(for: "the standby to hold the pending email") { ((try? self.emails(pair, 1)) ?? []).count == 1 }
        pair.nodes[0].stop(signal: SIGKILL)
        try pair.waitForRole(1, "primary")
        let smtp = try SMTPTestServer(security: .none)
        let saved = try pair.admin(1, "PUT", "/api/admin/alerts/settings", body: json([
            "recipients": "ops@example.com", "checkMinutes": 0.05,
            "smtp": ["host": "127.0.0.1", "port": smtp.port, "security": "none", "from": "lts@example.com"],
        ]))
        XCTAssertEqual(saved.status, 200, String(decoding: saved.body, as: UTF8.self))
        let delivered = try smtp.waitForMessages(count: 2, timeout: Self.mailTimeout)
        XCTAssertEqual(Set(delivered.map(\.subject)), ["[lts] dbr (item scan-10) reached 60 % of its quantity", "[lts] the primary changed"])
        try waitForCheck(pair, 1)
        XCTAssertEqual(smtp.received.count, 2, "nothing is mailed twice")
        let first = try XCTUnwrap(try emails(pair, 1).last)
        XCTAssertEqual(first["status"] as? String, "sent")
    }

    func testAHangingMailServerNeverHoldsUpGrants() throws {
        let smtp = try SMTPTestServer(security: .starttls, hang: true)
        // Long enough that the attempt is still hanging when the load ends.
        let (pair, code) = try startPair(smtp: smtp, timeoutSeconds: 600)
        let load = try pair.importLicense(on: 0, items: [NodePair.scanItem])
        let before = try measureGrants(pair, load, count: 300)
        try report(pair, 0, code, scans: 6)
        try smtp.waitForConnections(count: 1, timeout: Self.mailTimeout)
        let during = try measureGrants(pair, load, count: 300)
        let email = try XCTUnwrap(try emails(pair, 0).first)
        XCTAssertEqual(email["status"] as? String, "pending")
        XCTAssertEqual(email["attempts"] as? Int, 0, "the attempt was still hanging while the 300 grants were answered")
        print("grants/s with the mail server idle: \(Int(before)), while an alert email hangs on it: \(Int(during))")
    }

    func testTheAlertsTestCommandMailsThroughThePrimaryAndSaysWhyItCannot() throws {
        let smtp = try SMTPTestServer(security: .starttls, auth: (user: "alice", password: "s3cret"))
        let (pair, _) = try startPair(smtp: smtp)
        let servers = pair.nodes.reversed().map { $0.url("/") }.joined(separator: ",")
        let fingerprints = pair.nodes.reversed().map { $0.fingerprint.map { String(format: "%02X", $0) }.joined(separator: ":") }
            .joined(separator: ",")
        let command = ["alerts", "test", "--servers", servers, "--fingerprint", fingerprints, "--password", NodePair.adminPassword]
        let sent = try NodeProcess.run(command)
        XCTAssertEqual(sent.status, 0, sent.error)
        XCTAssertTrue(sent.output.contains("The mail server took the test email for ops@example.com"), sent.output)
        let mail = try XCTUnwrap(try smtp.waitForMessages(count: 1, timeout: Self.mailTimeout).first)
        XCTAssertEqual(mail.subject, "[lts] Test email")
        XCTAssertTrue(mail.body.contains("This is a test email from the license server"), mail.body)

        let wrong = try pair.admin(0, "PUT", "/api/admin/alerts/settings", body: json([
            "recipients": ["ops@example.com"],
            "smtp": ["host": "127.0.0.1", "port": smtp.port, "security": "starttls", "username": "alice", "password": "wrong"],
        ]))
        XCTAssertEqual(wrong.status, 200)
        XCTAssertEqual((wrong.json?["smtp"] as? [String: Any])?["passwordSet"] as? Bool, true)
        XCTAssertFalse(String(decoding: wrong.body, as: UTF8.self).contains("wrong"), "the password is never shown again")
        let refused = try NodeProcess.run(command)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.error.contains("The test email was not sent") && refused.error.contains("535"), refused.error)
        XCTAssertTrue(refused.error.contains("-20502"), refused.error)
    }

    /// Answers `count` authorize calls one after another; returns grants per second.
    func measureGrants(_ pair: NodePair, _ code: String, count: Int) throws -> Double {
        let started = Date()
        let client = pair.client(0)
        for index in 0..<count {
            let response = try client.send("POST", pair.nodes[0].url("/api/v1/report"),
                                           body: json(["handshakeCode": code, "clientUUID": "load-\(index)", "scans": 1, "requestId": UUID().uuidString]))
            XCTAssertEqual(response.status, 200)
        }
        return Double(count) / Date().timeIntervalSince(started)
    }
}
