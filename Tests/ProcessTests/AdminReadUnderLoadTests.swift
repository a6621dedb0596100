import Foundation
@testable import OperatorTools
import LTSTestSupport
import Transport
import XCTest

/// Large admin reads on a pair under load (full grant pages, statistics over
/// the whole 400 days they are kept, in JSON and CSV, and the alert overview):
/// none holds the event loop, so neither node stalls, no takeover follows and
/// no grant is lost.
final class AdminReadUnderLoadTests: XCTestCase {
    func testFullGrantPagesUnderLoadCauseNoTakeoverAndNoStall() throws {
        let pair = try NodePair()
        let (_, load) = try pair.startUnderLoad(warmUp: 200)
        XCTAssertTrue(load.waitForMore(3_000, timeoutSeconds: 120), "the load does not reach 3,000 grants")
        let terms = (0..<2).map { pair.health($0)?["term"] as? Int }
        let loops = try LoopStallWatch(pair)
        let wholePeriod = "/api/admin/stats?from=\(Int(Date().timeIntervalSince1970) - 399 * 86_400)&bucket=2h"
        for round in 0..<4 {
            for index in 0..<2 {
                let listed = try pair.grants(index)
                XCTAssertGreaterThanOrEqual(listed.count, 3_000, "round \(round): node \(index) lists \(listed.count) grants")
                for path in [wholePeriod, wholePeriod + "&format=csv", "/api/admin/alerts"] {
                    XCTAssertEqual(try pair.admin(index, "GET", path).status, 200, "round \(round): node \(index) \(path)")
                }
            }
        }
        XCTAssertTrue(load.waitForMore(200), "the pair does not serve after the reads")
        let result = load.stop()
        XCTAssertEqual((0..<2).map { pair.health($0)?["term"] as? Int }, terms, "a read caused a takeover")
        XCTAssertEqual(pair.health(0)?["role"] as? String, "primary")
        // Read on the loop, a page of 3,000 grants held it about 300 ms
        // (a debug build); off the loop, nothing comes near 250 ms.
        try loops.assertNoStall(during: "during the reads")
        try pair.assertBothHold(result.acknowledged)
    }
}
