import Foundation
import LTSTestSupport
import Transport
import XCTest

/// keygen → issue → import → authorize under every charge way → exhaustion →
/// restart keeps everything, all through the real binary.
final class LicenseFlowTests: XCTestCase {
    func testEveryChargeWayAndARestart() throws {
        let licensed = try LicensedNode()
        let file = try licensed.issue(items: [
            "itemId=scan1,product=dbr,chargeWay=scan,quantity=2,expires=2099-12-31",
            "itemId=dev1,product=dwt,chargeWay=device,window=month,quantity=1,expires=2099-12-31",
            "itemId=inst1,product=cam,chargeWay=concurrentInstance,quantity=1,leaseSeconds=30,expires=2099-12-31",
            "itemId=cdev1,product=mrz,chargeWay=concurrentDevice,quantity=1,expires=2099-12-31",
            "itemId=dom1,product=web,chargeWay=domain,quantity=1,expires=2099-12-31",
        ])
        let imported = try licensed.importLicense(file)
        XCTAssertEqual(imported.status, 201, String(decoding: imported.body, as: UTF8.self))
        let code = try XCTUnwrap(imported.json?["handshakeCode"] as? String)
        XCTAssertEqual(code, "acme-1")
        func authorize(_ product: String, _ client: String = "c1", _ extra: [String: Any] = [:]) throws -> [String: Any] {
            var fields: [String: Any] = ["handshakeCode": code, "clientUUID": client, "product": product]
            for (key, value) in extra { fields[key] = value }
            return try licensed.client("authorize", fields).json ?? [:]
        }

        // scan: two scans, then the quota is used up (2 × 5 % grace rounds to 0).
        XCTAssertEqual(try authorize("dbr")["itemId"] as? String, "scan1")
        XCTAssertEqual(try authorize("dbr")["grace"] as? Bool, false)
        XCTAssertEqual(try authorize("dbr")["code"] as? Int, -20120)
        // device: a device counts once per window.
        XCTAssertNotNil(try authorize("dwt", "c1")["grantId"])
        XCTAssertNotNil(try authorize("dwt", "c1")["grantId"])
        XCTAssertEqual(try authorize("dwt", "c2")["code"] as? Int, -20120)
        // concurrentInstance: one lease; heartbeat renews; release frees the seat.
        let lease = try authorize("cam")
        XCTAssertEqual(lease["leaseSeconds"] as? Int, 30)
        XCTAssertEqual(try authorize("cam", "c2")["code"] as? Int, -20120)
        let grantId = try XCTUnwrap(lease["grantId"] as? String)
        XCTAssertEqual(try licensed.client("heartbeat", ["grantId": grantId]).json?["leaseSeconds"] as? Int, 30)
        XCTAssertEqual(try licensed.client("release", ["grantId": grantId]).json?["released"] as? Bool, true)
        XCTAssertEqual(try licensed.client("heartbeat", ["grantId": grantId]).json?["code"] as? Int, -20130)
        XCTAssertNotNil(try authorize("cam", "c2")["grantId"])
        // concurrentDevice: the same device may hold more leases, another device may not.
        XCTAssertNotNil(try authorize("mrz", "c1")["grantId"])
        XCTAssertNotNil(try authorize("mrz", "c1")["grantId"])
        XCTAssertEqual(try authorize("mrz", "c2")["code"] as? Int, -20120)
        // domain: distinct domains.
        XCTAssertNotNil(try authorize("web", "c1", ["domain": "a.example.com"])["grantId"])
        XCTAssertNotNil(try authorize("web", "c2", ["domain": "A.example.com"])["grantId"])
        XCTAssertEqual(try authorize("web", "c3", ["domain": "b.example.com"])["code"] as? Int, -20120)
        XCTAssertEqual(try authorize("web", "c3")["code"] as? Int, -20001)
        // A repeated requestId gets the first answer and consumes nothing.
        let first = try authorize("dwt", "c1", ["requestId": "r-1"])
        XCTAssertEqual(try authorize("dwt", "c1", ["requestId": "r-1"])["grantId"] as? String, first["grantId"] as? String)
        // Unknown product and unknown handshake code.
        XCTAssertEqual(try authorize("nothing")["code"] as? Int, -20123)
        XCTAssertEqual(try licensed.client("authorize", ["handshakeCode": "acme-9", "clientUUID": "c1", "product": "dbr"]).json?["code"] as? Int, -20110)

        let itemsBefore = try licensed.items()
        XCTAssertEqual(itemsBefore["scan1"]?["used"] as? Int, 2)
        XCTAssertEqual(itemsBefore["dev1"]?["used"] as? Int, 1)
        XCTAssertEqual(itemsBefore["inst1"]?["used"] as? Int, 1)
        XCTAssertEqual(itemsBefore["dom1"]?["used"] as? Int, 1)
        let grantsBefore = try licensed.grants()
        let lsnBefore = try licensed.health()["lsn"] as? Int

        try licensed.restart()
        // The restart replayed the log and logged nothing of its own; the
        // admin's login after it is the one new record (its audit entry).
        XCTAssertEqual(try licensed.health()["lsn"] as? Int, lsnBefore.map { $0 + 1 })
        let audit = try licensed.admin("GET", "/api/admin/audit?limit=1")
        let newest = (try JSONSerialization.jsonObject(with: audit.body) as? [[String: Any]])?.first
        XCTAssertEqual(newest?["action"] as? String, "login")
        let itemsAfter = try licensed.items()
        for (id, item) in itemsBefore { XCTAssertEqual(itemsAfter[id]?["used"] as? Int, item["used"] as? Int, id) }
        XCTAssertEqual(try licensed.grants().map { $0["grantId"] as? String }, grantsBefore.map { $0["grantId"] as? String })
        XCTAssertEqual(try authorize("dwt", "c1", ["requestId": "r-1"])["grantId"] as? String, first["grantId"] as? String,
                       "a retry after a restart must get the first answer")
        XCTAssertEqual(try authorize("dbr")["code"] as? Int, -20120, "exhaustion survives the restart")
    }

    func testReportConsumesScansAndTokensAreSigned() throws {
        let licensed = try LicensedNode()
        _ = try licensed.importLicense(try licensed.issue(items: ["itemId=s,product=dbr,chargeWay=scan,quantity=100,expires=2099-12-31"]))
        let report = try licensed.client("report", ["handshakeCode": "acme-1", "clientUUID": "c1", "scans": 40])
        XCTAssertEqual(report.status, 200)
        let token = try XCTUnwrap(report.json?["token"] as? String)
        let parts = token.split(separator: ".")
        XCTAssertEqual(parts.count, 2)
        XCTAssertEqual(try licensed.items()["s"]?["used"] as? Int, 40)
        XCTAssertEqual(try licensed.client("report", ["handshakeCode": "acme-1", "clientUUID": "c1", "scans": 66]).json?["code"] as? Int, -20120)
        XCTAssertEqual(try licensed.client("report", ["handshakeCode": "acme-1", "clientUUID": "c1", "scans": 65]).json?["grace"] as? Bool, true)
        XCTAssertEqual(try licensed.items()["s"]?["used"] as? Int, 105)
    }
}
