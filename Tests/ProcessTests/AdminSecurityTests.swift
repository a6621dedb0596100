import Foundation
import LTSTestSupport
import Transport
import XCTest

/// The portal's defences: the CSRF token of cookie sessions, the session
/// route the portal starts from, and the security headers of every answer.
final class AdminSecurityTests: XCTestCase {
    /// Logs in on `node`; returns the session token and its CSRF token.
    private func login(_ node: NodeProcess, password: String = LicensedNode.adminPassword) throws -> (token: String, csrf: String, cookie: String) {
        let response = try node.client.send("POST", node.url("/api/admin/login"), body: json(["password": password]))
        XCTAssertEqual(response.status, 200, String(decoding: response.body, as: UTF8.self))
        return (try XCTUnwrap(response.json?["token"] as? String), try XCTUnwrap(response.json?["csrf"] as? String),
                try XCTUnwrap(response.sessionCookie))
    }

    /// The session cookie `pair` (`name=value`), and the CSRF header when given.
    private func cookie(_ pair: String, csrf: String? = nil) -> [String: String] {
        var headers = ["Cookie": pair]
        if let csrf { headers["X-CSRF-Token"] = csrf }
        return headers
    }

    func testCookieSessionsChangeStateOnlyWithTheirCSRFTokenAndBearerNeedsNone() throws {
        let licensed = try LicensedNode()
        let node = licensed.node
        let session = try login(node)
        let other = try login(node)
        XCTAssertNotEqual(session.csrf, other.csrf, "each session has its own CSRF token")
        XCTAssertNotEqual(session.csrf, session.token)
        let file = try Data(contentsOf: URL(fileURLWithPath: try licensed.issue(items: ["product=dbr,chargeWay=scan,quantity=10,expires=2099-12-31"])))

        let missing = try node.client.send("POST", node.url("/api/admin/licenses"), body: file, headers: cookie(session.cookie))
        XCTAssertEqual(missing.status, 403)
        XCTAssertEqual(missing.json?["code"] as? Int, -20206)
        for wrong in [other.csrf, session.csrf + "x", String(session.csrf.dropLast()), ""] {
            let refused = try node.client.send("POST", node.url("/api/admin/licenses"), body: file, headers: cookie(session.cookie, csrf: wrong))
            XCTAssertEqual(refused.status, 403, "CSRF token \(wrong)")
            XCTAssertEqual(refused.json?["code"] as? Int, -20206)
        }
        XCTAssertEqual(try licensed.items().count, 0, "a refused call changes nothing")
        let accepted = try node.client.send("POST", node.url("/api/admin/licenses"), body: file, headers: cookie(session.cookie, csrf: session.csrf))
        XCTAssertEqual(accepted.status, 201, String(decoding: accepted.body, as: UTF8.self))
        XCTAssertEqual(try licensed.items().count, 1)
        // The same check guards PUT and DELETE.
        let code = try XCTUnwrap(accepted.json?["handshakeCode"] as? String)
        let delete = try node.client.send("DELETE", node.url("/api/admin/handshakes/\(code)"), headers: cookie(session.cookie))
        XCTAssertEqual(delete.json?["code"] as? Int, -20206)

        // Reads need no CSRF token; a Bearer token needs none for anything.
        XCTAssertEqual(try node.client.send("GET", node.url("/api/admin/items"), headers: cookie(session.cookie)).status, 200)
        let bearerImport = try licensed.importLicense(try licensed.issue(items: ["product=dwt,chargeWay=scan,quantity=5,expires=2099-12-31"]))
        XCTAssertEqual(bearerImport.status, 201, String(decoding: bearerImport.body, as: UTF8.self))
        XCTAssertEqual(try licensed.items().count, 2)

        // Logging out by cookie needs the token too; then the session is gone.
        XCTAssertEqual(try node.client.send("POST", node.url("/api/admin/logout"), body: json([:]), headers: cookie(session.cookie)).json?["code"] as? Int, -20206)
        XCTAssertEqual(try node.client.send("POST", node.url("/api/admin/logout"), body: json([:]),
                                            headers: cookie(session.cookie, csrf: session.csrf)).status, 200)
        XCTAssertEqual(try node.client.send("GET", node.url("/api/admin/items"), headers: cookie(session.cookie)).status, 401)
    }

    func testSessionRouteTellsAFirstVisitALiveSessionAndAnEndedOne() throws {
        let node = try NodeProcess(config: ["serverMode": "standalone", "listen": "127.0.0.1:0", "dataDir": "data"])
        try node.start()
        let first = try node.client.send("GET", node.url("/api/admin/session"))
        XCTAssertEqual(first.status, 401)
        XCTAssertEqual(first.json?["code"] as? Int, -20205, "no password yet: the portal offers the first-password form")
        XCTAssertEqual(try node.client.send("POST", node.url("/api/admin/password"), body: json(["password": LicensedNode.adminPassword])).status, 201)
        let anonymous = try node.client.send("GET", node.url("/api/admin/session"))
        XCTAssertEqual(anonymous.status, 401)
        XCTAssertEqual(anonymous.json?["code"] as? Int, -20200)

        let session = try login(node)
        for headers in [cookie(session.cookie), ["Authorization": "Bearer \(session.token)"]] {
            let answer = try node.client.send("GET", node.url("/api/admin/session", prefix: "lts"), headers: headers)
            XCTAssertEqual(answer.status, 200)
            XCTAssertEqual(answer.json?["csrf"] as? String, session.csrf)
            XCTAssertEqual(answer.json?["idleTimeoutMinutes"] as? Int, 30)
        }
        XCTAssertEqual(try node.client.send("POST", node.url("/api/admin/logout"), body: json([:]),
                                            headers: ["Authorization": "Bearer \(session.token)"]).status, 200)
        let ended = try node.client.send("GET", node.url("/api/admin/session"), headers: cookie(session.cookie))
        XCTAssertEqual(ended.status, 401)
        XCTAssertEqual(ended.json?["code"] as? Int, -20200)
    }

    func testEveryAnswerCarriesTheSecurityHeadersAndAPIAnswersAreNotStored() throws {
        let node = try NodeProcess(config: ["serverMode": "standalone", "listen": "127.0.0.1:0", "dataDir": "data"])
        try node.start()
        let policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        let answers: [(String, HTTPClientResponse)] = [
            ("portal file", try node.client.send("GET", node.url("/page/"))),
            ("JSON answer", try node.client.send("GET", node.url("/api/health"))),
            ("error answer", try node.client.send("GET", node.url("/api/admin/items"))),
            ("unknown path", try node.client.send("GET", node.url("/api/nothing", prefix: "lts"))),
            ("metrics", try node.client.send("GET", node.url("/metrics"))),
        ]
        XCTAssertEqual(answers.map(\.1.status), [200, 200, 401, 404, 200])
        for (what, answer) in answers {
            XCTAssertEqual(answer.headers["content-security-policy"], policy, what)
            XCTAssertEqual(answer.headers["x-frame-options"], "DENY", what)
            XCTAssertEqual(answer.headers["x-content-type-options"], "nosniff", what)
            XCTAssertEqual(answer.headers["referrer-policy"], "no-referrer", what)
            XCTAssertEqual(answer.headers["cache-control"], what == "portal file" ? "no-cache" : "no-store", what)
        }
    }
}
