import Foundation
@testable import OperatorTools
@testable import ClusterNode
import LTSTestSupport
import Transport
import XCTest

/// A real main + standby pair under continuous authorizations: the primary
/// is killed, paused, or hands over, and every grant a client saw
/// acknowledged is still there afterwards, on both nodes.
final class FailoverTests: XCTestCase {
    func testSIGKILLOfThePrimaryPromotesTheStandbyAndTheOldPrimaryRejoins() throws {
        let pair = try NodePair()
        let (code, load) = try pair.startUnderLoad(warmUp: 300)
        let standbyAnswer = try pair.client(1).send("POST", pair.nodes[1].url("/api/v1/authorize"),
                                                     body: json(["handshakeCode": code, "clientUUID": "c", "product": "dbr"]))
        XCTAssertEqual(standbyAnswer.status, 421)
        XCTAssertEqual(standbyAnswer.json?["code"] as? Int, -20100)
        XCTAssertEqual(standbyAnswer.json?["primary"] as? String, "https://127.0.0.1:\(pair.ports[0])/dls/")
        load.resetGap()
        pair.nodes[0].stop(signal: SIGKILL)
        try pair.waitForRole(1, "primary")
        XCTAssertTrue(load.waitForMore(300), "the new primary does not serve")
        try pair.nodes[0].start()
        XCTAssertEqual(try pair.waitForAttachedPair(), 1, "the old primary must come back as standby")
        XCTAssertTrue(load.waitForMore(200), "the pair does not serve after the rejoin")
        let result = load.stop()
        print("failover: \(result.acknowledged.count) grants acknowledged, largest gap \(String(format: "%.2f", result.largestGapSeconds)) s")
        XCTAssertLessThan(result.largestGapSeconds, 10, "clients waited too long")
        try pair.assertBothHold(result.acknowledged)
        XCTAssertEqual((pair.health(1)?["term"] as? Int).map { $0 % 2 }, 1, "node 1 leads only in odd terms")
    }

    func testSIGSTOPOfThePrimaryPastTheTimeoutThenSIGCONTStepsItDown() throws {
        let pair = try NodePair()
        let (_, load) = try pair.startUnderLoad()
        let paused = try XCTUnwrap(pair.nodes[0].process?.processIdentifier)
        kill(paused, SIGSTOP)
        try pair.waitForRole(1, "primary")
        XCTAssertTrue(load.waitForMore(200), "the standby does not serve while the primary is paused")
        kill(paused, SIGCONT)
        try pair.wait(for: "the paused primary to step down and attach") {
            pair.health(0)?["role"] as? String == "standby"
                && (pair.health(0)?["peer"] as? [String: Any])?["state"] as? String == "attached"
        }
        XCTAssertTrue(load.waitForMore(100))
        let result = load.stop()
        try pair.assertBothHold(result.acknowledged)
        // It knew the pause for its own, and took no term of its own for it.
        XCTAssertGreaterThan(try pair.nodes[0].metrics()["lts_stalled_ms_total"] ?? 0, 0, "the resumed node saw no stall")
        XCTAssertEqual((pair.health(0)?["term"] as? Int).map { $0 % 2 }, 1, "the resumed node took a term of its own")
    }

    func testPlannedSwitchoverLosesNothingAndThePairSwapsRoles() throws {
        let pair = try NodePair()
        let (_, load) = try pair.startUnderLoad()
        load.resetGap()
        let answer = try pair.admin(0, "POST", "/api/admin/cluster/switchover", body: json([:]))
        XCTAssertEqual(answer.status, 202, String(decoding: answer.body, as: UTF8.self))
        try pair.waitForRole(1, "primary")
        XCTAssertEqual(try pair.waitForAttachedPair(), 1)
        XCTAssertTrue(load.waitForMore(200))
        let result = load.stop()
        print("switchover: largest gap \(String(format: "%.2f", result.largestGapSeconds)) s")
        XCTAssertLessThan(result.largestGapSeconds, 5, "a switchover is a short pause")
        try pair.assertBothHold(result.acknowledged)
    }

    func testRecordsOnlyTheOldPrimaryHadAreReconciledNotDropped() throws {
        // The standby dies; the primary degrades and grants alone; then it dies
        // too and the standby starts first and leads: the old primary's own
        // grants must come back through reconciliation.
        let pair = try NodePair(extraConfig: ["degradeAfterMs": 300])
        XCTAssertEqual(try pair.startBoth(), 0)
        try pair.setUpAdmin(on: 0)
        let code = try pair.importLicense(on: 0, items: [NodePair.scanItem])
        pair.nodes[1].stop(signal: SIGKILL)
        var alone: [String: String] = [:]
        for index in 0..<20 {
            let response = try pair.client(0).send("POST", pair.nodes[0].url("/api/v1/authorize"),
                                                   body: json(["handshakeCode": code, "clientUUID": "solo", "product": "dbr",
                                                               "requestId": "solo-\(index)"]))
            XCTAssertEqual(response.status, 200)
            alone["solo-\(index)"] = response.json?["grantId"] as? String
        }
        XCTAssertEqual(pair.health(0)?["degraded"] as? Bool, true)
        pair.nodes[0].stop(signal: SIGKILL)
        try pair.nodes[1].start()
        try pair.waitForRole(1, "primary")
        let later = try pair.client(1).send("POST", pair.nodes[1].url("/api/v1/authorize"),
                                            body: json(["handshakeCode": code, "clientUUID": "later", "product": "dbr", "requestId": "later-1"]))
        XCTAssertEqual(later.status, 200)
        try pair.nodes[0].start()
        XCTAssertEqual(try pair.waitForAttachedPair(), 1, "the old primary must rejoin as standby:\n\(pair.nodes[0].logText)\n---\n\(pair.nodes[1].logText)")
        try pair.wait(for: "the reconciled grants on the new primary") {
            let listed = Set(try pair.grants(1).compactMap { $0["requestId"] as? String })
            return alone.keys.allSatisfy(listed.contains)
        }
        var expected = alone
        expected["later-1"] = later.json?["grantId"] as? String
        try pair.assertBothHold(expected)
        // Both run this lts: the queue goes in numbered rounds (replication protocol 3).
        XCTAssertTrue(pair.nodes[0].logText.contains("records of the reconciliation queue to the primary (round 1)"), pair.nodes[0].logText)
        let cluster = try pair.admin(1, "GET", "/api/admin/cluster").json
        XCTAssertEqual(cluster?["reconciledTotal"] as? Int, 20)
    }
}
