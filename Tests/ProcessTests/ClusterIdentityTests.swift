import Foundation
import LTSTestSupport
import XCTest

/// The pair's one identity: a cluster UUID both nodes report, and license
/// files bound to it importing on either node, before and after a failover.
final class ClusterIdentityTests: XCTestCase {
    func testALicenseBoundToTheClusterUUIDImportsOnEitherNodeAcrossAFailover() throws {
        let pair = try NodePair()
        XCTAssertEqual(try pair.startBoth(), 0, "the main leads at a cold start")
        var clusterUUID = ""
        try pair.wait(for: "both nodes to report the cluster UUID") {
            guard let main = pair.health(0)?["clusterUuid"] as? String, pair.health(1)?["clusterUuid"] as? String == main else { return false }
            clusterUUID = main
            return true
        }
        let nodeUUIDs = try (0..<2).map { try XCTUnwrap(pair.health($0)?["uuid"] as? String) }
        XCTAssertFalse(nodeUUIDs.contains(clusterUUID), "the cluster UUID is neither node's own")

        try pair.setUpAdmin(on: 0)
        XCTAssertEqual(try pair.admin(0, "GET", "/api/admin/cluster").json?["clusterUuid"] as? String, clusterUUID)
        _ = try pair.importLicense(on: 0, items: ["itemId=before,product=dbr,chargeWay=scan,quantity=10,expires=2099-12-31"], boundTo: clusterUUID)

        pair.nodes[0].stop(signal: SIGKILL)
        try pair.waitForRole(1, "primary")
        _ = try pair.importLicense(on: 1, items: ["itemId=after,product=dbr,chargeWay=scan,quantity=10,expires=2099-12-31"],
                                   boundTo: clusterUUID.uppercased())
        _ = try pair.importLicense(on: 1, items: ["itemId=own,product=dbr,chargeWay=scan,quantity=10,expires=2099-12-31"], boundTo: nodeUUIDs[1])
        let refused = try pair.importLicenseAnswer(on: 1, items: ["itemId=main,product=dbr,chargeWay=scan,quantity=10,expires=2099-12-31"],
                                                   boundTo: nodeUUIDs[0])
        XCTAssertEqual(refused.status, 422)
        XCTAssertEqual(refused.json?["code"] as? Int, -20302)
        let message = try XCTUnwrap(refused.json?["message"] as? String)
        XCTAssertTrue(message.contains(clusterUUID) && message.contains(nodeUUIDs[1]), message)
        XCTAssertEqual(pair.health(1)?["clusterUuid"] as? String, clusterUUID, "a failover keeps the identity")

        try pair.nodes[0].start()
        XCTAssertEqual(try pair.waitForAttachedPair(), 1)
        try pair.wait(for: "the old main to hold the three licenses") {
            let items = try pair.admin(0, "GET", "/api/admin/items").body
            return (try JSONSerialization.jsonObject(with: items) as? [Any])?.count == 3
        }
        XCTAssertEqual(pair.health(0)?["clusterUuid"] as? String, clusterUUID)
    }
}
