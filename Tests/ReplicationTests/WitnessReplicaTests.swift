@testable import Replication
import WireFormat
import XCTest

/// A replica with a witness (`Replica+Witness`): terms only by the
/// witness's grant, writes only under a lease or the standby's promise.
final class WitnessReplicaTests: XCTestCase {
    /// heartbeat 100, failover 1000, lease 500 (held 553 by the witness),
    /// promise 903; no stall detection (ticks may jump).
    private static let config = ReplicaConfig(stallMs: .max, witness: true)

    private func history(_ lastLsn: UInt64, term: UInt64 = 2) -> TermHistory {
        var history = TermHistory()
        for lsn in stride(from: 1, through: lastLsn, by: 1) { history.append(lsn: lsn, term: term) }
        return history
    }

    private func claims(in effects: [ReplicaEffect]) -> [WitnessClaim] {
        effects.compactMap { effect in
            if case .askWitness(let claim) = effect { return claim }
            return nil
        }
    }

    private func granted(_ claim: WitnessClaim) -> WitnessAnswer {
        WitnessAnswer(granted: true, highestTerm: claim.term, holder: claim.node, leaseRemainingMs: claim.holdMs)
    }

    /// A node 0 that took term 2 by the witness's grant at `nowMs`.
    private func primary(at nowMs: UInt64 = 1_000) -> Replica {
        var node = Replica(config: Self.config, nodeIndex: 0, term: 1, history: history(3, term: 1), incarnation: 7,
                           hasReconcileQueue: false, nowMs: 0)
        let claim = claims(in: node.tick(nowMs: nowMs)).first!
        _ = node.witnessAnswered(claim, granted(claim))
        precondition(node.role == .primary && node.term == 2)
        return node
    }

    func testAStandbyTakesOverOnlyWithTheWitnessGrant() {
        var standby = Replica(config: Self.config, nodeIndex: 1, term: 2, history: history(3), incarnation: 9,
                              hasReconcileQueue: false, nowMs: 0)
        XCTAssertEqual(claims(in: standby.tick(nowMs: 999)), [], "the primary was heard less than failoverTimeoutMs ago")
        let claim = claims(in: standby.tick(nowMs: 1_000)).first
        XCTAssertEqual(claim?.term, 3)
        XCTAssertEqual(claim?.holdMs, 553)
        XCTAssertEqual(standby.role, .standby, "silence alone promotes no one")
        XCTAssertEqual(claims(in: standby.tick(nowMs: 1_200)), [], "one claim at a time")
        let refusal = WitnessAnswer(granted: false, highestTerm: 2, holder: 0, leaseRemainingMs: 300)
        XCTAssertEqual(standby.witnessAnswered(claim!, refusal), [])
        XCTAssertEqual(standby.role, .standby, "the primary's lease still runs")
        let next = claims(in: standby.tick(nowMs: 1_300)).first!
        let effects = standby.witnessAnswered(next, granted(next))
        XCTAssertEqual(standby.role, .primary)
        XCTAssertEqual(standby.term, 3)
        XCTAssertTrue(effects.contains(.persistTerm(3)))
        XCTAssertEqual(standby.lease, Replica.Lease(term: 3, untilMs: 1_800), "the lease runs from when the claim was sent")
        XCTAssertTrue(standby.holdsWriteAuthority(atMs: 1_799))
        XCTAssertFalse(standby.holdsWriteAuthority(atMs: 1_800))
    }

    func testAStandbyThatHeardItsPrimaryAgainReleasesTheTermItWasGranted() {
        var standby = Replica(config: Self.config, nodeIndex: 1, term: 2, history: history(3), incarnation: 9,
                              hasReconcileQueue: false, nowMs: 0)
        let claim = claims(in: standby.tick(nowMs: 1_000)).first!
        // The primary's heartbeat arrives while the claim is on its way: the
        // primary may count on this standby's promise, so taking over now
        // would make two writers.
        _ = standby.receive(.heartbeat(term: 2, session: 0, commitLsn: 3, sentLsn: 0, sentAtMs: 1_050))
        let effects = standby.witnessAnswered(claim, granted(claim))
        XCTAssertEqual(standby.role, .standby)
        XCTAssertEqual(standby.term, 2)
        XCTAssertEqual(claims(in: effects).map(\.release), [true])
        XCTAssertEqual(claims(in: effects).map(\.term), [3])
    }

    func testAPrimaryWithNeitherLeaseNorPromiseTakesAndAcknowledgesNoWrite() {
        var node = primary(at: 1_000)
        _ = node.advanceClock(to: 1_100)
        XCTAssertTrue(node.acceptsWrites)
        _ = node.appended(through: 4)
        // The witness stops answering: the lease (until 1500) runs out.
        let renewal = claims(in: node.tick(nowMs: 1_400)).first!
        _ = node.witnessAnswered(renewal, nil)
        for claim in claims(in: node.tick(nowMs: 1_500)) { _ = node.witnessAnswered(claim, nil) }
        XCTAssertFalse(node.acceptsWrites)
        XCTAssertEqual(node.role, .primary)
        XCTAssertEqual(node.flushed(through: LogPosition(term: 2, lsn: 4)).filter { if case .ackClients = $0 { return true }; return false }, [],
                       "a record made durable after the lease ran out waits")
        // The witness answers again: the lease is back, and so is the acknowledgement.
        let again = claims(in: node.tick(nowMs: 1_600)).first!
        let effects = node.witnessAnswered(again, granted(again))
        XCTAssertTrue(node.acceptsWrites)
        XCTAssertTrue(effects.contains(.ackClients(upTo: 4)), "degraded from the start (its peer was lost), it answers alone: \(effects)")
    }

    func testWithADeadWitnessTheStandbysAcknowledgementsKeepThePrimaryWriting() {
        var node = primary(at: 1_000)
        // A standby attaches; from now on the witness never answers.
        _ = node.receive(.hello(term: 2, session: 40, nodeIndex: 1, history: history(3, term: 1)))
        for nowMs in stride(from: UInt64(1_100), through: 4_000, by: 100) {
            for claim in claims(in: node.tick(nowMs: nowMs)) { _ = node.witnessAnswered(claim, nil) }
            // The standby acknowledges the heartbeat it heard just now.
            _ = node.receive(.ack(term: 2, session: 40, flushedLsn: 3, heardAtMs: nowMs))
            XCTAssertTrue(node.acceptsWrites, "at \(nowMs)")
        }
        XCTAssertLessThanOrEqual(node.lease?.untilMs ?? 0, 4_000, "the lease ran out long ago")
        // The standby goes silent: the promise of the last heartbeat it heard ends.
        let promiseEnd = 4_000 + Self.config.standbyPromiseMs
        XCTAssertEqual(Self.config.standbyPromiseMs, 903, "1000 ms × 0.95 / 1.05, less a millisecond")
        _ = node.tick(nowMs: promiseEnd - 1)
        XCTAssertTrue(node.acceptsWrites)
        _ = node.tick(nowMs: promiseEnd)
        XCTAssertFalse(node.acceptsWrites)
    }

    func testAPromiseFromAHeartbeatOfTheFutureIsIgnored() {
        var node = primary(at: 1_000)
        _ = node.receive(.hello(term: 2, session: 40, nodeIndex: 1, history: history(3, term: 1)))
        _ = node.receive(.ack(term: 2, session: 40, flushedLsn: 3, heardAtMs: 90_000))
        XCTAssertNil(node.standbyPromiseUntilMs, "a time this clock has not reached comes from another clock")
    }

    func testAPrimaryStepsDownWhenTheWitnessNamesAHigherTerm() {
        var node = primary(at: 1_000)
        let renewal = claims(in: node.tick(nowMs: 1_100)).first!
        let effects = node.witnessAnswered(renewal, WitnessAnswer(granted: false, highestTerm: 3, holder: 1, leaseRemainingMs: 500))
        XCTAssertEqual(node.role, .standby)
        XCTAssertEqual(node.term, 3)
        XCTAssertTrue(effects.contains(.persistTerm(3)))
        XCTAssertNil(node.lease)
    }

    func testAHandoverReleasesTheLease() {
        var node = primary(at: 1_000)
        _ = node.receive(.hello(term: 2, session: 40, nodeIndex: 1, history: history(3, term: 1)))
        _ = node.receive(.ack(term: 2, session: 40, flushedLsn: 3, heardAtMs: 1_000))
        let effects = node.requestSwitchover() ?? []
        XCTAssertEqual(node.role, .standby)
        XCTAssertEqual(claims(in: effects).map(\.release), [true])
        XCTAssertEqual(claims(in: effects).map(\.term), [2])
    }

    func testWithoutAWitnessNothingChanges() {
        var node = Replica(config: ReplicaConfig(stallMs: .max), nodeIndex: 0, term: 1, history: history(3, term: 1), incarnation: 7,
                           hasReconcileQueue: false, nowMs: 0)
        let effects = node.tick(nowMs: 1_000)
        XCTAssertEqual(node.role, .primary)
        XCTAssertEqual(claims(in: effects), [])
        XCTAssertTrue(node.holdsWriteAuthority(atMs: 1_000_000))
        XCTAssertTrue(effects.contains(.send(.heartbeat(term: 2, session: 0, commitLsn: 3, sentLsn: 0))), "no time in the heartbeat")
    }
}
