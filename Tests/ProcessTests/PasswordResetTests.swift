import Foundation
import LTSTestSupport
import Transport
import XCTest

/// `lts admin reset-password`: the operator who holds a data directory sets
/// a new admin password; the node logs it when it can write (standalone or
/// primary), so a pair's other node gets it through replication.
final class PasswordResetTests: XCTestCase {
    static let newPassword = "a reset password 42"
    /// How long a node may take to notice a reset file (it looks every 2 s).
    static let applyTimeoutSeconds = 20.0

    private func login(_ node: NodeProcess, _ password: String) throws -> HTTPClientResponse {
        try node.client.send("POST", node.url("/api/admin/login"), body: json(["password": password]))
    }

    /// Runs the command with the password in a file; returns its result.
    private func reset(dataDirectory: String, password: String) throws -> (status: Int32, output: String, error: String) {
        let file = NSTemporaryDirectory() + "lts-reset-\(UUID().uuidString)"
        try (password + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        defer { unlink(file) }
        return try NodeProcess.run(["admin", "reset-password", "--data", dataDirectory, "--password-file", file])
    }

    func testResetOnARunningStandaloneNodeReplacesThePasswordAndEndsSessions() throws {
        let licensed = try LicensedNode()
        let node = licensed.node
        let data = node.directory + "/data"
        let resetFile = data + "/admin-password.reset"

        let short = try reset(dataDirectory: data, password: "too short")
        XCTAssertEqual(short.status, 2, short.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: resetFile))
        XCTAssertEqual(try reset(dataDirectory: node.directory, password: Self.newPassword).status, 2, "not a data directory")

        let result = try reset(dataDirectory: data, password: Self.newPassword)
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertTrue(result.output.contains("pid \(node.process!.processIdentifier)"), result.output)
        XCTAssertNotNil(node.waitForLogLine(containing: "is logged at lsn", timeoutSeconds: Self.applyTimeoutSeconds), node.logText)
        XCTAssertFalse(FileManager.default.fileExists(atPath: resetFile), "the file is deleted once the record is acknowledged")

        XCTAssertEqual(try licensed.admin("GET", "/api/admin/items").status, 401, "the reset ends every session")
        XCTAssertEqual(try login(node, LicensedNode.adminPassword).json?["code"] as? Int, -20201)
        XCTAssertEqual(try login(node, Self.newPassword).status, 200)

        // With the node stopped, the reset waits for its next start.
        node.stop()
        let third = "a third password for the restart"
        let offline = try reset(dataDirectory: data, password: third)
        XCTAssertEqual(offline.status, 0, offline.error)
        XCTAssertTrue(offline.output.contains("no node runs"), offline.output)
        let attributes = try FileManager.default.attributesOfItem(atPath: resetFile)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertFalse(try String(contentsOfFile: resetFile, encoding: .utf8).contains(third), "only the hash is written")
        try node.start()
        XCTAssertNotNil(node.waitForLogLine(containing: "is logged at lsn", timeoutSeconds: Self.applyTimeoutSeconds), node.logText)
        XCTAssertEqual(try login(node, Self.newPassword).json?["code"] as? Int, -20201)
        XCTAssertEqual(try login(node, third).status, 200)
    }

    func testResetLeftWithTheStandbyTakesEffectWhenItBecomesPrimaryAndReachesTheOtherNode() throws {
        let pair = try NodePair()
        let primary = try pair.startBoth()
        let standby = 1 - primary
        try pair.setUpAdmin(on: primary)

        // ClusterAPI's changes pass the same CSRF check as AdminAPI's.
        let session = try login(pair.nodes[primary], NodePair.adminPassword)
        let cookie = try XCTUnwrap(session.sessionCookie)
        let forged = try pair.client(primary).send("POST", pair.nodes[primary].url("/api/admin/cluster/drills"),
                                                   body: json(["kind": "forged"]), headers: ["Cookie": cookie])
        XCTAssertEqual(forged.json?["code"] as? Int, -20206)

        let resetFile = pair.nodes[standby].directory + "/data/admin-password.reset"
        let result = try reset(dataDirectory: pair.nodes[standby].directory + "/data", password: Self.newPassword)
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertNotNil(pair.nodes[standby].waitForLogLine(containing: "an admin password reset waits", timeoutSeconds: Self.applyTimeoutSeconds),
                        pair.nodes[standby].logText)
        XCTAssertTrue(FileManager.default.fileExists(atPath: resetFile), "a standby does not apply it")
        XCTAssertEqual(try login(pair.nodes[primary], NodePair.adminPassword).status, 200, "the old password still holds")

        let switchover = try pair.admin(primary, "POST", "/api/admin/cluster/switchover", body: json([:]))
        XCTAssertEqual(switchover.status, 202, String(decoding: switchover.body, as: UTF8.self))
        try pair.waitForRole(standby, "primary")
        XCTAssertNotNil(pair.nodes[standby].waitForLogLine(containing: "is logged at lsn", timeoutSeconds: Self.applyTimeoutSeconds),
                        pair.nodes[standby].logText)
        XCTAssertFalse(FileManager.default.fileExists(atPath: resetFile))
        XCTAssertEqual(try login(pair.nodes[standby], NodePair.adminPassword).json?["code"] as? Int, -20201)
        XCTAssertEqual(try login(pair.nodes[standby], Self.newPassword).status, 200)

        // The old primary, now standby, gets the record by replication.
        let newPrimaryLsn = try XCTUnwrap(pair.health(standby)?["lsn"] as? Int)
        try pair.wait(for: "the new standby to hold the reset record") { (pair.health(primary)?["lsn"] as? Int ?? 0) >= newPrimaryLsn }
        XCTAssertEqual(try login(pair.nodes[primary], NodePair.adminPassword).json?["code"] as? Int, -20201)
        XCTAssertEqual(try login(pair.nodes[primary], Self.newPassword).status, 200)
        XCTAssertEqual(try pair.client(primary).send("GET", pair.nodes[primary].url("/api/admin/session"),
                                                     headers: ["Cookie": cookie]).status, 401,
                       "the replicated password ends the sessions opened under the old one")
    }
}
