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

    /// Issue 17, finding 7: a password of spaces is refused, a wrong old
    /// password counts against the address as a failed login does, and
    /// every authentication event and import leaves a log line.
    func testPasswordRulesTheChangeLimitAndTheAuthenticationLog() throws {
        let licensed = try LicensedNode()
        let node = licensed.node
        XCTAssertEqual(try post(node, "/api/admin/password/change", ["old": LicensedNode.adminPassword, "new": String(repeating: " ", count: 12)],
                                token: licensed.token).json?["code"] as? Int, -20204, "a password of spaces")
        for _ in 0..<5 {
            XCTAssertEqual(try post(node, "/api/admin/password/change", ["old": "a wrong old password", "new": "a brand new password"],
                                    token: licensed.token).json?["code"] as? Int, -20201)
        }
        let limited = try post(node, "/api/admin/password/change", ["old": LicensedNode.adminPassword, "new": "a brand new password"],
                               token: licensed.token)
        XCTAssertEqual(limited.status, 429, "guessing through the password change is limited like logins")
        XCTAssertEqual(limited.json?["code"] as? Int, -20202)
        XCTAssertEqual(try post(node, "/api/admin/login", ["password": LicensedNode.adminPassword]).status, 429, "one limit per address")
        XCTAssertEqual(try licensed.importLicense(try licensed.issue(items: ["itemId=s,product=dbr,chargeWay=scan,quantity=10,expires=2099-12-31"])).status, 201)
        for line in ["admin password set (the first one) from 127.0.0.1", "admin login from 127.0.0.1",
                     "admin password change from 127.0.0.1 refused: wrong old password",
                     "admin password change from 127.0.0.1 refused: 5 failures within a minute",
                     "admin login from 127.0.0.1 refused: 5 failures within a minute", "imported from 127.0.0.1"] {
            XCTAssertNotNil(node.waitForLogLine(containing: line, timeoutSeconds: 5), "no log line with \"\(line)\":\n\(node.logText)")
        }

        let fresh = try NodeProcess(config: ["serverMode": "standalone", "listen": "127.0.0.1:0", "dataDir": "data"])
        try fresh.start()
        XCTAssertEqual(try post(fresh, "/api/admin/password", ["password": String(repeating: " ", count: 12)]).json?["code"] as? Int, -20204)
        XCTAssertEqual(try post(fresh, "/api/admin/password", ["password": "a long enough password"]).status, 201)
        XCTAssertEqual(try post(fresh, "/api/admin/login", ["password": "not the password"]).status, 401)
        XCTAssertNotNil(fresh.waitForLogLine(containing: "admin login failed from 127.0.0.1: wrong password", timeoutSeconds: 5), fresh.logText)
    }

    /// Issue 17, finding 5: from another machine the first password needs
    /// the setup token the node logged and keeps in its data dir (0600);
    /// from the node's own machine it does not (see the tests above).
    func testTheFirstPasswordFromAnotherMachineNeedsTheSetupToken() throws {
        if let reason = NetworkNamespaces.unavailableReason { throw XCTSkip(reason) }
        let network = try NetworkNamespaces()
        defer { network.remove() }
        let node = try NodeProcess(config: ["serverMode": "standalone", "listen": "\(network.address(0)):48443", "dataDir": "data"],
                                   host: network.address(0), launcher: network.launcher(0))
        try node.start()
        let line = try XCTUnwrap(node.waitForLogLine(containing: "with the setup token", timeoutSeconds: 5), node.logText)
        let token = try XCTUnwrap(line.range(of: #"[0-9a-f]{32}"#, options: .regularExpression).map { String(line[$0]) }, line)
        let file = node.directory + "/data/setup-token"
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), token)
        XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: file))[.posixPermissions] as? Int, 0o600)

        let password = "a long enough password"
        let without = try post(node, "/api/admin/password", ["password": password])
        XCTAssertEqual(without.status, 403, "an outsider reaching a fresh node first may not set its password")
        XCTAssertEqual(without.json?["code"] as? Int, -20207)
        XCTAssertEqual(try post(node, "/api/admin/password", ["password": password, "setupToken": String(token.reversed())]).json?["code"] as? Int, -20207)
        XCTAssertNotNil(node.waitForLogLine(containing: "refused: a wrong setup token", timeoutSeconds: 5), node.logText)
        XCTAssertEqual(try post(node, "/api/admin/password", ["password": password, "setupToken": token]).status, 201)
        XCTAssertFalse(FileManager.default.fileExists(atPath: file), "the token is used up")
        XCTAssertEqual(try post(node, "/api/admin/login", ["password": password]).status, 200)
    }
}

/// The response type of the test client.
typealias HTTPClientResponse = Platform.HTTPClient.Response
