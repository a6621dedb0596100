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
}
