import LicenseState
@testable import Replication
import XCTest

/// A queue sent in rounds: after the primary answered one round and the
/// shell cleared it, the rest goes in the next round, on the same session;
/// a primary's own queue is re-applied the same way, a round at a time.
final class ReconcileRoundsTests: XCTestCase {
    /// One tick may jump seconds here, as silence: no stall detection.
    private static let config = ReplicaConfig(stallMs: .max)

    func testTheNextRoundIsSentWhenTheQueueStillHoldsRecords() {
        var standby = Replica(config: Self.config, nodeIndex: 1, term: 2, history: TermHistory(), incarnation: 100,
                              hasReconcileQueue: true, nowMs: 0)
        let attach = standby.receive(.heartbeat(term: 2, session: 100, commitLsn: 0, sentLsn: 0))
        XCTAssertTrue(attach.contains(.sendReconcile(session: 100)))
        XCTAssertEqual(standby.receive(.reconciled(term: 2, session: 100, throughLsn: 0)), [.clearReconcileQueue])
        XCTAssertFalse(standby.hasReconcileQueue)
        XCTAssertEqual(standby.reconcileQueueRemains(), [.sendReconcile(session: 100)])
        XCTAssertTrue(standby.hasReconcileQueue)
        XCTAssertEqual(standby.receive(.reconciled(term: 2, session: 100, throughLsn: 0)), [.clearReconcileQueue])
    }

    func testAPrimaryReappliesItsOwnQueueARoundAtATime() {
        var history = TermHistory()
        history.append(lsn: 1, term: 1)
        var node = Replica(config: Self.config, nodeIndex: 0, term: 1, history: history, incarnation: 7,
                           hasReconcileQueue: false, nowMs: 0)
        _ = node.tick(nowMs: 5_000)
        XCTAssertEqual(node.role, .primary)
        // Its own queue's next round, re-applied here: nothing to send.
        XCTAssertEqual(node.reconcileQueueRemains(), [.reconcileOwnQueue])
        XCTAssertFalse(node.hasReconcileQueue)
    }
}
