import Foundation
import LTSTestSupport
import Platform
import Replication
import Transport
import XCTest

/// How a pair forms: a node alone takes over, an empty standby joins and
/// catches up on everything, and nodes with different secrets never talk.
final class PairFormationTests: XCTestCase {
    func testAnEmptyStandbyJoinsAPrimaryWithDataAndCatchesUp() throws {
        let pair = try NodePair()
        try pair.nodes[0].start()
        try pair.waitForRole(0, "primary")
        XCTAssertEqual(pair.health(0)?["degraded"] as? Bool, true, "a sync primary alone answers degraded")
        try pair.setUpAdmin(on: 0)
        let code = try pair.importLicense(on: 0, items: ["itemId=s,product=dbr,chargeWay=scan,quantity=1000,expires=2099-12-31"])
        for index in 0..<50 {
            let answer = try pair.client(0).send("POST", pair.nodes[0].url("/api/v1/authorize"),
                                                 body: json(["handshakeCode": code, "clientUUID": "c\(index)", "product": "dbr"]))
            XCTAssertEqual(answer.status, 200)
        }
        try pair.nodes[1].start()
        XCTAssertEqual(try pair.waitForAttachedPair(), 0)
        try pair.wait(for: "the standby to hold the whole log") {
            pair.health(1)?["lsn"] as? Int == pair.health(0)?["lsn"] as? Int
        }
        try pair.wait(for: "the primary to leave degraded mode") { pair.health(0)?["degraded"] as? Bool == false }
        XCTAssertEqual(try pair.grants(1).count, 50)
        let items = try JSONSerialization.jsonObject(with: try pair.admin(1, "GET", "/api/admin/items").body) as? [[String: Any]]
        XCTAssertEqual(items?.first?["used"] as? Int, 50, "the standby counts what the primary counted")
    }

    /// Upgrades to the replication protocol on a real node and sends `bytes`
    /// instead of an authentication, then closes.
    private func sendToTheStreamPort(_ node: NodeProcess, _ bytes: [UInt8]) throws {
        let harness = LoopHarness()
        harness.run { h in
            let tls = try TLSClientContext(trust: .pinnedSHA256(node.fingerprint))
            StreamConnector.connect(loop: h.loop, host: node.host, port: node.port, tls: tls, timeoutMs: 5_000) { result in
                guard case .success(let raw) = result else { return XCTFail("connect failed: \(result)") }
                UpgradeClient.upgrade(stream: raw, host: node.host, path: "/dls/cluster/stream", protocolName: "lts-replication/1") { upgraded in
                    guard case .success(let (stream, _)) = upgraded else { return XCTFail("upgrade failed: \(upgraded)") }
                    stream.onData = { _ in }
                    stream.onClose = { _ in h.finish() }
                    stream.startReading()
                    stream.write(bytes)
                    stream.close()
                }
            }
        }
    }

    func testGarbageAndTruncatedFramesOnTheStreamPortChangeNothing() throws {
        let pair = try NodePair()
        let primary = try pair.startBoth()
        try pair.setUpAdmin(on: primary)
        let lsn = try XCTUnwrap(pair.health(primary)?["lsn"] as? Int)
        // An append that would add a record, but sent without authenticating.
        let forged = ReplicationMessageCodec.encode(.append(term: 99, session: 1, prevLsn: UInt64(lsn), prevTerm: 1,
                                                            entries: [ReplicatedEntry(lsn: UInt64(lsn) + 1, term: 99, payload: [7, 0])],
                                                            commitLsn: 0)).encoded()
        try sendToTheStreamPort(pair.nodes[primary], Array("GET / HTTP/1.1\r\n\r\n garbage".utf8))
        try sendToTheStreamPort(pair.nodes[primary], Array(forged.prefix(forged.count - 3)))
        try sendToTheStreamPort(pair.nodes[primary], forged)
        try pair.wait(for: "the node to log the refused streams") {
            pair.nodes[primary].logText.components(separatedBy: "closed an unauthenticated replication stream").count > 3
        }
        let health = try XCTUnwrap(pair.health(primary))
        XCTAssertEqual(health["lsn"] as? Int, lsn, "nothing may be applied from an unauthenticated stream")
        XCTAssertEqual(health["role"] as? String, "primary")
        XCTAssertEqual((pair.health(1 - primary)?["peer"] as? [String: Any])?["state"] as? String, "attached", "the pair must stay attached")
    }

    func testNodesWithDifferentSecretsRefuseEachOther() throws {
        let pair = try NodePair(perNode: [1: ["clusterSecret": "another secret 0123456789"]])
        try pair.nodes[0].start()
        try pair.nodes[1].start()
        try pair.wait(for: "a warning naming clusterSecret on both nodes (each refuses, or is refused by, the other)") {
            pair.nodes.allSatisfy { $0.logText.split(separator: "\n").contains { $0.contains("warning") && $0.contains("clusterSecret") } }
        }
        for index in 0..<2 {
            XCTAssertNotEqual((pair.health(index)?["peer"] as? [String: Any])?["state"] as? String, "attached")
            XCTAssertFalse(pair.nodes[index].logText.contains("authenticated"), pair.nodes[index].logText)
            XCTAssertFalse(pair.nodes[index].logText.contains("another secret"), "the secret must never be logged")
        }
    }

    /// Issue 19: a refused peer certificate is logged with the fingerprint
    /// presented, the one configured and the setting to fix.
    func testAWrongPeerFingerprintIsNamedWithTheOnePresented() throws {
        let wrong = String(repeating: "12:", count: 31) + "12"
        let pair = try NodePair(perNode: [1: ["peerFingerprint": wrong]], pinFingerprints: true)
        try pair.nodes[0].start()
        try pair.nodes[1].start()
        let served = try SelfSignedCertificate.fingerprint(certificatePath: pair.nodes[0].directory + "/data/tls/node.crt")
        let line = try XCTUnwrap(pair.nodes[1].waitForLogLine(containing: "but peerFingerprint names", timeoutSeconds: 10))
        XCTAssertTrue(line.contains("the peer presents the certificate \(served)"), line)
        XCTAssertTrue(line.contains(wrong) && line.contains("set peerFingerprint to it"), line)
    }

    /// Issue 19: a third node configured with the pair's secret (a copy of
    /// the standby's config on another data dir) is refused by the main,
    /// which names the node it is paired with; the real standby stays.
    func testAThirdNodeWithTheSecretCannotTakeTheStandbysPlace() throws {
        let pair = try NodePair()
        _ = try pair.startBoth()
        _ = try pair.waitForAttachedPair()
        let standbyUUID = try String(contentsOfFile: pair.nodes[1].directory + "/data/node.uuid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: pair.nodes[1].configPath)))
            as? [String: Any])
        config["listen"] = "127.0.0.1:\(try NodePair.freePort())"
        config["peerCaFile"] = pair.nodes[0].directory + "/data/tls/node.crt"
        config["trustedIssuers"] = [pair.vendorDirectory + "/issuer.pub"]
        let third = try NodeProcess(config: config)
        try third.start()
        let line = try XCTUnwrap(pair.nodes[0].waitForLogLine(containing: "this node is paired with node \(standbyUUID)", timeoutSeconds: 10))
        XCTAssertTrue(line.contains("refused a replication stream"), line)
        third.stop()
        XCTAssertEqual((pair.health(0)?["peer"] as? [String: Any])?["state"] as? String, "attached", "the real standby stays")
        XCTAssertEqual(try String(contentsOfFile: pair.nodes[0].directory + "/data/peer-node", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines), standbyUUID)
    }
}
