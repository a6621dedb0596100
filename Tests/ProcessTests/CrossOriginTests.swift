import Foundation
import LTSTestSupport
import XCTest

/// Web pages on other origins: preflights answered and the client API
/// readable for the origins handshake codes allow, the domain taken from
/// the page's origin, and the admin API closed to every origin but its own.
final class CrossOriginTests: XCTestCase {
    func testTheClientAPIAnswersAllowedOriginsAndTakesTheDomainFromTheOrigin() throws {
        let licensed = try LicensedNode()
        _ = try licensed.importLicense(try licensed.issue(items: ["itemId=web,product=dwt,chargeWay=domain,quantity=5,expires=2099-12-31"]))
        XCTAssertEqual(try licensed.admin("POST", "/api/admin/handshakes", body: json([
            "code": "acme-web", "items": ["web"], "validation": ["domains": ["*.shop.example"], "appIds": [], "processes": []],
        ])).status, 201)
        // The import's own code allows any domain: without it only *.shop.example is allowed.
        XCTAssertEqual(try licensed.admin("DELETE", "/api/admin/handshakes/acme-1").status, 200)
        let node = licensed.node
        let allowed = "https://www.shop.example:8443", other = "https://evil.example"

        let preflight = try node.client.send("OPTIONS", node.url("/api/v1/authorize"),
                                             headers: ["Origin": allowed, "Access-Control-Request-Method": "POST",
                                                       "Access-Control-Request-Headers": "content-type"])
        XCTAssertEqual(preflight.status, 204)
        XCTAssertEqual(preflight.headers["access-control-allow-origin"], allowed)
        XCTAssertEqual(preflight.headers["access-control-allow-methods"], "POST")
        XCTAssertEqual(preflight.headers["access-control-allow-headers"], "content-type")
        let refusedPreflight = try node.client.send("OPTIONS", node.url("/api/v1/authorize"), headers: ["Origin": other])
        XCTAssertEqual(refusedPreflight.status, 403)
        XCTAssertNil(refusedPreflight.headers["access-control-allow-origin"])

        func authorize(origin: String?, _ extra: [String: Any] = [:]) throws -> HTTPClientResponse {
            var fields: [String: Any] = ["handshakeCode": "acme-web", "clientUUID": "page", "product": "dwt"]
            for (key, value) in extra { fields[key] = value }
            return try node.client.send("POST", node.url("/api/v1/authorize"), body: json(fields),
                                        headers: origin.map { ["Origin": $0, "content-type": "application/json"] } ?? [:])
        }
        let granted = try authorize(origin: allowed)
        XCTAssertEqual(granted.status, 200, String(decoding: granted.body, as: UTF8.self))
        XCTAssertEqual(granted.headers["access-control-allow-origin"], allowed)
        XCTAssertEqual(try licensed.items()["web"]?["used"] as? Int, 1, "the origin's domain is counted")
        let mismatch = try authorize(origin: allowed, ["domain": "other.shop.example"])
        XCTAssertEqual(mismatch.json?["code"] as? Int, -20111, "a body domain other than the origin's")
        XCTAssertEqual(mismatch.headers["access-control-allow-origin"], allowed, "the page may read its refusal")
        let foreign = try authorize(origin: other, ["domain": "www.shop.example"])
        XCTAssertEqual(foreign.json?["code"] as? Int, -20111, "a page cannot claim another domain in the body")
        XCTAssertNil(foreign.headers["access-control-allow-origin"])
        XCTAssertEqual(try authorize(origin: nil, ["domain": "www.shop.example"]).status, 200, "a non-browser client names its domain")

        let adminFromPage = try node.client.send("GET", node.url("/api/admin/items"),
                                                 headers: ["Authorization": "Bearer \(licensed.token)", "Origin": allowed])
        XCTAssertEqual(adminFromPage.status, 403)
        XCTAssertEqual(adminFromPage.json?["code"] as? Int, -20208)
        XCTAssertNil(adminFromPage.headers["access-control-allow-origin"])
        let ownOrigin = "https://127.0.0.1:\(node.port)"
        XCTAssertEqual(try node.client.send("GET", node.url("/api/admin/items"),
                                            headers: ["Authorization": "Bearer \(licensed.token)", "Origin": ownOrigin]).status, 200)
    }
}
