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

    /// The story of async seed 215717: a repeated `reconciled` (the
    /// network's duplicate, or the answer to a round sent again) must not
    /// clear the next round before the primary has it.
    func testARepeatedAnswerToARoundDoesNotClearTheNextRound() {
        ScenarioScript.run("""
        # Rounds of one record. Cut in two: node 1 takes g9 in term 3; node 0,
        # still primary in term 2, takes g5 and g6.
        > config roundEntries=1
        > setup
        n0: primary term=2 last=0@0 flushed=0 commit=0 peer(session=1500 flushed=0) log=[]
        n1: standby term=2 last=0@0 flushed=0 commit=0 attached session=1500 log=[]
        > tick 1 2000
        n1:   → persist term=3
        n1:   → role primary term=3
        n1:   → send heartbeat term=3 session=0 commit=0 sent=0
        > flush 1
        n1: durable term=3
        > write 1 9
        n1: client g9 at 1@3
        > flush 1
        n1: flushed 1@3
        n1:   → ack-clients upTo=1
        n1: client g9 acknowledged
        > write 0 5 6
        n0: client g5 at 1@2
        n0:   → send-append session=1500 prev=0@0 through=1 commit=0
        n0: client g6 at 2@2
        n0:   → send-append session=1500 prev=1@2 through=2 commit=0
        > flush 0
        n0: flushed 1@2
        n0: flushed 2@2
        > tick 0 2000
        n0:   → send heartbeat term=2 session=0 commit=0 sent=0
        > drop 0
        n0 → n1 lost: append term=2 session=1500 prev=0@0 [1@2:g5] commit=0
        n0 → n1 lost: append term=2 session=1500 prev=1@2 [2@2:g6] commit=0
        n0 → n1 lost: heartbeat term=2 session=0 commit=0 sent=0
        > deliver 1
        n0: receive heartbeat term=3 session=0 commit=0 sent=0
        n0:   → persist term=3
        n0:   → role standby term=3
        > flush 0
        n0: durable term=3
        # Node 0, now a standby, diverges from lsn 0: g5 and g6 go to its queue.
        > tick 0 2100
        n0:   → send hello term=3 session=1000 node=0 last=2@2
        > deliver 0
        n1: receive hello term=3 session=1000 node=0 last=2@2
        n1:   → send diverged term=3 session=1000 match=0
        > deliver 1
        n0: receive diverged term=3 session=1000 match=0
        n0:   → truncate after=0
        n0:   → send hello term=3 session=1001 node=0 last=0@0
        > flush 0
        n0: durable truncation after=0, queue += [1@2:g5 2@2:g6]
        > deliver 0
        n1: receive hello term=3 session=1001 node=0 last=0@0
        n1:   → send heartbeat term=3 session=1001 commit=1 sent=0
        n1:   → send-append session=1001 prev=0@0 through=1 commit=1
        > deliver 1
        n0: receive heartbeat term=3 session=1001 commit=1 sent=0
        n0:   → send ack term=3 session=1001 flushed=0
        n0:   → send-reconcile session=1001
        n0: receive append term=3 session=1001 prev=0@0 [1@3:g9] commit=1
        n0:   → write [1@3:g9]
        > deliver 0
        n1: receive ack term=3 session=1001 flushed=0
        n1: receive reconcile term=3 session=1001 round=1 [1@2:g5]
        n1:   → reconcile session=1001 round=1 [1@2:g5]
        n1: reappended [2@3:g5]
        n1:   → send-append session=1001 prev=1@3 through=2 commit=1
        n1: reconciled session=1001 through=2 round=1
        n1:   → send reconciled term=3 session=1001 through=2 round=1
        # The primary re-applied round 1 (g5) and answered; the answer is repeated.
        > deliver 1 1
        n0: receive append term=3 session=1001 prev=1@3 [2@3:g5] commit=1
        n0:   → write [2@3:g5]
        > duplicate 1
        n1 → n0 duplicated: reconciled term=3 session=1001 through=2 round=1
        > deliver 1 1
        n0: receive reconciled term=3 session=1001 through=2 round=1
        > flush 0
        n0: flushed 1@3
        n0:   → send ack term=3 session=1001 flushed=1
        n0: flushed 2@3
        n0:   → send ack term=3 session=1001 flushed=2
        n0:   → clear-reconcile-queue
        n0: durable queue cleared
        n0: reconcile queue remains
        n0:   → send-reconcile session=1001
        > status 0
        n0: standby term=3 last=2@3 flushed=2 commit=0 attached session=1001 log=[1@3:g9 2@3:g5] queue=[2@2:g6]
        # The repeated answer to round 1 arrives while round 2 (g6) is on the wire: it clears nothing.
        > deliver 1
        n0: receive reconciled term=3 session=1001 through=2 round=1
        > status 0
        n0: standby term=3 last=2@3 flushed=2 commit=0 attached session=1001 log=[1@3:g9 2@3:g5] queue=[2@2:g6]
        # Round 2's own answer clears g6 once the primary holds it.
        > stabilize
        n1: flushed 2@3
        n1:   → ack-clients upTo=2
        n1: receive ack term=3 session=1001 flushed=1
        n1: receive ack term=3 session=1001 flushed=2
        n1: receive reconcile term=3 session=1001 round=2 [2@2:g6]
        n1:   → reconcile session=1001 round=2 [2@2:g6]
        n1: reappended [3@3:g6]
        n1:   → send-append session=1001 prev=2@3 through=3 commit=2
        n1: reconciled session=1001 through=3 round=2
        n1:   → send reconciled term=3 session=1001 through=3 round=2
        n0: receive append term=3 session=1001 prev=2@3 [3@3:g6] commit=2
        n0:   → write [3@3:g6]
        n0: receive reconciled term=3 session=1001 through=3 round=2
        n0: flushed 3@3
        n0:   → send ack term=3 session=1001 flushed=3
        n0:   → clear-reconcile-queue
        n0: durable queue cleared
        n1: flushed 3@3
        n1: receive ack term=3 session=1001 flushed=3
        n1:   → ack-clients upTo=3
        > status 0
        n0: standby term=3 last=3@3 flushed=3 commit=2 attached session=1001 log=[1@3:g9 2@3:g5 3@3:g6]
        > status 1
        n1: primary term=3 last=3@3 flushed=3 commit=3 peer(session=1001 flushed=3) log=[1@3:g9 2@3:g5 3@3:g6]
        """)
    }

    /// A pair of replication protocol 2 numbers no round: the standby's
    /// queue goes whole, and the answer, round 0, clears it all.
    func testAPeerThatNumbersNoRoundGetsTheQueueWhole() {
        ScenarioScript.run("""
        > config rounds=whole
        > setup
        n0: primary term=2 last=0@0 flushed=0 commit=0 peer(session=1500 flushed=0) log=[]
        n1: standby term=2 last=0@0 flushed=0 commit=0 attached session=1500 log=[]
        > tick 1 2000
        n1:   → persist term=3
        n1:   → role primary term=3
        n1:   → send heartbeat term=3 session=0 commit=0 sent=0
        > flush 1
        n1: durable term=3
        > write 0 5 6
        n0: client g5 at 1@2
        n0:   → send-append session=1500 prev=0@0 through=1 commit=0
        n0: client g6 at 2@2
        n0:   → send-append session=1500 prev=1@2 through=2 commit=0
        > flush 0
        n0: flushed 1@2
        n0: flushed 2@2
        > tick 0 2000
        n0:   → send heartbeat term=2 session=0 commit=0 sent=0
        > drop 0
        n0 → n1 lost: append term=2 session=1500 prev=0@0 [1@2:g5] commit=0
        n0 → n1 lost: append term=2 session=1500 prev=1@2 [2@2:g6] commit=0
        n0 → n1 lost: heartbeat term=2 session=0 commit=0 sent=0
        > deliver 1
        n0: receive heartbeat term=3 session=0 commit=0 sent=0
        n0:   → persist term=3
        n0:   → role standby term=3
        > flush 0
        n0: durable term=3
        # Node 0 diverges from lsn 0: g5 and g6 go to its queue, and then to the primary in one message.
        > tick 0 2100
        n0:   → send hello term=3 session=1000 node=0 last=2@2
        > deliver 0
        n1: receive hello term=3 session=1000 node=0 last=2@2
        n1:   → send diverged term=3 session=1000 match=0
        > deliver 1
        n0: receive diverged term=3 session=1000 match=0
        n0:   → truncate after=0
        n0:   → send hello term=3 session=1001 node=0 last=0@0
        > flush 0
        n0: durable truncation after=0, queue += [1@2:g5 2@2:g6]
        > deliver 0
        n1: receive hello term=3 session=1001 node=0 last=0@0
        n1:   → send heartbeat term=3 session=1001 commit=0 sent=0
        > deliver 1
        n0: receive heartbeat term=3 session=1001 commit=0 sent=0
        n0:   → send ack term=3 session=1001 flushed=0
        n0:   → send-reconcile session=1001
        > deliver 0
        n1: receive ack term=3 session=1001 flushed=0
        n1: receive reconcile term=3 session=1001 round=0 [1@2:g5 2@2:g6]
        n1:   → reconcile session=1001 round=0 [1@2:g5 2@2:g6]
        n1: reappended [1@3:g5 2@3:g6]
        n1:   → send-append session=1001 prev=0@0 through=2 commit=0
        n1: reconciled session=1001 through=2 round=0
        n1:   → send reconciled term=3 session=1001 through=2 round=0
        > stabilize
        n1: flushed 2@3
        n0: receive append term=3 session=1001 prev=0@0 [1@3:g5 2@3:g6] commit=0
        n0:   → write [1@3:g5 2@3:g6]
        n0: receive reconciled term=3 session=1001 through=2 round=0
        n0: flushed 2@3
        n0:   → send ack term=3 session=1001 flushed=2
        n0:   → clear-reconcile-queue
        n0: durable queue cleared
        n1: receive ack term=3 session=1001 flushed=2
        n1:   → ack-clients upTo=2
        > status 0
        n0: standby term=3 last=2@3 flushed=2 commit=0 attached session=1001 log=[1@3:g5 2@3:g6]
        """)
    }
}
