import Foundation
@testable import ClusterNode
import LTSTestSupport
import Transport
import XCTest

/// A pair cut in two by the network (each node in its own network
/// namespace, their traffic dropped in between), while clients still reach
/// both: each side serves, and after the heal nothing either side
/// acknowledged is lost.
final class PartitionTests: XCTestCase {
    func testBothSidesOfAPartitionServeAndTheHealLosesNothing() throws {
        if let reason = NetworkNamespaces.unavailableReason { throw XCTSkip(reason) }
        let network = try NetworkNamespaces()
        defer { network.remove() }
        let pair = try NodePair(extraConfig: ["degradeAfterMs": 500], network: network)
        let (code, load) = try pair.startUnderLoad()

        try network.partition()
        // The standby, cut off, takes over; the old primary keeps its clients
        // and, once degraded, answers them alone.
        try pair.waitForRole(1, "primary")
        XCTAssertEqual(pair.health(0)?["role"] as? String, "primary", "the old primary does not know yet")
        XCTAssertTrue(load.waitForMore(200), "the old primary must serve its clients once degraded")
        var onTheOtherSide: [String: String] = [:]
        for index in 0..<20 {
            let answer = try pair.client(1).send("POST", pair.nodes[1].url("/api/v1/authorize"),
                                                 body: json(["handshakeCode": code, "clientUUID": "other-side", "product": "dbr",
                                                             "requestId": "other-\(index)"]))
            XCTAssertEqual(answer.status, 200, String(decoding: answer.body, as: UTF8.self))
            onTheOtherSide["other-\(index)"] = answer.json?["grantId"] as? String
        }

        try network.heal()
        try pair.wait(for: "the old primary to step down and attach") {
            pair.health(0)?["role"] as? String == "standby"
                && (pair.health(0)?["peer"] as? [String: Any])?["state"] as? String == "attached"
        }
        XCTAssertTrue(load.waitForMore(200), "the pair must serve after the heal")
        var acknowledged = load.stop().acknowledged
        acknowledged.merge(onTheOtherSide) { first, _ in first }
        try pair.assertBothHold(acknowledged)
        let reconciled = try pair.admin(1, "GET", "/api/admin/cluster").json?["reconciledTotal"] as? Int ?? 0
        XCTAssertGreaterThan(reconciled, 0, "the old primary's grants of the partition come back by reconciliation")
    }
}
