import Foundation
@testable import OperatorTools
@testable import ClusterNode
import LTSTestSupport
import XCTest

/// A standby whose log starts before the primary's retained log (here: a
/// new, empty one, after the old standby's disk was lost) joins by a
/// snapshot of the primary's store, then follows the log; nothing
/// acknowledged is missing on either node.
final class SnapshotCatchUpTests: XCTestCase {
    /// Small enough that a few hundred grants compact the primary's log.
    static let compactingConfig: [String: Any] = ["logCheckpointRecords": 50, "logRetainedRecords": 20, "degradeAfterMs": 300]

    func testANewEmptyStandbyJoinsByASnapshotUnderLoad() throws {
        let pair = try NodePair(extraConfig: Self.compactingConfig)
        let (_, load) = try pair.startUnderLoad(warmUp: 400)
        let primaryOverBudget = try pair.nodes[0].loopTurnsOverBudget().count
        pair.nodes[1].stop(signal: SIGKILL)
        // The standby's disk is lost: it comes back empty.
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: pair.directory + "/node1/data/" + LicenseStore.fileName + suffix)
        }
        XCTAssertTrue(load.waitForMore(200), "the primary does not serve alone")
        // Its log-mark says it held more: the operator accepts the loss, as it catches up from its peer.
        try pair.nodes[1].start(arguments: ["serve", "--config", pair.nodes[1].configPath, "--accept-data-loss"])
        XCTAssertNotNil(pair.nodes[0].waitForLogLine(containing: "sending a snapshot of", timeoutSeconds: NodePair.roleTimeoutSeconds),
                        "the primary sent no snapshot")
        XCTAssertNotNil(pair.nodes[1].waitForLogLine(containing: "snapshot installed", timeoutSeconds: NodePair.roleTimeoutSeconds),
                        "the standby installed no snapshot")
        XCTAssertEqual(try pair.waitForAttachedPair(), 0)
        XCTAssertTrue(load.waitForMore(200), "the pair does not serve after the standby joined")
        let result = load.stop()
        try pair.assertBothHold(result.acknowledged)
        // The standby followed the log after the snapshot: its grants are the primary's.
        XCTAssertEqual(try pair.grants(1).count, try pair.grants(0).count)
        // Neither making the snapshot nor installing it held a loop 50 ms.
        XCTAssertEqual(try pair.nodes[0].loopTurnsOverBudget().count - primaryOverBudget, 0, "the primary's loop worked 50 ms in one turn")
        XCTAssertEqual(try pair.nodes[1].loopTurnsOverBudget().count, 0, "the standby's loop worked 50 ms in one turn")
    }
}
