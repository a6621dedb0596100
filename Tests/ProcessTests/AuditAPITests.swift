import Foundation
import LTSTestSupport
import Platform
import XCTest

/// The audit log through a real node: admin actions come back from `GET
/// /dls/api/admin/audit` newest first, with the client address a trusted
/// proxy names, filtered, paged and as CSV; bad queries are refused; and a
/// pair's standby shows the entries its primary logged.
final class AuditAPITests: XCTestCase {
    private let item = "itemId=s1,product=dbr,chargeWay=scan,quantity=10,expires=2099-12-31"

    private func entries(_ response: HTTPClient.Response, file: StaticString = #filePath, line: UInt = #line) -> [[String: Any]] {
        XCTAssertEqual(response.status, 200, String(decoding: response.body, as: UTF8.self), file: file, line: line)
        return (try? JSONSerialization.jsonObject(with: response.body) as? [[String: Any]]) ?? []
    }

    private func summary(_ entries: [[String: Any]]) -> [String] {
        entries.map { "\($0["action"] ?? "") \($0["result"] ?? "") \($0["address"] ?? "") \($0["object"] ?? "")" }
    }

    func testAdminActionsComeBackNewestFirst() throws {
        // 127.0.0.1 is a trusted proxy: a request's X-Forwarded-For names its client.
        let licensed = try LicensedNode(extraConfig: ["trustedProxies": ["127.0.0.1"]])
        let node = licensed.node
        let wrong = try node.client.send("POST", node.url("/api/admin/login"), body: json(["password": "not the password"]),
                                         headers: ["X-Forwarded-For": "198.51.100.7"])
        XCTAssertEqual(wrong.json?["code"] as? Int, -20201)
        try licensed.login()
        let imported = try licensed.importLicense(try licensed.issue(items: [item], name: "L-audit"))
        XCTAssertEqual(imported.status, 201)
        let code = try XCTUnwrap(imported.json?["handshakeCode"] as? String)
        let licenseId = try XCTUnwrap(imported.json?["licenseId"] as? String)
        XCTAssertEqual(try licensed.admin("PUT", "/api/admin/handshakes/\(code)", body: json(["items": ["s1"], "explicitOrder": true])).status, 200)
        XCTAssertEqual(try licensed.admin("DELETE", "/api/admin/handshakes/acme-none").json?["code"] as? Int, -20312)

        let all = entries(try licensed.admin("GET", "/api/admin/audit"))
        XCTAssertEqual(summary(all), [
            "handshake-delete refused -20312 127.0.0.1 acme-none",
            "handshake-update ok 127.0.0.1 \(code)",
            "license-import ok 127.0.0.1 \(licenseId)",
            "login ok 127.0.0.1 ",
            "login refused -20201 198.51.100.7 ",
            "login ok 127.0.0.1 ",
            "password-set ok 127.0.0.1 ",
        ], "\(all)")
        let ids = all.compactMap { $0["id"] as? Int }
        XCTAssertEqual(ids, ids.sorted(by: >), "newest first")
        XCTAssertEqual(Set(ids).count, all.count)
        XCTAssertEqual(all.last?["actor"] as? String, "setup")
        XCTAssertEqual(all[4]["actor"] as? String, "anonymous")
        let session = try XCTUnwrap(all[3]["actor"] as? String)
        XCTAssertTrue(session.hasPrefix("admin session "), session)
        XCTAssertEqual(all[0]["actor"] as? String, session, "the session that logged in imported and edited")
        XCTAssertNotEqual(all[5]["actor"] as? String, session, "the first login opened another session")
        for entry in all {
            let at = try XCTUnwrap(entry["at"] as? String)
            XCTAssertNotNil(at.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"#, options: .regularExpression), at)
        }

        // Filters and pages.
        XCTAssertEqual(summary(entries(try licensed.admin("GET", "/api/admin/audit?action=login"))).count, 3)
        XCTAssertEqual(summary(entries(try licensed.admin("GET", "/api/admin/audit?text=198.51"))), ["login refused -20201 198.51.100.7 "])
        XCTAssertEqual(entries(try licensed.admin("GET", "/api/admin/audit?actor=ANONYMOUS")).count, 1)
        let firstPage = entries(try licensed.admin("GET", "/api/admin/audit?limit=2"))
        XCTAssertEqual(firstPage.compactMap { $0["id"] as? Int }, Array(ids.prefix(2)))
        let next = entries(try licensed.admin("GET", "/api/admin/audit?limit=2&before=\(ids[1])"))
        XCTAssertEqual(next.compactMap { $0["id"] as? Int }, Array(ids[2..<4]))
        XCTAssertEqual(entries(try licensed.admin("GET", "/api/admin/audit?since=2099-01-01")).count, 0)
        XCTAssertEqual(entries(try licensed.admin("GET", "/api/admin/audit?since=2020-01-01T00:00:00Z")).count, all.count)

        // CSV: a header row, then the same rows, every field quoted.
        let csv = try licensed.admin("GET", "/api/admin/audit?format=csv")
        XCTAssertEqual(csv.status, 200)
        XCTAssertEqual(csv.headers["content-type"], "text/csv; charset=utf-8")
        let lines = String(decoding: csv.body, as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines.first, "\"id\",\"at\",\"actor\",\"address\",\"action\",\"object\",\"result\"")
        XCTAssertEqual(lines.count, all.count + 1)
        XCTAssertTrue(lines[1].hasPrefix("\"\(ids[0])\",\""), lines[1])
        XCTAssertTrue(lines[1].hasSuffix(",\"handshake-delete\",\"acme-none\",\"refused -20312\""), lines[1])

        // Bad queries, and no session.
        for query in ["limit=0", "limit=1001", "limit=x", "since=yesterday", "before=-1", "action=reboot", "format=xml", "sort=asc"] {
            let refused = try licensed.admin("GET", "/api/admin/audit?\(query)")
            XCTAssertEqual(refused.status, 400, query)
            XCTAssertEqual(refused.json?["code"] as? Int, -20220, query)
        }
        XCTAssertEqual(try node.client.send("GET", node.url("/api/admin/audit")).json?["code"] as? Int, -20200)
        XCTAssertNotNil(node.waitForLogLine(containing: "audit: login refused -20201 by anonymous from 198.51.100.7", timeoutSeconds: 5), node.logText)
    }

    /// Failed logins from many addresses (each under its own limit) become
    /// records at most `AuditTrail.failuresPerMinuteMax` (20) times a minute;
    /// the rest are log lines only.
    func testFailedLoginsBeyondTheMinutesBudgetAreLogLinesOnly() throws {
        let licensed = try LicensedNode(extraConfig: ["trustedProxies": ["127.0.0.1"]])
        let node = licensed.node
        for address in 1...25 {
            let wrong = try node.client.send("POST", node.url("/api/admin/login"), body: json(["password": "not the password"]),
                                             headers: ["X-Forwarded-For": "198.51.100.\(address)"])
            XCTAssertEqual(wrong.json?["code"] as? Int, -20201)
        }
        let refused = entries(try licensed.admin("GET", "/api/admin/audit?action=login&text=refused&limit=1000"))
        XCTAssertEqual(refused.count, 20, "\(summary(refused))")
        XCTAssertEqual(refused.last?["address"] as? String, "198.51.100.1", "the first 20 are recorded")
        XCTAssertNotNil(node.waitForLogLine(containing: "more than 20 failed admin logins or password changes within a minute", timeoutSeconds: 5),
                        node.logText)
        XCTAssertNotNil(node.waitForLogLine(containing: "from 198.51.100.25 (not in the audit log: too many failures this minute)", timeoutSeconds: 5),
                        node.logText)
    }

    /// The standby holds the entries its primary logged; a login there is a
    /// log line of the standby only (it writes no log).
    func testTheStandbyShowsTheReplicatedAuditLog() throws {
        let pair = try NodePair()
        let primary = try pair.startBoth()
        let standby = 1 - primary
        try pair.setUpAdmin(on: primary)
        let wrong = try pair.client(primary).send("POST", pair.nodes[primary].url("/api/admin/login"), body: json(["password": "not it"]))
        XCTAssertEqual(wrong.json?["code"] as? Int, -20201)
        _ = try pair.importLicense(on: primary, items: [item])
        let onPrimary = entries(try pair.admin(primary, "GET", "/api/admin/audit"))
        XCTAssertEqual(onPrimary.compactMap { $0["action"] as? String }, ["license-import", "login", "login", "password-set"])

        let wrongOnStandby = try pair.client(standby).send("POST", pair.nodes[standby].url("/api/admin/login"), body: json(["password": "not it"]))
        XCTAssertEqual(wrongOnStandby.json?["code"] as? Int, -20201)
        var onStandby: [[String: Any]] = []
        try pair.wait(for: "the standby to hold the primary's audit entries") {
            onStandby = entries(try pair.admin(standby, "GET", "/api/admin/audit"))
            return onStandby.count >= onPrimary.count
        }
        XCTAssertEqual(try JSONSerialization.data(withJSONObject: onStandby, options: .sortedKeys),
                       try JSONSerialization.data(withJSONObject: onPrimary, options: .sortedKeys), "the same entries, IDs and times")
        XCTAssertNotNil(pair.nodes[standby].waitForLogLine(containing: "audit: login refused -20201 by anonymous from 127.0.0.1 (not in the audit log",
                                                           timeoutSeconds: 5), pair.nodes[standby].logText)
    }
}
