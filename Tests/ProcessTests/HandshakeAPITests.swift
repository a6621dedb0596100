import Foundation
import LTSTestSupport
import Transport
import XCTest

/// Handshake codes made, edited and deleted by the admin, and what clients see.
final class HandshakeAPITests: XCTestCase {
    func testCreateEditDeleteWithValidationAndSessionPassword() throws {
        let licensed = try LicensedNode()
        _ = try licensed.importLicense(try licensed.issue(items: [
            "itemId=a,product=dbr,chargeWay=scan,quantity=100,expires=2099-12-31",
            "itemId=b,product=dbr,edition=js,chargeWay=scan,quantity=100,expires=2098-12-31",
        ]))
        let created = try licensed.admin("POST", "/api/admin/handshakes", body: json([
            "code": "acme-web", "items": ["a"], "sessionPassword": "open sesame",
            "validation": ["domains": ["*.example.com"], "appIds": [], "processes": []],
        ]))
        XCTAssertEqual(created.status, 201, String(decoding: created.body, as: UTF8.self))
        XCTAssertEqual(created.json?["hasSessionPassword"] as? Bool, true)
        func authorize(_ extra: [String: Any]) throws -> [String: Any] {
            var fields: [String: Any] = ["handshakeCode": "acme-web", "clientUUID": "c1", "product": "dbr"]
            for (key, value) in extra { fields[key] = value }
            return try licensed.client("authorize", fields).json ?? [:]
        }
        XCTAssertEqual(try authorize(["domain": "shop.example.com"])["code"] as? Int, -20112)
        XCTAssertEqual(try authorize(["domain": "shop.example.com", "sessionPassword": "wrong"])["code"] as? Int, -20112)
        XCTAssertEqual(try authorize(["domain": "evil.com", "sessionPassword": "open sesame"])["code"] as? Int, -20111)
        XCTAssertEqual(try authorize(["domain": "shop.example.com", "sessionPassword": "open sesame"])["itemId"] as? String, "a")

        // Refused definitions.
        XCTAssertEqual(try licensed.admin("POST", "/api/admin/handshakes", body: json(["code": "acme-web", "items": ["a"]])).json?["code"] as? Int, -20310)
        XCTAssertEqual(try licensed.admin("POST", "/api/admin/handshakes", body: json(["code": "other-x", "items": ["a"]])).json?["code"] as? Int, -20311)
        XCTAssertEqual(try licensed.admin("POST", "/api/admin/handshakes", body: json(["code": "acme-x", "items": ["zzz"]])).json?["code"] as? Int, -20311)
        XCTAssertEqual(try licensed.admin("POST", "/api/admin/handshakes", body: json(["code": "acme-x", "items": []])).json?["code"] as? Int, -20311)

        // Edit: both items, explicit order, no more validation; the password stays.
        let edited = try licensed.admin("PUT", "/api/admin/handshakes/acme-web", body: json(["items": ["a", "b"], "explicitOrder": true]))
        XCTAssertEqual(edited.status, 200)
        XCTAssertEqual(edited.json?["items"] as? [String], ["a", "b"])
        XCTAssertEqual(try authorize(["sessionPassword": "open sesame"])["itemId"] as? String, "a")
        // Clearing the password.
        XCTAssertEqual(try licensed.admin("PUT", "/api/admin/handshakes/acme-web", body: json(["items": ["b", "a"], "sessionPassword": ""])).status, 200)
        XCTAssertEqual(try authorize([:])["itemId"] as? String, "b")

        let list = try JSONSerialization.jsonObject(with: try licensed.admin("GET", "/api/admin/handshakes").body) as? [[String: Any]]
        XCTAssertEqual(list?.compactMap { $0["code"] as? String }, ["acme-1", "acme-web"])

        XCTAssertEqual(try licensed.admin("DELETE", "/api/admin/handshakes/acme-web").status, 200)
        XCTAssertEqual(try authorize([:])["code"] as? Int, -20110)
        XCTAssertEqual(try licensed.admin("DELETE", "/api/admin/handshakes/acme-web").json?["code"] as? Int, -20312)
        XCTAssertEqual(try licensed.grants().count, 3, "deleting a code keeps its history")
    }

    /// Issue 17, finding 1: session passwords are checked at once (a keyed
    /// hash, not PBKDF2) and guesses are limited: 5 wrong ones a minute for
    /// one code from one address, then 429 (-20113), even for the right one;
    /// other addresses are not locked out.
    func testSessionPasswordGuessesAreLimitedAndChecksAreCheap() throws {
        let licensed = try LicensedNode()
        _ = try licensed.importLicense(try licensed.issue(items: ["itemId=a,product=dbr,chargeWay=scan,quantity=1000,expires=2099-12-31"]))
        XCTAssertEqual(try licensed.admin("POST", "/api/admin/handshakes", body: json([
            "code": "acme-s", "items": ["a"], "sessionPassword": "open sesame",
        ])).status, 201)
        func authorize(_ password: String, index: Int) throws -> HTTPClient.Response {
            try licensed.client("authorize", ["handshakeCode": "acme-s", "clientUUID": "c", "product": "dbr", "sessionPassword": password,
                                              "requestId": "r\(index)"])
        }
        let started = Date()
        for index in 0..<5 { XCTAssertEqual(try authorize("wrong \(index)", index: index).json?["code"] as? Int, -20112) }
        print("5 wrong session passwords answered in \(Int(Date().timeIntervalSince(started) * 1_000)) ms")
        let limited = try authorize("open sesame", index: 5)
        XCTAssertEqual(limited.status, 429, String(decoding: limited.body, as: UTF8.self))
        XCTAssertEqual(limited.json?["code"] as? Int, -20113)
        // The same code from another address still works.
        let other = try SpawnedProcess.output(of: ["/usr/bin/curl", "-sk", "--interface", "127.0.0.9", "-X", "POST", licensed.node.url("/api/v1/authorize"),
                                                   "-H", "Content-Type: application/json",
                                                   "-d", #"{"handshakeCode":"acme-s","clientUUID":"c2","product":"dbr","sessionPassword":"open sesame"}"#])
        XCTAssertTrue(other.contains("\"itemId\":\"a\""), other)
    }
    /// Issue 20: two codes draw on one scan item and one concurrent item;
    /// each code's `itemUsage` says what that code uses of them (the scans
    /// it consumed, the leases it holds) beside the item's use over both,
    /// the two shares add up to it, and a restart from a checkpoint (the
    /// log is compacted every 5 records) keeps them.
    func testEachCodeShowsItsOwnShareOfASharedItem() throws {
        let licensed = try LicensedNode(extraConfig: ["logCheckpointRecords": 5, "logRetainedRecords": 2])
        _ = try licensed.importLicense(try licensed.issue(items: [
            "itemId=s,product=dbr,chargeWay=scan,quantity=100,expires=2099-12-31",
            "itemId=c,product=cam,chargeWay=concurrentInstance,quantity=5,expires=2099-12-31",
        ]))
        let created = try licensed.admin("POST", "/api/admin/handshakes", body: json(["code": "acme-2", "items": ["s", "c"]]))
        XCTAssertEqual(created.status, 201, String(decoding: created.body, as: UTF8.self))
        let createdUsage = created.json?["itemUsage"] as? [[String: Any]]
        XCTAssertEqual(createdUsage?.compactMap { $0["itemId"] as? String }, ["s", "c"], "the saved code shows its items' use, in its order")
        XCTAssertEqual(createdUsage?.compactMap { $0["usedByThisCode"] as? Int }, [0, 0])

        func grant(_ code: String, product: String, scans: Int = 1) throws -> String {
            let answer = try licensed.client("authorize", ["handshakeCode": code, "clientUUID": "c-\(code)", "product": product, "scans": scans]).json
            return try XCTUnwrap(answer?["grantId"] as? String, "\(answer ?? [:])")
        }
        _ = try grant("acme-1", product: "dbr", scans: 3)
        _ = try grant("acme-2", product: "dbr", scans: 5)
        _ = try grant("acme-2", product: "dbr", scans: 4)
        _ = try grant("acme-1", product: "cam")
        let lease = try grant("acme-2", product: "cam")
        _ = try grant("acme-2", product: "cam")

        /// (usedByThisCode, used, usedUnattributed) per code and item.
        func usage() throws -> [String: [String: [Int]]] {
            let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: try licensed.admin("GET", "/api/admin/handshakes").body) as? [[String: Any]])
            var result: [String: [String: [Int]]] = [:]
            for handshake in list {
                for entry in handshake["itemUsage"] as? [[String: Any]] ?? [] {
                    result[handshake["code"] as! String, default: [:]][entry["itemId"] as! String] =
                        [entry["usedByThisCode"], entry["used"], entry["usedUnattributed"]].map { $0 as? Int ?? -1 }
                }
            }
            return result
        }
        XCTAssertEqual(try usage(), ["acme-1": ["s": [3, 12, 0], "c": [1, 3, 0]], "acme-2": ["s": [9, 12, 0], "c": [2, 3, 0]]])
        XCTAssertEqual(try licensed.items()["s"]?["used"] as? Int, 12, "the items list agrees on the item's use")

        XCTAssertEqual(try licensed.client("release", ["grantId": lease]).json?["released"] as? Bool, true)
        XCTAssertEqual(try usage(), ["acme-1": ["s": [3, 12, 0], "c": [1, 2, 0]], "acme-2": ["s": [9, 12, 0], "c": [1, 2, 0]]],
                       "a released lease leaves its code's share")
        try licensed.restart()
        let sqlite = try Transport.SQLiteDatabase(path: licensed.node.directory + "/data/lts.sqlite")
        XCTAssertNotNil(try sqlite.query("SELECT lsn FROM checkpoint").first?.first?.integer, "no checkpoint written")
        XCTAssertEqual(try usage(), ["acme-1": ["s": [3, 12, 0], "c": [1, 2, 0]], "acme-2": ["s": [9, 12, 0], "c": [1, 2, 0]]],
                       "a restart keeps each code's share")
    }
}
