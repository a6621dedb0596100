import Foundation
import LicenseClient
import LTSTestSupport
import Platform
import Transport
import XCTest

/// Issue 19: a node behind nginx (`deploy/nginx/lts.conf`, where DLS users
/// put it). Through a real nginx: the portal, login, a CSRF-protected admin
/// call, the client API, and a client key that names nginx and pins
/// nginx's certificate, used by `lts client`; five bad logins from one
/// client behind nginx lock out that client only. Direct clients cannot
/// pose as others by sending X-Forwarded-For themselves. A pair's client
/// keys and redirects name the public URLs.
final class ProxyTests: XCTestCase {
    private let scanItem = "itemId=s,product=dbr,chargeWay=scan,quantity=100,expires=2099-12-31"

    private func login(_ client: HTTPClient, _ url: String, password: String, forwardedFor: String? = nil) throws -> HTTPClient.Response {
        try client.send("POST", url, body: json(["password": password]), headers: forwardedFor.map { ["X-Forwarded-For": $0] } ?? [:])
    }

    func testANodeBehindNginx() throws {
        if let reason = NginxProcess.unavailableReason { throw XCTSkip(reason) }
        let nginxPort = try NodePair.freePort()
        let proxyDirectory = NSTemporaryDirectory() + "lts-nginx-\(UUID().uuidString)"
        let proxyCertificate = try NginxProcess.makeCertificate(in: proxyDirectory)
        let licensed = try LicensedNode(extraConfig: ["trustedProxies": ["127.0.0.1"], "publicUrl": "https://localhost:\(nginxPort)/dls/",
                                                      "publicTrust": proxyCertificate])
        let node = licensed.node
        let nginx = try NginxProcess(directory: proxyDirectory, port: nginxPort, nodePort: node.port,
                                     nodeCertificate: node.directory + "/data/tls/node.crt")
        let client = nginx.client

        // The portal, under both prefixes.
        for prefix in ["dls", "lts"] {
            let page = try client.send("GET", nginx.url("/page/", prefix: prefix))
            XCTAssertEqual(page.status, 200, prefix)
            XCTAssertTrue(String(decoding: page.body, as: UTF8.self).contains("<script type=\"module\""), prefix)
        }
        XCTAssertEqual(try client.send("GET", nginx.url("/cluster/stream")).status, 404, "the replication stream is not passed on")

        // Login through nginx, then a change with the session cookie: it needs the CSRF token.
        let session = try login(client, nginx.url("/api/admin/login"), password: LicensedNode.adminPassword)
        XCTAssertEqual(session.status, 200)
        let token = try XCTUnwrap(session.json?["token"] as? String)
        let csrf = try XCTUnwrap(session.json?["csrf"] as? String)
        let cookie = try XCTUnwrap(session.sessionCookie)
        let license = try Data(contentsOf: URL(fileURLWithPath: try licensed.issue(items: [scanItem])))
        let forged = try client.send("POST", nginx.url("/api/admin/licenses"), body: license, headers: ["Cookie": cookie])
        XCTAssertEqual(forged.json?["code"] as? Int, -20206, "no CSRF token: refused")
        let imported = try client.send("POST", nginx.url("/api/admin/licenses"), body: license, headers: ["Cookie": cookie, "X-CSRF-Token": csrf])
        XCTAssertEqual(imported.status, 201, String(decoding: imported.body, as: UTF8.self))
        let code = try XCTUnwrap(imported.json?["handshakeCode"] as? String)

        // The client API through nginx.
        let granted = try client.send("POST", nginx.url("/api/v1/authorize", prefix: "lts"),
                                      body: json(["handshakeCode": code, "clientUUID": "proxy-client-1", "product": "dbr"]))
        XCTAssertEqual(granted.status, 200, String(decoding: granted.body, as: UTF8.self))
        XCTAssertNotNil(granted.json?["grantId"] as? String)

        // The client key names nginx and pins nginx's certificate; a client uses it.
        let keyAnswer = try client.send("GET", nginx.url("/api/admin/handshakes/\(code)/client-key"), headers: ["Authorization": "Bearer \(token)"])
        let keyText = try XCTUnwrap(keyAnswer.json?["clientKey"] as? String, String(decoding: keyAnswer.body, as: UTF8.self))
        let key = try ClientKey(parsing: keyText)
        XCTAssertEqual(key.servers, [ClientKey.Server(url: nginx.url("/"), fingerprint: nginx.fingerprint)])
        XCTAssertNotEqual(nginx.fingerprint, node.fingerprint)
        let byKey = try NodeProcess.run(["client", "authorize", "--key", keyText, "--product", "dbr", "--json", "--deadline-ms", "5000",
                                         "--state-dir", proxyDirectory + "/client"])
        XCTAssertEqual(byKey.status, 0, byKey.error)
        XCTAssertTrue(byKey.output.contains("grantId"), byKey.output)
        XCTAssertTrue(try String(contentsOfFile: proxyDirectory + "/access.log", encoding: .utf8).contains("POST /dls/api/v1/authorize"),
                      "the key's call went through nginx")

        // Five bad logins from one client behind nginx lock out that client only.
        let attacker = "198.51.100.7"
        for attempt in 1...5 {
            XCTAssertEqual(try login(client, nginx.url("/api/admin/login"), password: "a wrong password", forwardedFor: attacker).json?["code"] as? Int,
                           -20201, "attempt \(attempt)")
        }
        XCTAssertEqual(try login(client, nginx.url("/api/admin/login"), password: LicensedNode.adminPassword, forwardedFor: attacker).status, 429)
        XCTAssertEqual(try login(client, nginx.url("/api/admin/login"), password: LicensedNode.adminPassword, forwardedFor: "198.51.100.8").status,
                       200, "another client behind the same nginx logs in")
        XCTAssertEqual(try login(client, nginx.url("/api/admin/login"), password: LicensedNode.adminPassword).status, 200,
                       "and so does the admin next to nginx")
        XCTAssertNotNil(node.waitForLogLine(containing: "admin login failed from \(attacker)", timeoutSeconds: 5), node.logText)
        XCTAssertNotNil(node.waitForLogLine(containing: "admin login from \(attacker) refused", timeoutSeconds: 5), node.logText)

        // A trusted proxy's header that is no address list is refused, not guessed at.
        let malformed = try node.client.send("GET", node.url("/api/health"), headers: ["X-Forwarded-For": "unknown"])
        XCTAssertEqual(malformed.status, 400)
        XCTAssertTrue((malformed.json?["message"] as? String ?? "").contains("X-Forwarded-For from the trusted proxy 127.0.0.1"),
                      String(decoding: malformed.body, as: UTF8.self))
        XCTAssertNotNil(node.waitForLogLine(containing: "answered 400: X-Forwarded-For", timeoutSeconds: 5), node.logText)
    }

    func testADirectClientCannotPoseAsAnotherAddress() throws {
        let licensed = try LicensedNode(extraConfig: ["trustedProxies": ["127.0.0.2", "10.0.0.0/8"]])
        let node = licensed.node
        for attempt in 1...5 {
            XCTAssertEqual(try login(node.client, node.url("/api/admin/login"), password: "a wrong password",
                                     forwardedFor: "198.51.100.\(attempt)").json?["code"] as? Int, -20201)
        }
        XCTAssertEqual(try login(node.client, node.url("/api/admin/login"), password: LicensedNode.adminPassword,
                                 forwardedFor: "198.51.100.99").status, 429, "X-Forwarded-For from a peer that is no trusted proxy is ignored")
        XCTAssertNotNil(node.waitForLogLine(containing: "admin login failed from 127.0.0.1", timeoutSeconds: 5), node.logText)
        XCTAssertEqual(try node.client.send("GET", node.url("/api/health"), headers: ["X-Forwarded-For": "unknown"]).status, 200,
                       "nor read at all")
    }

    /// A proxy on the node's machine that the node does not trust: what it
    /// passes on comes from a loopback peer, but not from this machine.
    func testTheFirstPasswordThroughAnUntrustedLocalProxyNeedsTheSetupToken() throws {
        let node = try NodeProcess(config: ["serverMode": "standalone", "listen": "127.0.0.1:0", "dataDir": "data"])
        try node.start()
        let proxied = try node.client.send("POST", node.url("/api/admin/password"), body: json(["password": "a long enough password"]),
                                           headers: ["X-Forwarded-For": "203.0.113.5"])
        XCTAssertEqual(proxied.json?["code"] as? Int, -20207, String(decoding: proxied.body, as: UTF8.self))
        XCTAssertEqual(try node.client.send("POST", node.url("/api/admin/password"), body: json(["password": "a long enough password"])).status,
                       201, "from this machine itself")
    }

    /// A pair behind two proxies: the client key of either node names both
    /// public URLs with what clients meet there, and a standby's 421 sends
    /// clients to the primary's public URL, not to the URL the nodes
    /// replicate over.
    func testAPairBehindProxiesNamesThePublicURLs() throws {
        let siteA = "https://lts-a.corp.test/dls/", siteB = "https://lts-b.corp.test/dls/"
        let pinB = String(repeating: "B0", count: 32)
        let pair = try NodePair(perNode: [
            0: ["publicUrl": siteA, "publicTrust": "system", "peerPublicUrl": siteB, "peerPublicTrust": pinB],
            1: ["publicUrl": siteB, "publicTrust": pinB, "peerPublicUrl": siteA, "peerPublicTrust": "system"],
        ])
        XCTAssertEqual(try pair.startBoth(), 0)
        try pair.setUpAdmin(on: 0)
        let code = try pair.importLicense(on: 0, items: [scanItem])
        let expected = [ClientKey.Server(url: siteA, fingerprint: nil), ClientKey.Server(url: siteB, fingerprint: [UInt8](repeating: 0xB0, count: 32))]
        for index in 0..<2 {
            let answer = try pair.admin(index, "GET", "/api/admin/handshakes/\(code)/client-key")
            let key = try ClientKey(parsing: try XCTUnwrap(answer.json?["clientKey"] as? String, String(decoding: answer.body, as: UTF8.self)))
            XCTAssertEqual(key.servers, expected, "node \(index)")
        }
        let redirect = try pair.client(1).send("POST", pair.nodes[1].url("/api/v1/authorize"),
                                               body: json(["handshakeCode": code, "clientUUID": "proxy-client-2", "product": "dbr"]))
        XCTAssertEqual(redirect.status, 421)
        XCTAssertEqual(redirect.json?["primary"] as? String, siteA)
    }
}
