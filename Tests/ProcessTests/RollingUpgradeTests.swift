import Foundation
@testable import OperatorTools
import LTSTestSupport
import XCTest

/// A rolling upgrade under load, from the previous lts (`make
/// upgrade-check` builds it into .build-upgrade/ and names it in
/// LTS_PREVIOUS_BINARY; without it the test is skipped): the standby is
/// upgraded first and catches up from the old primary, a switchover makes it
/// primary, then the old main is upgraded and rejoins. The pair serves
/// throughout and loses no acknowledged grant.
final class RollingUpgradeTests: XCTestCase {
    func testStandbyFirstThenSwitchoverThenTheOldMainLosesNothing() throws {
        guard let previous = ProcessInfo.processInfo.environment["LTS_PREVIOUS_BINARY"] else {
            throw XCTSkip("set LTS_PREVIOUS_BINARY to an earlier lts (make upgrade-check does)")
        }
        let pair = try NodePair()
        for node in pair.nodes { node.executable = previous }
        let (_, load) = try pair.startUnderLoad()

        // 1. The standby runs the new lts; it states what it reads, the old primary ignores that.
        XCTAssertEqual(pair.nodes[1].stop(), 0)
        pair.nodes[1].executable = NodeProcess.binary
        try pair.nodes[1].start()
        XCTAssertEqual(try pair.waitForAttachedPair(), 0)
        XCTAssertNotNil(pair.nodes[1].waitForLogLine(containing: "replication protocol 1", timeoutSeconds: NodePair.roleTimeoutSeconds),
                        "the new standby takes the old primary's stream for protocol 1")
        XCTAssertTrue(load.waitForMore(100), "the mixed pair does not serve")

        // 2. Switchover: the new lts is primary, the old one its standby.
        let answer = try pair.admin(0, "POST", "/api/admin/cluster/switchover", body: json([:]))
        XCTAssertEqual(answer.status, 202, String(decoding: answer.body, as: UTF8.self))
        try pair.waitForRole(1, "primary")
        XCTAssertEqual(try pair.waitForAttachedPair(), 1)
        XCTAssertTrue(load.waitForMore(100), "the new primary does not serve with the old standby")
        let peer = pair.health(1)?["peer"] as? [String: Any]
        XCTAssertEqual(peer?["state"] as? String, "attached", "nothing the old standby cannot read is written yet: \(peer ?? [:])")

        // 3. The old main runs the new lts and rejoins as standby.
        XCTAssertEqual(pair.nodes[0].stop(), 0)
        pair.nodes[0].executable = NodeProcess.binary
        try pair.nodes[0].start()
        XCTAssertEqual(try pair.waitForAttachedPair(), 1)
        XCTAssertTrue(load.waitForMore(100), "the upgraded pair does not serve")
        let result = load.stop()
        try pair.assertBothHold(result.acknowledged)
    }
}
