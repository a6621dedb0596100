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
        XCTAssertEqual(try pair.startBoth(), 0)
        try pair.setUpAdmin(on: 0)
        let code = try pair.importLicense(on: 0, items: ["itemId=s,product=dbr,chargeWay=scan,quantity=100000000,expires=2099-12-31"])
        let load = FailoverLoad(servers: pair.servers, code: code)
        XCTAssertTrue(load.waitForMore(200))

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
        try pair.wait(for: "both nodes at the same lsn") {
            guard let a = pair.health(0)?["lsn"] as? Int, let b = pair.health(1)?["lsn"] as? Int else { return false }
            return a == b
        }
        for index in 0..<2 {
            let listed = Dictionary(try pair.grants(index).compactMap { grant -> (String, String?)? in
                (grant["grantId"] as? String).map { ($0, grant["requestId"] as? String) }
            }, uniquingKeysWith: { first, _ in first })
            let lost = acknowledged.filter { listed[$0.value] != $0.key }
            XCTAssertEqual(lost.count, 0, "node \(index) lost \(lost.count) of \(acknowledged.count) acknowledged grants")
        }
        let reconciled = try pair.admin(1, "GET", "/api/admin/cluster").json?["reconciledTotal"] as? Int ?? 0
        XCTAssertGreaterThan(reconciled, 0, "the old primary's grants of the partition come back by reconciliation")
    }
}
