import Foundation
import LTSTestSupport
import Platform
import Transport
import XCTest

/// First password, login, cookies, rate limiting and password change.
final class AdminAuthTests: XCTestCase {
    private func post(_ node: NodeProcess, _ path: String, _ fields: [String: Any], token: String? = nil) throws -> HTTPClientResponse {
        try node.client.send("POST", node.url(path), body: json(fields), headers: token.map { ["Authorization": "Bearer \($0)"] } ?? [:])
    }

    func testFirstPasswordThenLoginWithTokenOrCookie() throws {
        let node = try NodeProcess(config: ["serverMode": "standalone", "listen": "127.0.0.1:0", "dataDir": "data"])
        try node.start()
        XCTAssertEqual(try post(node, "/api/admin/login", ["password": "whatever-long"]).json?["code"] as? Int, -20205)
        XCTAssertEqual(try post(node, "/api/admin/password", ["password": "short"]).json?["code"] as? Int, -20204)
        XCTAssertEqual(try post(node, "/api/admin/password", ["password": "a long enough password"]).status, 201)
        XCTAssertEqual(try post(node, "/api/admin/password", ["password": "another long password"]).json?["code"] as? Int, -20203)
        XCTAssertEqual(try node.client.send("GET", node.url("/api/admin/items")).json?["code"] as? Int, -20200)

        let login = try post(node, "/api/admin/login", ["password": "a long enough password"])
        XCTAssertEqual(login.status, 200)
        let token = try XCTUnwrap(login.json?["token"] as? String)
        let cookie = try XCTUnwrap(login.headers["set-cookie"])
        for attribute in ["lts_session_", "=\(token);", "HttpOnly", "Secure", "SameSite=Strict"] {
            XCTAssertTrue(cookie.contains(attribute), cookie)
        }
        XCTAssertEqual(try node.client.send("GET", node.url("/api/admin/items"), headers: ["Authorization": "Bearer \(token)"]).status, 200)
        XCTAssertEqual(try node.client.send("GET", node.url("/api/admin/items"), headers: ["Cookie": try XCTUnwrap(login.sessionCookie)]).status, 200)
        XCTAssertEqual(try node.client.send("GET", node.url("/api/admin/items"), headers: ["Authorization": "Bearer x\(token)"]).status, 401)
        XCTAssertEqual(try post(node, "/api/admin/logout", [:], token: token).status, 200)
        XCTAssertEqual(try node.client.send("GET", node.url("/api/admin/items"), headers: ["Authorization": "Bearer \(token)"]).status, 401)
    }

    func testFiveFailedLoginsAMinuteThen429() throws {
        let licensed = try LicensedNode()
        for _ in 0..<5 {
            XCTAssertEqual(try post(licensed.node, "/api/admin/login", ["password": "wrong password!"]).json?["code"] as? Int, -20201)
        }
        let blocked = try post(licensed.node, "/api/admin/login", ["password": LicensedNode.adminPassword])
        XCTAssertEqual(blocked.status, 429, "even the right password waits once the limit is reached")
        XCTAssertEqual(blocked.json?["code"] as? Int, -20202)
    }

    func testChangingThePasswordNeedsTheOldOne() throws {
        let licensed = try LicensedNode()
        XCTAssertEqual(try post(licensed.node, "/api/admin/password/change", ["old": "wrong password", "new": "a brand new password"],
                                token: licensed.token).json?["code"] as? Int, -20201)
        XCTAssertEqual(try post(licensed.node, "/api/admin/password/change", ["old": LicensedNode.adminPassword, "new": "short"],
                                token: licensed.token).json?["code"] as? Int, -20204)
        XCTAssertEqual(try post(licensed.node, "/api/admin/password/change", ["old": LicensedNode.adminPassword, "new": "a brand new password"],
                                token: licensed.token).status, 200)
        XCTAssertEqual(try post(licensed.node, "/api/admin/login", ["password": "a brand new password"]).status, 200)
        licensed.node.stop()
        try licensed.node.start()
        XCTAssertEqual(try post(licensed.node, "/api/admin/login", ["password": "a brand new password"]).status, 200,
                       "the new password survives a restart")
    }
}

/// The response type of the test client.
typealias HTTPClientResponse = Platform.HTTPClient.Response
