import LicenseState
@testable import Replication
import WireFormat
import XCTest

/// The grants a primary logged again in reconciliation, as the shell keeps
/// them true to the log: a grant a truncation took out is re-applied again.
final class ReappliedRecordsTests: XCTestCase {
    /// The story of a flap run on b9de5d6 that lost 1,153 acknowledged
    /// grants: one node process re-applies its own queue in two terms, with
    /// a truncation between them that put the same grants in the queue again.
    func testAGrantReappliedAgainAfterATruncationIsLoggedAgain() {
        ScenarioScript.run("""
        > setup
        n0: primary term=2 last=0@0 flushed=0 commit=0 peer(session=1500 flushed=0) log=[]
        n1: standby term=2 last=0@0 flushed=0 commit=0 attached session=1500 log=[]
        # Node 1 takes term 3 and acknowledges g9; node 0 steps down, then takes term 4 and g5.
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
        > deliver 1
        n0: receive heartbeat term=3 session=0 commit=0 sent=0
        n0:   → persist term=3
        n0:   → role standby term=3
        > flush 0
        n0: durable term=3
        > drop 1
        > drop 0
        > tick 0 6000
        n0:   → persist term=4
        n0:   → role primary term=4
        n0:   → send heartbeat term=4 session=0 commit=0 sent=0
        > flush 0
        n0: durable term=4
        > write 0 5
        n0: client g5 at 1@4
        > flush 0
        n0: flushed 1@4
        n0:   → ack-clients upTo=1
        n0: client g5 acknowledged
        > deliver 0
        n1: receive heartbeat term=4 session=0 commit=0 sent=0
        n1:   → persist term=4
        n1:   → role standby term=4
        > flush 1
        n1: durable term=4
        # Node 1 steps down and diverges from lsn 0: g9 goes to its queue. Its reconcile is lost.
        > tick 1 2100
        n1:   → send hello term=4 session=1500 node=1 last=1@3
        > deliver 1
        n0: receive hello term=4 session=1500 node=1 last=1@3
        n0:   → send diverged term=4 session=1500 match=0
        > deliver 0
        n1: receive diverged term=4 session=1500 match=0
        n1:   → truncate after=0
        n1:   → send hello term=4 session=1501 node=1 last=0@0
        > flush 1
        n1: durable truncation after=0, queue += [1@3:g9]
        > deliver 1
        n0: receive hello term=4 session=1501 node=1 last=0@0
        n0:   → send heartbeat term=4 session=1501 commit=1 sent=0
        n0:   → send-append session=1501 prev=0@0 through=1 commit=1
        > deliver 0
        n1: receive heartbeat term=4 session=1501 commit=1 sent=0
        n1:   → send ack term=4 session=1501 flushed=0
        n1:   → send-reconcile session=1501
        n1: receive append term=4 session=1501 prev=0@0 [1@4:g5] commit=1
        n1:   → write [1@4:g5]
        > flush 1
        n1: flushed 1@4
        n1:   → send ack term=4 session=1501 flushed=1
        > drop 1
        n1 → n0 lost: ack term=4 session=1501 flushed=0
        n1 → n0 lost: reconcile term=4 session=1501 round=1 [1@3:g9]
        n1 → n0 lost: ack term=4 session=1501 flushed=1
        # Node 1 takes term 5 and re-applies its own queue: g9 at 2@5, durable.
        > tick 1 4000
        n1:   → persist term=5
        n1:   → role primary term=5
        n1:   → reconcile-own-queue
        n1:   → send heartbeat term=5 session=0 commit=1 sent=0
        > flush 1
        n1: durable term=5
        n1: reappended [2@5:g9]
        n1: flushed 2@5
        n1:   → ack-clients upTo=2
        n1: durable queue cleared
        # Node 0 takes term 6 and g6 at lsn 2; node 1 steps down and diverges from lsn 1,
        # so g9 goes to its queue again. Its reconcile is lost again.
        > deliver 1
        n0: receive heartbeat term=5 session=0 commit=1 sent=0
        n0:   → persist term=5
        n0:   → role standby term=5
        > flush 0
        n0: durable term=5
        > drop 0
        > tick 0 9000
        n0:   → persist term=6
        n0:   → role primary term=6
        n0:   → send heartbeat term=6 session=0 commit=1 sent=0
        > flush 0
        n0: durable term=6
        > write 0 6
        n0: client g6 at 2@6
        > flush 0
        n0: flushed 2@6
        n0:   → ack-clients upTo=2
        n0: client g6 acknowledged
        > deliver 0
        n1: receive heartbeat term=6 session=0 commit=1 sent=0
        n1:   → persist term=6
        n1:   → role standby term=6
        > flush 1
        n1: durable term=6
        > tick 1 4100
        n1:   → send hello term=6 session=1501 node=1 last=2@5
        > deliver 1
        n0: receive hello term=6 session=1501 node=1 last=2@5
        n0:   → send diverged term=6 session=1501 match=1
        > deliver 0
        n1: receive diverged term=6 session=1501 match=1
        n1:   → truncate after=1
        n1:   → send hello term=6 session=1502 node=1 last=1@4
        > flush 1
        n1: durable truncation after=1, queue += [2@5:g9]
        > deliver 1
        n0: receive hello term=6 session=1502 node=1 last=1@4
        n0:   → send heartbeat term=6 session=1502 commit=2 sent=1
        n0:   → send-append session=1502 prev=1@4 through=2 commit=2
        > deliver 0
        n1: receive heartbeat term=6 session=1502 commit=2 sent=1
        n1:   → send ack term=6 session=1502 flushed=1
        n1:   → send-reconcile session=1502
        n1: receive append term=6 session=1502 prev=1@4 [2@6:g6] commit=2
        n1:   → write [2@6:g6]
        > flush 1
        n1: flushed 2@6
        n1:   → send ack term=6 session=1502 flushed=2
        > drop 1
        n1 → n0 lost: ack term=6 session=1502 flushed=1
        n1 → n0 lost: reconcile term=6 session=1502 round=2 [2@5:g9]
        n1 → n0 lost: ack term=6 session=1502 flushed=2
        # Node 1 takes term 7: its own queue holds g9, which its log no longer holds. A node that
        # remembered g9 as re-applied (the store no longer holds it) skipped it and lost it.
        > tick 1 7000
        n1:   → persist term=7
        n1:   → role primary term=7
        n1:   → reconcile-own-queue
        n1:   → send heartbeat term=7 session=0 commit=2 sent=0
        > flush 1
        n1: durable term=7
        n1: reappended [3@7:g9]
        n1: flushed 3@7
        n1:   → ack-clients upTo=3
        n1: durable queue cleared
        > status 0
        n0: primary term=6 last=2@6 flushed=2 commit=2 peer(session=1502 flushed=0) degraded log=[1@4:g5 2@6:g6]
        > status 1
        n1: primary term=7 last=3@7 flushed=3 commit=3 degraded log=[1@4:g5 2@6:g6 3@7:g9]
        """)
    }

    func testADurableRecordLeavesAndATruncationTakesOutWhatFollowsIt() {
        var reapplied = ReappliedRecords()
        reapplied.logged("g1", at: LogPosition(term: 5, lsn: 2))
        reapplied.logged("g2", at: LogPosition(term: 5, lsn: 3))
        reapplied.logged("g3", at: LogPosition(term: 5, lsn: 4))
        reapplied.stored(through: LogPosition(term: 5, lsn: 2))
        XCTAssertNil(reapplied.position(of: "g1"), "the store answers for a durable record")
        XCTAssertNotNil(reapplied.position(of: "g2"))
        reapplied.cut(after: 3)
        XCTAssertNotNil(reapplied.position(of: "g2"))
        XCTAssertNil(reapplied.position(of: "g3"), "a truncation took it out of the log")
        reapplied.logged("g3", at: LogPosition(term: 7, lsn: 4))
        XCTAssertEqual(reapplied.count, 2)
        reapplied.removeAll()
        XCTAssertEqual(reapplied.count, 0)
    }

    /// One key logged twice (a grant voided, then live again, in one round):
    /// the later record decides, and a truncation of it brings back the
    /// earlier one's position.
    func testTheLastRecordOfAKeyIsTheOneHeld() {
        var reapplied = ReappliedRecords()
        reapplied.logged("g1", at: LogPosition(term: 5, lsn: 2))
        reapplied.logged("void g1", at: LogPosition(term: 5, lsn: 3))
        reapplied.logged("g1", at: LogPosition(term: 5, lsn: 4))
        XCTAssertEqual(reapplied.position(of: "g1"), LogPosition(term: 5, lsn: 4))
        XCTAssertEqual(GrantStanding.of("g1", reappliedAt: reapplied.position(of:), stored: { .absent }), .held)
        reapplied.cut(after: 3)
        XCTAssertEqual(reapplied.position(of: "g1"), LogPosition(term: 5, lsn: 2))
        XCTAssertEqual(GrantStanding.of("g1", reappliedAt: reapplied.position(of:), stored: { .absent }), .voided)
        reapplied.stored(through: LogPosition(term: 5, lsn: 2))
        XCTAssertNil(reapplied.position(of: "g1"), "durable: the store answers")
        XCTAssertEqual(GrantStanding.of("g1", reappliedAt: reapplied.position(of:), stored: { .held }), .voided)
    }

    /// A durable batch of an earlier term says nothing of a record logged
    /// at a lower LSN in a later term (after a truncation).
    func testADurableBatchOfAnEarlierTermKeepsALaterTermsRecord() {
        var reapplied = ReappliedRecords()
        reapplied.logged("g1", at: LogPosition(term: 7, lsn: 3))
        reapplied.stored(through: LogPosition(term: 5, lsn: 9))
        XCTAssertNotNil(reapplied.position(of: "g1"))
        reapplied.stored(through: LogPosition(term: 7, lsn: 3))
        XCTAssertNil(reapplied.position(of: "g1"))
    }
}
