import Foundation
@testable import OperatorTools
@testable import ClusterNode
import LTSTestSupport
import Transport
import XCTest

/// A pair whose network fails (each node in its own network namespace,
/// traffic dropped in this one): cut in two while clients still reach both,
/// the primary cut from everything, and a flapping link. Whatever happens,
/// after the heal there is one primary and nothing acknowledged is lost.
///
/// `LTS_PARTITION_SEED=<n>` replays the flapping test's cut and heal durations.
final class PartitionTests: XCTestCase {
    /// How often the flapping test cuts the link, and how long each cut and
    /// each heal lasts. Cuts stay under TCP's minimum retransmission timeout
    /// (200 ms on Linux): a segment lost in one is resent once, after the
    /// heal. A longer cut can silence a stream for far longer than itself,
    /// as each loss doubles the timeout (200, 400, 800 ms): with the streams
    /// sending each small message at once (TCP_NODELAY), cuts of 265–336 ms
    /// made a takeover one run in six. Takeovers by longer cuts are what the
    /// other tests here cut for.
    static let flapCount = 10
    static let flapCutMs: ClosedRange<UInt64> = 100...190
    static let flapHealMs: ClosedRange<UInt64> = 100...400
    /// The longest a client load may go without a grant when the primary is
    /// lost: the standby waits out the failover timeout (1 s) while the
    /// clients' calls to the lost node time out (1 s each); the rest is margin
    /// for a loaded machine. A takeover here takes about 1.05 s.
    static let takeoverGapSecondsMax = 5.0

    /// The primary cut from the standby and from its clients: the standby
    /// takes over and the clients' load follows it; after the heal the old
    /// primary steps down and rejoins, and both hold every acknowledged grant.
    func testAPrimaryCutFromEverythingIsReplacedAndTheLoadFollows() throws {
        if let reason = NetworkNamespaces.unavailableReason { throw XCTSkip(reason) }
        let network = try NetworkNamespaces()
        defer { network.remove() }
        let pair = try NodePair(network: network)
        let (_, load) = try pair.startUnderLoad()
        let termBefore = try XCTUnwrap(pair.health(0)?["term"] as? Int)

        load.resetGap()
        try network.isolate(0)
        try pair.waitForRole(1, "primary")
        XCTAssertGreaterThan(pair.health(1)?["term"] as? Int ?? 0, termBefore, "a takeover starts a new term")
        XCTAssertTrue(load.waitForMore(200, timeoutSeconds: 10), "the clients' load must follow to the new primary")
        XCTAssertLessThan(load.largestGap, Self.takeoverGapSecondsMax, "the load stalled too long")

        try network.heal()
        try pair.wait(for: "the old primary to step down and attach") {
            pair.health(0)?["role"] as? String == "standby"
                && (pair.health(0)?["peer"] as? [String: Any])?["state"] as? String == "attached"
        }
        XCTAssertEqual(pair.health(1)?["role"] as? String, "primary", "the new primary keeps its role")
        XCTAssertTrue(load.waitForMore(200), "the pair must serve after the heal")
        try pair.assertBothHold(load.stop().acknowledged)
    }

    /// The node-to-node link cut and healed again and again, every cut
    /// shorter than TCP's minimum retransmission timeout: no takeover at
    /// all (no promotion storm), the pair ends attached with the same
    /// primary, and both hold every acknowledged grant.
    func testAFlappingLinkCausesNoPromotionStorm() throws {
        if let reason = NetworkNamespaces.unavailableReason { throw XCTSkip(reason) }
        let seed = ProcessInfo.processInfo.environment["LTS_PARTITION_SEED"].flatMap(UInt64.init) ?? 1
        var random = SplitMix64(seed: seed)
        let network = try NetworkNamespaces()
        defer { network.remove() }
        let pair = try NodePair(network: network)
        let (_, load) = try pair.startUnderLoad()
        let termBefore = try XCTUnwrap(pair.health(0)?["term"] as? Int)

        load.resetGap()
        var cutsDrawnMs: [UInt64] = [], healsDrawnMs: [UInt64] = [], cutsLastedMs: [Int] = []
        for _ in 0..<Self.flapCount {
            let cutMs = random.uniform(Self.flapCutMs), healMs = random.uniform(Self.flapHealMs)
            cutsDrawnMs.append(cutMs)
            healsDrawnMs.append(healMs)
            let started = Date()
            try network.partition()
            usleep(UInt32(cutMs * 1_000)) // Holds the fault; no outcome is waited for here.
            try network.heal()
            cutsLastedMs.append(Int(Date().timeIntervalSince(started) * 1_000))
            usleep(UInt32(healMs * 1_000))
        }
        // In sync mode no grant is acknowledged while the stream is stalled,
        // so the largest gap is the longest silence the standby saw.
        let largestGapMs = Int(load.largestGap * 1_000)
        let context = "seed \(seed), cuts lasting \(cutsLastedMs) ms, heals \(healsDrawnMs) ms, largest gap between grants \(largestGapMs) ms"
        // Half the longest cut: well above the gaps of an uncut pair under load.
        XCTAssertGreaterThanOrEqual(largestGapMs, Int(cutsDrawnMs.max() ?? 0) / 2, "the cuts did not stall the load; \(context)")

        let primary = try pair.waitForAttachedPair()
        let terms = (0..<2).map { pair.health($0)?["term"] as? Int }
        XCTAssertEqual(terms[0], terms[1], "both nodes in one term; \(context)")
        let termAfter = try XCTUnwrap(terms[primary])
        XCTAssertEqual(termAfter, termBefore, "term \(termBefore) → \(termAfter): a cut shorter than a retransmission made a takeover; \(context)")
        let primaries = (0..<2).filter { pair.health($0)?["role"] as? String == "primary" }
        XCTAssertEqual(primaries, [0], "the main stays the one primary; \(context)")
        XCTAssertTrue(load.waitForMore(200), "the pair must serve after the heal; \(context)")
        try pair.assertBothHold(load.stop().acknowledged)
    }

    /// How long the node-to-node link stays cut in the long-cut test. TCP
    /// resends a lost segment 0.2, 0.6, 1.4, 3.0, 6.2 and 12.6 s after the
    /// loss, then at 25.4 s: a stream kept open through a 14 s cut carries
    /// its next byte about 11 s after the heal.
    static let longCutMs: UInt32 = 14_000
    /// The longest the old primary may take to step down after that heal:
    /// a stream dropped after `ReplicationLink.stallLimitMs` is dialed again
    /// every few seconds, each dial's SYN resent after 1 s.
    static let stepDownAfterHealSecondsMax = 6.0

    /// The link cut for longer than TCP's resends reach in a few seconds:
    /// after the heal the old primary hears the new term within seconds, as
    /// the stalled streams were dropped and are dialed again, instead of
    /// waiting for the next resend on a stream that survived the cut.
    func testAfterALongCutTheOldPrimaryStepsDownSoonAfterTheHeal() throws {
        if let reason = NetworkNamespaces.unavailableReason { throw XCTSkip(reason) }
        let network = try NetworkNamespaces()
        defer { network.remove() }
        let pair = try NodePair(network: network)
        XCTAssertEqual(try pair.startBoth(), 0, "at a cold start with equal logs the main leads")

        try network.partition()
        let cutAt = Date()
        try pair.waitForRole(1, "primary")
        let heldMs = UInt32(Date().timeIntervalSince(cutAt) * 1_000)
        usleep((Self.longCutMs - min(heldMs, Self.longCutMs)) * 1_000) // Holds the fault; no outcome is waited for here.
        XCTAssertEqual(pair.health(0)?["role"] as? String, "primary", "cut off, the old primary cannot hear the new term")
        try network.heal()
        let healedAt = Date()
        try pair.wait(for: "the old primary to step down after the heal") { pair.health(0)?["role"] as? String == "standby" }
        let stepDownSeconds = Date().timeIntervalSince(healedAt)
        XCTAssertLessThan(stepDownSeconds, Self.stepDownAfterHealSecondsMax,
                          "two primaries served \(String(format: "%.1f", stepDownSeconds)) s after the heal")
        XCTAssertEqual(pair.health(1)?["role"] as? String, "primary", "the new primary keeps its role")
    }

    /// The pair cut in two while clients still reach both: each side serves
    /// (the old primary once degraded), and after the heal nothing either
    /// side acknowledged is lost.
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
        XCTAssertTrue(load.waitForMore(200), "the pair must serve its clients during the cut")
        // Clients of each side: the load may have moved to the new primary,
        // so the old one is given grants of its own (once degraded it answers alone).
        try pair.wait(for: "the old primary to answer degraded") { pair.health(0)?["degraded"] as? Bool == true }
        var onEachSide: [String: String] = [:]
        for index in 0..<40 {
            let side = index % 2
            let answer = try pair.client(side).send("POST", pair.nodes[side].url("/api/v1/authorize"),
                                                    body: json(["handshakeCode": code, "clientUUID": "side-\(side)", "product": "dbr",
                                                                "requestId": "side-\(side)-\(index)"]))
            XCTAssertEqual(answer.status, 200, String(decoding: answer.body, as: UTF8.self))
            onEachSide["side-\(side)-\(index)"] = answer.json?["grantId"] as? String
        }

        try network.heal()
        try pair.wait(for: "the old primary to step down and attach") {
            pair.health(0)?["role"] as? String == "standby"
                && (pair.health(0)?["peer"] as? [String: Any])?["state"] as? String == "attached"
        }
        XCTAssertTrue(load.waitForMore(200), "the pair must serve after the heal")
        var acknowledged = load.stop().acknowledged
        acknowledged.merge(onEachSide) { first, _ in first }
        try pair.assertBothHold(acknowledged)
        let reconciled = try pair.admin(1, "GET", "/api/admin/cluster").json?["reconciledTotal"] as? Int ?? 0
        XCTAssertGreaterThan(reconciled, 0, "the old primary's grants of the partition come back by reconciliation")
        // Once the primary holds them, the old primary's queue empties.
        try pair.wait(for: "the old primary's reconciliation queue to empty") {
            (try? pair.admin(0, "GET", "/api/admin/cluster").json?["reconcileQueue"] as? Bool) == false
        }
    }
}
