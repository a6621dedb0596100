import Foundation
@testable import ClusterNode
import LTSTestSupport
import Transport
import XCTest

/// `GET /dls/api/admin/stats` on a real pair: the standby answers exactly as
/// the primary, the CSV export matches the JSON, bad queries are refused.
final class StatsAPITests: XCTestCase {
    func testUsageIsTheSameOnBothNodesAndExportsAsCSV() throws {
        let pair = try NodePair()
        XCTAssertEqual(try pair.startBoth(), 0)
        try pair.setUpAdmin(on: 0)
        let code = try pair.importLicense(on: 0, items: [NodePair.scanItem, "itemId=seat,product=viewer,chargeWay=concurrentInstance,quantity=5,expires=2099-12-31"])
        for scans in [3, 4, 5] {
            let answer = try pair.client(0).send("POST", pair.nodes[0].url("/api/v1/report"),
                                                 body: json(["handshakeCode": code, "clientUUID": "scanner", "scans": scans]))
            XCTAssertEqual(answer.status, 200)
        }
        let seat = try pair.client(0).send("POST", pair.nodes[0].url("/api/v1/authorize"),
                                           body: json(["handshakeCode": code, "clientUUID": "desk", "product": "viewer"]))
        XCTAssertEqual(seat.status, 200)
        try pair.waitForSameLsn()
        try pair.login(1)

        let query = "/api/admin/stats?bucket=1d&from=\(Int(Date().timeIntervalSince1970) - 3 * 86_400)"
        let primary = try pair.admin(0, "GET", query)
        let standby = try pair.admin(1, "GET", query)
        XCTAssertEqual(primary.status, 200, String(decoding: primary.body, as: UTF8.self))
        XCTAssertEqual(primary.body, standby.body, "the standby's statistics are the primary's")
        let stats = try XCTUnwrap(primary.json)
        let rows = try XCTUnwrap(stats["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 4, "three days back to now touches four UTC days")
        XCTAssertEqual(rows.compactMap { $0["units"] as? Int }.reduce(0, +), 13)
        XCTAssertEqual(rows.compactMap { $0["grants"] as? Int }.reduce(0, +), 4)
        XCTAssertEqual(rows.last?["units"] as? Int, 13, "all of it today")
        let byCode = try XCTUnwrap(stats["byCode"] as? [[String: Any]])
        XCTAssertEqual(byCode.first?["code"] as? String, code)
        XCTAssertEqual(byCode.first?["units"] as? Int, 13)
        XCTAssertEqual((stats["byCodeToday"] as? [[String: Any]])?.first?["grants"] as? Int, 4)
        XCTAssertEqual(stats["items"] as? [String], ["s", "seat"])

        let seatOnly = try XCTUnwrap(try pair.admin(1, "GET", query + "&item=seat").json)
        XCTAssertEqual((seatOnly["rows"] as? [[String: Any]])?.compactMap { $0["units"] as? Int }.reduce(0, +), 1)

        let csv = try pair.admin(1, "GET", query + "&format=csv")
        XCTAssertEqual(csv.status, 200)
        XCTAssertEqual(csv.headers["content-type"], "text/csv; charset=utf-8")
        XCTAssertTrue(csv.headers["content-disposition"]?.hasPrefix("attachment; filename=\"lts-usage-") ?? false)
        let lines = String(decoding: csv.body, as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines.first, "bucketStart,bucketEnd,item,code,grants,units")
        let fields = lines.dropFirst().map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(fields.map { $0[2] }, ["s", "seat"])
        XCTAssertEqual(fields.map { $0[4] }, ["3", "1"])
        XCTAssertEqual(fields.map { $0[5] }, ["12", "1"])
        XCTAssertTrue(fields.allSatisfy { $0[0].hasSuffix("T00:00:00Z") && $0[1].hasSuffix("T00:00:00Z") && $0[3] == code })
    }

    func testQueriesItCannotAnswerExactlyAreRefused() throws {
        let node = try LicensedNode()
        try node.login()
        for (query, fragment) in [("bucket=3h", "\"bucket\" must be 2h or 1d"), ("from=20&to=10", "\"from\" must be before \"to\""),
                                  ("from=0&to=40000000", "longer than the 400 days"), ("since=1", "Unknown parameter \"since\""),
                                  ("from=yesterday", "\"from\" must be Unix seconds or a UTC time"), ("format=xml", "\"format\" must be json or csv")] {
            let answer = try node.admin("GET", "/api/admin/stats?" + query)
            XCTAssertEqual(answer.status, 400, query)
            XCTAssertEqual(answer.json?["code"] as? Int, -20001, query)
            XCTAssertTrue((answer.json?["message"] as? String)?.contains(fragment) ?? false, "\(query): \(String(decoding: answer.body, as: UTF8.self))")
        }
        let dates = try node.admin("GET", "/api/admin/stats?from=2026-01-01&to=2026-01-02T00:00:00Z")
        XCTAssertEqual(dates.status, 200)
        XCTAssertEqual((dates.json?["rows"] as? [[String: Any]])?.count, 12, "a day of 2-hour buckets")
    }
}
