import Foundation
import LTSTestSupport
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
}
