import Foundation
@testable import OperatorTools
import LTSTestSupport
import Transport
import XCTest

/// Checkpoints on a pair under a load whose every call carries a request ID
/// (what real clients send): the state, remembered requests included, is
/// encoded off the loop and off the log writer, so neither node stalls, no
/// takeover follows and no grant is lost.
final class CheckpointUnderLoadTests: XCTestCase {
    func testCheckpointsOfAGrowingStateUnderLoadCauseNoTakeoverAndNoStall() throws {
        let pair = try NodePair(extraConfig: ["logCheckpointRecords": 1_000, "logRetainedRecords": 200])
        let (_, load) = try pair.startUnderLoad(warmUp: 200)
        let terms = (0..<2).map { pair.health($0)?["term"] as? Int }
        func checkpointLsn(_ index: Int) throws -> Int {
            try XCTUnwrap(pair.admin(index, "GET", "/api/admin/cluster").json?["checkpointLsn"] as? Int)
        }
        let loops = try LoopStallWatch(pair)
        let checkpointsBefore = try (0..<2).map { try checkpointLsn($0) }
        load.resetGap()
        XCTAssertTrue(load.waitForMore(6_000, timeoutSeconds: 180), "the load does not reach 6,000 more grants")
        let gap = load.largestGap
        let result = load.stop()
        // A stall of answers as long as the failover timeout would look like a dead primary.
        print("largest gap between two acknowledged grants under checkpoints: \(Int(gap * 1000)) ms")
        XCTAssertLessThan(gap, 1.0, "answers stalled while checkpointing")
        XCTAssertEqual((0..<2).map { pair.health($0)?["term"] as? Int }, terms, "a checkpoint caused a takeover")
        for index in 0..<2 {
            let checkpoint = try checkpointLsn(index)
            XCTAssertGreaterThanOrEqual(checkpoint - checkpointsBefore[index], 5_000,
                                        "node \(index) did not checkpoint through the load (checkpoint at lsn \(checkpoint))")
        }
        try loops.assertNoStall(during: "while checkpointing")
        try pair.assertBothHold(result.acknowledged)
    }
}
