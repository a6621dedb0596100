import XCTest

/// Failover stories of one pair, as transcripts (see `ScenarioScript` for
/// the commands): each checks one rule of `Replica` and prints every effect
/// and message on the way, so that a change of behaviour shows as a diff.
final class ReplicaScenarioTests: XCTestCase {
    func testAStandbyPromotesAfterFailoverTimeoutOfSilenceAndNotBefore() {
        ScenarioScript.run("""
        # Node 1 last heard the primary at 1000; then the primary crashes.
        > setup
        n0: primary term=2 last=0@0 flushed=0 commit=0 peer(session=1500 flushed=0) log=[]
        n1: standby term=2 last=0@0 flushed=0 commit=0 attached session=1500 log=[]
        > write 0 1
        n0: client g1 at 1@2
        n0:   → send-append session=1500 prev=0@0 through=1 commit=0
        > stabilize
        n0: flushed 1@2
        n1: receive append term=2 session=1500 prev=0@0 [1@2:g1] commit=0
        n1:   → write [1@2:g1]
        n1: flushed 1@2
        n1:   → send ack term=2 session=1500 flushed=1
        n0: receive ack term=2 session=1500 flushed=1
        n0:   → ack-clients upTo=1
        n0: client g1 acknowledged
        > crash 0
        n0: crash
        # 999 ms of silence: node 1 only sends its keepalive.
        > tick 1 1999
        n1:   → send ack term=2 session=1500 flushed=1
        # 1000 ms: it takes term 3. Its peer just failed, so a sync primary answers alone at once.
        > tick 1 2000
        n1:   → persist term=3
        n1:   → role primary term=3
        n1:   → send heartbeat term=3 session=0 commit=1 sent=0
        > flush 1
        n1: durable term=3
        > write 1 7
        n1: client g7 at 2@3
        > flush 1
        n1: flushed 2@3
        n1:   → ack-clients upTo=2
        n1: client g7 acknowledged
        """)
    }

    func testAPrimaryResumedFromAPauseFollowsItsSuccessorAndDoesNotDeposeIt() {
        ScenarioScript.run("""
        # Node 0, the primary, is paused (SIGSTOP) after 1000; node 1 takes term 3.
        > setup
        n0: primary term=2 last=0@0 flushed=0 commit=0 peer(session=1500 flushed=0) log=[]
        n1: standby term=2 last=0@0 flushed=0 commit=0 attached session=1500 log=[]
        > tick 1 2000
        n1:   → persist term=3
        n1:   → role primary term=3
        n1:   → send heartbeat term=3 session=0 commit=0 sent=0
        > flush 1
        n1: durable term=3
        # Node 0 runs again at 4000. Node 1's heartbeat waited in its socket and is
        # read before the first tick: it meets the time as it is now, not 1000.
        > clock 0 4000
        > deliver 1
        n0: receive heartbeat term=3 session=0 commit=0 sent=0
        n0:   → persist term=3
        n0:   → role standby term=3
        > flush 0
        n0: durable term=3
        # Its first tick: it heard the primary of term 3 just now, so it follows
        # it instead of taking term 4 for 3000 ms of a silence that was its own.
        > tick 0 4000
        n0:   → send hello term=3 session=1000 node=0 last=0@0
        > status 0
        n0: standby term=3 last=0@0 flushed=0 commit=0 detached log=[]
        """)
    }

    func testAPrimaryResumedFromAPauseTakesNoWriteUntilItsPeerSpeaks() {
        ScenarioScript.run("""
        # Stalls of 1500 ms or more are the node's own.
        > config stall=1500
        > setup
        n0: primary term=2 last=0@0 flushed=0 commit=0 peer(session=1500 flushed=0) log=[]
        n1: standby term=2 last=0@0 flushed=0 commit=0 attached session=1500 log=[]
        # Node 0 is paused after 1000; node 1 takes term 3.
        > tick 1 2000
        n1:   → persist term=3
        n1:   → role primary term=3
        n1:   → send heartbeat term=3 session=0 commit=0 sent=0
        > flush 1
        n1: durable term=3
        # Node 0 runs again at 4000 and reads a client's request before node 1's
        # heartbeat: it meets its pause there, and decides nothing.
        > clock 0 4000
        > write 0 7
        n0: refused g7
        > deliver 1
        n0: receive heartbeat term=3 session=0 commit=0 sent=0
        n0:   → persist term=3
        n0:   → role standby term=3
        > flush 0
        n0: durable term=3
        > write 0 8
        n0: refused g8
        """)
    }

    func testAPrimaryResumedFromAPauseWritesAgainOnceItsStandbyAnswers() {
        ScenarioScript.run("""
        > config stall=1500
        > setup
        n0: primary term=2 last=0@0 flushed=0 commit=0 peer(session=1500 flushed=0) log=[]
        n1: standby term=2 last=0@0 flushed=0 commit=0 attached session=1500 log=[]
        # Node 0 is paused after 1000 and runs again at 3000; node 1 did not take over.
        > clock 0 3000
        > write 0 7
        n0: refused g7
        # A message of its own term from its standby: node 0 is still primary.
        > tick 1 1500
        n1:   → send ack term=2 session=1500 flushed=0
        > deliver 1
        n0: receive ack term=2 session=1500 flushed=0
        > write 0 8
        n0: client g8 at 1@2
        n0:   → send-append session=1500 prev=0@0 through=1 commit=0
        """)
    }

    func testAStandbyResumedFromAPauseDoesNotTakeOverForItsOwnSilence() {
        ScenarioScript.run("""
        # Stalls of 1500 ms or more are the node's own (setup's ticks jump 1000).
        > config stall=1500
        > setup
        n0: primary term=2 last=0@0 flushed=0 commit=0 peer(session=1500 flushed=0) log=[]
        n1: standby term=2 last=0@0 flushed=0 commit=0 attached session=1500 log=[]
        # Node 1 is paused after 1000 and runs again at 4000; its timer fires
        # before it reads its socket. The 3000 ms it missed are not the primary's
        # silence: no takeover.
        > tick 1 4000
        > tick 0 1100
        n0:   → send heartbeat term=2 session=1500 commit=0 sent=0
        > deliver 0
        n1: receive heartbeat term=2 session=1500 commit=0 sent=0
        > status 1
        n1: standby term=2 last=0@0 flushed=0 commit=0 attached session=1500 log=[]
        # A failover timeout after the heartbeat it read at 4000, with nothing
        # since, the primary is gone.
        > tick 1 4600
        n1:   → send ack term=2 session=1500 flushed=0
        > tick 1 5000
        n1:   → persist term=3
        n1:   → role primary term=3
        n1:   → send heartbeat term=3 session=0 commit=0 sent=0
        """)
    }

    func testAStalePrimaryStepsDownWhenItSeesAHigherTerm() {
        ScenarioScript.run("""
        # The pair is cut in two; node 1 takes term 3 while node 0 still serves term 2.
        > setup
        n0: primary term=2 last=0@0 flushed=0 commit=0 peer(session=1500 flushed=0) log=[]
        n1: standby term=2 last=0@0 flushed=0 commit=0 attached session=1500 log=[]
        > tick 1 2000
        n1:   → persist term=3
        n1:   → role primary term=3
        n1:   → send heartbeat term=3 session=0 commit=0 sent=0
        > flush 1
        n1: durable term=3
        > write 0 5
        n0: client g5 at 1@2
        n0:   → send-append session=1500 prev=0@0 through=1 commit=0
        > flush 0
        n0: flushed 1@2
        > tick 0 2000
        n0:   → send heartbeat term=2 session=0 commit=0 sent=0
        > drop 0
        n0 → n1 lost: append term=2 session=1500 prev=0@0 [1@2:g5] commit=0
        n0 → n1 lost: heartbeat term=2 session=0 commit=0 sent=0
        # Node 1's heartbeat carries term 3: node 0 stores the term and steps down at once.
        > deliver 1
        n0: receive heartbeat term=3 session=0 commit=0 sent=0
        n0:   → persist term=3
        n0:   → role standby term=3
        > flush 0
        n0: durable term=3
        > status 0
        n0: standby term=3 last=1@2 flushed=1 commit=0 detached log=[1@2:g5]
        """)
    }

    func testADivergentLogIsTruncatedReconciledAndTheQueueClearedOnlyOnceFlushed() {
        ScenarioScript.run("""
        # Cut in two, each node takes a record the other never sees: g5 at 1@2 on
        # node 0 (term 2), g9 at 1@3 on node 1 (term 3).
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
        > write 0 5
        n0: client g5 at 1@2
        n0:   → send-append session=1500 prev=0@0 through=1 commit=0
        > flush 0
        n0: flushed 1@2
        > tick 0 2000
        n0:   → send heartbeat term=2 session=0 commit=0 sent=0
        > drop 0
        n0 → n1 lost: append term=2 session=1500 prev=0@0 [1@2:g5] commit=0
        n0 → n1 lost: heartbeat term=2 session=0 commit=0 sent=0
        > deliver 1
        n0: receive heartbeat term=3 session=0 commit=0 sent=0
        n0:   → persist term=3
        n0:   → role standby term=3
        > flush 0
        n0: durable term=3
        # Node 0, now a standby, says hello; the logs share nothing, so it must move g5 out.
        > tick 0 2100
        n0:   → send hello term=3 session=1000 node=0 last=1@2
        > deliver 0
        n1: receive hello term=3 session=1000 node=0 last=1@2
        n1:   → send diverged term=3 session=1000 match=0
        > deliver 1
        n0: receive diverged term=3 session=1000 match=0
        n0:   → truncate after=0
        n0:   → send hello term=3 session=1001 node=0 last=0@0
        # The truncation is durable before the next hello leaves: g5 waits in the queue.
        > flush 0
        n0: durable truncation after=0, queue += [1@2:g5]
        > deliver 0
        n1: receive hello term=3 session=1001 node=0 last=0@0
        n1:   → send heartbeat term=3 session=1001 commit=1 sent=0
        n1:   → send-append session=1001 prev=0@0 through=1 commit=1
        # Attached again, node 0 sends its queue; the primary applies g5 again as its own record.
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
        # Node 0 hears that g5 is in the primary's log through lsn 2, but it does
        # not hold lsn 2 durably yet, so it keeps its queue.
        > deliver 1
        n0: receive append term=3 session=1001 prev=1@3 [2@3:g5] commit=1
        n0:   → write [2@3:g5]
        n0: receive reconciled term=3 session=1001 through=2 round=1
        > status 0
        n0: standby term=3 last=2@3 flushed=0 commit=0 attached session=1001 log=[1@3:g9 2@3:g5] queue=[1@2:g5]
        > flush 0
        n0: flushed 1@3
        n0:   → send ack term=3 session=1001 flushed=1
        n0: flushed 2@3
        n0:   → send ack term=3 session=1001 flushed=2
        n0:   → clear-reconcile-queue
        n0: durable queue cleared
        > status 0
        n0: standby term=3 last=2@3 flushed=2 commit=0 attached session=1001 log=[1@3:g9 2@3:g5]
        > stabilize
        n1: flushed 2@3
        n1:   → ack-clients upTo=2
        n1: receive ack term=3 session=1001 flushed=1
        n1: receive ack term=3 session=1001 flushed=2
        """)
    }

    func testAPlannedSwitchoverHandsOverOnlyOnceTheStandbyIsCaughtUp() {
        ScenarioScript.run("""
        > setup
        n0: primary term=2 last=0@0 flushed=0 commit=0 peer(session=1500 flushed=0) log=[]
        n1: standby term=2 last=0@0 flushed=0 commit=0 attached session=1500 log=[]
        > write 0 1 2
        n0: client g1 at 1@2
        n0:   → send-append session=1500 prev=0@0 through=1 commit=0
        n0: client g2 at 2@2
        n0:   → send-append session=1500 prev=1@2 through=2 commit=0
        > flush 0
        n0: flushed 1@2
        n0: flushed 2@2
        # Node 1 lacks g1 and g2: node 0 stops taking writes and waits.
        > switchover 0
        n0: switchover
        > write 0 3
        n0: refused g3
        > status 0
        n0: primary term=2 last=2@2 flushed=2 commit=0 peer(session=1500 flushed=0) handing-over log=[1@2:g1 2@2:g2]
        > deliver 0
        n1: receive append term=2 session=1500 prev=0@0 [1@2:g1] commit=0
        n1:   → write [1@2:g1]
        n1: receive append term=2 session=1500 prev=1@2 [2@2:g2] commit=0
        n1:   → write [2@2:g2]
        > flush 1
        n1: flushed 1@2
        n1:   → send ack term=2 session=1500 flushed=1
        n1: flushed 2@2
        n1:   → send ack term=2 session=1500 flushed=2
        # Only the ack of lsn 2 (the whole log) hands the term over.
        > deliver 1
        n0: receive ack term=2 session=1500 flushed=1
        n0:   → ack-clients upTo=1
        n0: client g1 acknowledged
        n0: receive ack term=2 session=1500 flushed=2
        n0:   → ack-clients upTo=2
        n0:   → send handover term=2 session=1500 last=2
        n0:   → role standby term=2
        n0: client g2 acknowledged
        > deliver 0
        n1: receive handover term=2 session=1500 last=2
        n1:   → persist term=3
        n1:   → role primary term=3
        n1:   → send heartbeat term=3 session=0 commit=2 sent=0
        > flush 1
        n1: durable term=3
        > deliver 1
        n0: receive heartbeat term=3 session=0 commit=2 sent=0
        n0:   → persist term=3
        n0:   → role standby term=3
        > flush 0
        n0: durable term=3
        > tick 0 1100
        n0:   → send hello term=3 session=1000 node=0 last=2@2
        > stabilize
        n1: receive hello term=3 session=1000 node=0 last=2@2
        n1:   → send heartbeat term=3 session=1000 commit=2 sent=2
        n0: receive heartbeat term=3 session=1000 commit=2 sent=2
        n0:   → send ack term=3 session=1000 flushed=2
        n1: receive ack term=3 session=1000 flushed=2
        > status 0
        n0: standby term=3 last=2@2 flushed=2 commit=2 attached session=1000 log=[1@2:g1 2@2:g2]
        > status 1
        n1: primary term=3 last=2@2 flushed=2 commit=2 peer(session=1000 flushed=2) log=[1@2:g1 2@2:g2]
        """)
    }

    func testSyncAcknowledgementsWaitForTheStandby() {
        ScenarioScript.run("""
        # Durable on the primary is not enough: g1 is answered once the standby holds it.
        > config mode=sync
        > setup
        n0: primary term=2 last=0@0 flushed=0 commit=0 peer(session=1500 flushed=0) log=[]
        n1: standby term=2 last=0@0 flushed=0 commit=0 attached session=1500 log=[]
        > write 0 1
        n0: client g1 at 1@2
        n0:   → send-append session=1500 prev=0@0 through=1 commit=0
        > flush 0
        n0: flushed 1@2
        > deliver 0
        n1: receive append term=2 session=1500 prev=0@0 [1@2:g1] commit=0
        n1:   → write [1@2:g1]
        > flush 1
        n1: flushed 1@2
        n1:   → send ack term=2 session=1500 flushed=1
        > deliver 1
        n0: receive ack term=2 session=1500 flushed=1
        n0:   → ack-clients upTo=1
        n0: client g1 acknowledged
        """)
    }

    func testAsyncAcknowledgementsDoNotWaitForTheStandby() {
        ScenarioScript.run("""
        # g1 is answered as soon as it is durable on the primary.
        > config mode=async
        > setup
        n0: primary term=2 last=0@0 flushed=0 commit=0 peer(session=1500 flushed=0) log=[]
        n1: standby term=2 last=0@0 flushed=0 commit=0 attached session=1500 log=[]
        > write 0 1
        n0: client g1 at 1@2
        n0:   → send-append session=1500 prev=0@0 through=1 commit=0
        > flush 0
        n0: flushed 1@2
        n0:   → ack-clients upTo=1
        n0: client g1 acknowledged
        > deliver 0
        n1: receive append term=2 session=1500 prev=0@0 [1@2:g1] commit=0
        n1:   → write [1@2:g1]
        > flush 1
        n1: flushed 1@2
        n1:   → send ack term=2 session=1500 flushed=1
        > deliver 1
        n0: receive ack term=2 session=1500 flushed=1
        """)
    }

    func testASyncPrimaryDegradesAfterDegradeAfterMsAndRecoversOnceTheStandbyCaughtUp() {
        ScenarioScript.run("""
        # The standby, last heard at 1000, crashes: g1 waits for it.
        > config mode=sync degrade=1500
        > setup
        n0: primary term=2 last=0@0 flushed=0 commit=0 peer(session=1500 flushed=0) log=[]
        n1: standby term=2 last=0@0 flushed=0 commit=0 attached session=1500 log=[]
        > crash 1
        n1: crash
        > write 0 1
        n0: client g1 at 1@2
        n0:   → send-append session=1500 prev=0@0 through=1 commit=0
        > flush 0
        n0: flushed 1@2
        > tick 0 2000
        n0:   → send heartbeat term=2 session=0 commit=0 sent=0
        > tick 0 2499
        n0:   → send heartbeat term=2 session=0 commit=0 sent=0
        # 1500 ms without a standby: the primary answers alone.
        > tick 0 2500
        n0:   → ack-clients upTo=1
        n0: client g1 acknowledged
        > status 0
        n0: primary term=2 last=1@2 flushed=1 commit=1 degraded log=[1@2:g1]
        # The standby comes back; messages of its old session are ignored.
        > start 1 at=2500
        n1: start boot=2 term=2 last=0@0 queue=0
        > tick 1 2500
        n1:   → send hello term=2 session=2500 node=1 last=0@0
        > deliver 1
        n0: receive hello term=2 session=2500 node=1 last=0@0
        n0:   → send heartbeat term=2 session=2500 commit=1 sent=0
        n0:   → send-append session=2500 prev=0@0 through=1 commit=1
        > write 0 2
        n0: client g2 at 2@2
        n0:   → send-append session=2500 prev=1@2 through=2 commit=1
        > flush 0
        n0: flushed 2@2
        n0:   → ack-clients upTo=2
        n0: client g2 acknowledged
        > deliver 0
        n1: receive append term=2 session=1500 prev=0@0 [1@2:g1] commit=0
        n1: receive heartbeat term=2 session=0 commit=0 sent=0
        n1: receive heartbeat term=2 session=0 commit=0 sent=0
        n1: receive heartbeat term=2 session=2500 commit=1 sent=0
        n1:   → send ack term=2 session=2500 flushed=0
        n1: receive append term=2 session=2500 prev=0@0 [1@2:g1] commit=1
        n1:   → write [1@2:g1]
        n1: receive append term=2 session=2500 prev=1@2 [2@2:g2] commit=1
        n1:   → write [2@2:g2]
        # Holding lsn 1 of 2, the standby is not caught up: still degraded.
        > flush 1 1
        n1: flushed 1@2
        n1:   → send ack term=2 session=2500 flushed=1
        > deliver 1
        n0: receive ack term=2 session=2500 flushed=0
        n0: receive ack term=2 session=2500 flushed=1
        > status 0
        n0: primary term=2 last=2@2 flushed=2 commit=2 peer(session=2500 flushed=1) degraded log=[1@2:g1 2@2:g2]
        > flush 1
        n1: flushed 2@2
        n1:   → send ack term=2 session=2500 flushed=2
        > deliver 1
        n0: receive ack term=2 session=2500 flushed=2
        > status 0
        n0: primary term=2 last=2@2 flushed=2 commit=2 peer(session=2500 flushed=2) log=[1@2:g1 2@2:g2]
        """)
    }

    func testAtAColdStartTheLongerLogLeadsAndTheOtherWaits() {
        ScenarioScript.run("""
        # Both nodes start after an outage; node 1 holds two more records.
        > start 0 term=2 log=1..3@2
        n0: start boot=1 term=2 last=3@2 queue=0
        > start 1 term=2 log=1..5@2
        n1: start boot=1 term=2 last=5@2 queue=0
        > tick 0 100
        n0:   → send hello term=2 session=1000 node=0 last=3@2
        > tick 1 100
        n1:   → send hello term=2 session=1500 node=1 last=5@2
        > deliver 0
        n1: receive hello term=2 session=1000 node=0 last=3@2
        # Node 0 hears the longer log and yields: its failover clock restarts.
        > deliver 1
        n0: receive hello term=2 session=1500 node=1 last=5@2
        > tick 0 999
        n0:   → send hello term=2 session=1000 node=0 last=3@2
        > tick 1 999
        n1:   → send hello term=2 session=1500 node=1 last=5@2
        > deliver 1
        n0: receive hello term=2 session=1500 node=1 last=5@2
        > drop 0
        n0 → n1 lost: hello term=2 session=1000 node=0 last=3@2
        # Node 1 heard no longer log for 1000 ms and leads; node 0, which heard it at 999, waits.
        > tick 0 1000
        > tick 1 1000
        n1:   → persist term=3
        n1:   → role primary term=3
        n1:   → send heartbeat term=3 session=0 commit=5 sent=0
        > flush 1
        n1: durable term=3
        > deliver 1
        n0: receive heartbeat term=3 session=0 commit=5 sent=0
        n0:   → persist term=3
        n0:   → role standby term=3
        > flush 0
        n0: durable term=3
        > tick 0 1100
        n0:   → send hello term=3 session=1000 node=0 last=3@2
        > stabilize
        n1: receive hello term=3 session=1000 node=0 last=3@2
        n1:   → send heartbeat term=3 session=1000 commit=5 sent=3
        n1:   → send-append session=1000 prev=3@2 through=5 commit=5
        n0: receive heartbeat term=3 session=1000 commit=5 sent=3
        n0:   → send ack term=3 session=1000 flushed=3
        n0: receive append term=3 session=1000 prev=3@2 [4@2:g4 5@2:g5] commit=5
        n0:   → write [4@2:g4 5@2:g5]
        n0: flushed 5@2
        n0:   → send ack term=3 session=1000 flushed=5
        n1: receive ack term=3 session=1000 flushed=3
        n1: receive ack term=3 session=1000 flushed=5
        > status 0
        n0: standby term=3 last=5@2 flushed=5 commit=3 attached session=1000 log=[1@2:g1 2@2:g2 3@2:g3 4@2:g4 5@2:g5]
        > status 1
        n1: primary term=3 last=5@2 flushed=5 commit=5 peer(session=1000 flushed=5) log=[1@2:g1 2@2:g2 3@2:g3 4@2:g4 5@2:g5]
        """)
    }

    func testAnAttachedStandbySaysHelloAgainWhenThePrimaryNamesNoSession() {
        ScenarioScript.run("""
        # Found by the simulation (seeds 104 and 267 fail without the fix). The
        # primary stops hearing its standby (here its keepalives are lost) and
        # drops it. The standby, still attached, must say hello again when
        # heartbeats name no session (0): otherwise it keeps sending keepalives
        # that the primary ignores, and never attaches again.
        > setup
        n0: primary term=2 last=0@0 flushed=0 commit=0 peer(session=1500 flushed=0) log=[]
        n1: standby term=2 last=0@0 flushed=0 commit=0 attached session=1500 log=[]
        > tick 1 1100
        n1:   → send ack term=2 session=1500 flushed=0
        > drop 1
        n1 → n0 lost: ack term=2 session=1500 flushed=0
        > tick 0 2000
        n0:   → send heartbeat term=2 session=0 commit=0 sent=0
        > deliver 0
        n1: receive heartbeat term=2 session=0 commit=0 sent=0
        n1:   → send hello term=2 session=1501 node=1 last=0@0
        > deliver 1
        n0: receive hello term=2 session=1501 node=1 last=0@0
        n0:   → send heartbeat term=2 session=1501 commit=0 sent=0
        > deliver 0
        n1: receive heartbeat term=2 session=1501 commit=0 sent=0
        n1:   → send ack term=2 session=1501 flushed=0
        > deliver 1
        n0: receive ack term=2 session=1501 flushed=0
        > status 0
        n0: primary term=2 last=0@0 flushed=0 commit=0 peer(session=1501 flushed=0) log=[]
        > status 1
        n1: standby term=2 last=0@0 flushed=0 commit=0 attached session=1501 log=[]
        """)
    }

    func testALostReconcileIsSentAgain() {
        ScenarioScript.run("""
        # Found by the simulation (seed 9168 fails without the fix). The story
        # of the divergence, up to the moment node 0, attached, sends its queue.
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
        > write 0 5
        n0: client g5 at 1@2
        n0:   → send-append session=1500 prev=0@0 through=1 commit=0
        > flush 0
        n0: flushed 1@2
        > tick 0 2000
        n0:   → send heartbeat term=2 session=0 commit=0 sent=0
        > drop 0
        n0 → n1 lost: append term=2 session=1500 prev=0@0 [1@2:g5] commit=0
        n0 → n1 lost: heartbeat term=2 session=0 commit=0 sent=0
        > deliver 1
        n0: receive heartbeat term=3 session=0 commit=0 sent=0
        n0:   → persist term=3
        n0:   → role standby term=3
        > flush 0
        n0: durable term=3
        > tick 0 2100
        n0:   → send hello term=3 session=1000 node=0 last=1@2
        > deliver 0
        n1: receive hello term=3 session=1000 node=0 last=1@2
        n1:   → send diverged term=3 session=1000 match=0
        > deliver 1
        n0: receive diverged term=3 session=1000 match=0
        n0:   → truncate after=0
        n0:   → send hello term=3 session=1001 node=0 last=0@0
        > flush 0
        n0: durable truncation after=0, queue += [1@2:g5]
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
        # The queue is lost on the way (a dropped connection). Nothing else would
        # ever send it again: the standby repeats it every failoverTimeoutMs
        # until the primary answers.
        > drop 0
        n0 → n1 lost: ack term=3 session=1001 flushed=0
        n0 → n1 lost: reconcile term=3 session=1001 round=1 [1@2:g5]
        > tick 1 2600
        n1:   → send heartbeat term=3 session=1001 commit=1 sent=1
        > tick 0 2600
        n0:   → send ack term=3 session=1001 flushed=0
        > deliver 1
        n0: receive heartbeat term=3 session=1001 commit=1 sent=1
        > tick 0 3000
        n0:   → send ack term=3 session=1001 flushed=0
        > tick 0 3100
        n0:   → send ack term=3 session=1001 flushed=0
        n0:   → send-reconcile session=1001
        > stabilize
        n0: flushed 1@3
        n0:   → send ack term=3 session=1001 flushed=1
        n1: receive ack term=3 session=1001 flushed=0
        n1: receive ack term=3 session=1001 flushed=0
        n1: receive ack term=3 session=1001 flushed=0
        n1: receive reconcile term=3 session=1001 round=1 [1@2:g5]
        n1:   → reconcile session=1001 round=1 [1@2:g5]
        n1: reappended [2@3:g5]
        n1:   → send-append session=1001 prev=1@3 through=2 commit=1
        n1: reconciled session=1001 through=2 round=1
        n1:   → send reconciled term=3 session=1001 through=2 round=1
        n1: receive ack term=3 session=1001 flushed=1
        n0: receive append term=3 session=1001 prev=1@3 [2@3:g5] commit=1
        n0:   → write [2@3:g5]
        n0: receive reconciled term=3 session=1001 through=2 round=1
        n0: flushed 2@3
        n0:   → send ack term=3 session=1001 flushed=2
        n0:   → clear-reconcile-queue
        n0: durable queue cleared
        n1: flushed 2@3
        n1: receive ack term=3 session=1001 flushed=2
        n1:   → ack-clients upTo=2
        > status 0
        n0: standby term=3 last=2@3 flushed=2 commit=1 attached session=1001 log=[1@3:g9 2@3:g5]
        > status 1
        n1: primary term=3 last=2@3 flushed=2 commit=2 peer(session=1001 flushed=2) log=[1@3:g9 2@3:g5]
        """)
    }

    func testAReconciledAnswerOfAnEarlierTermDoesNotClearTheQueue() {
        ScenarioScript.run("""
        # Found by the simulation (seed 1437 fails without the fix). Node 1
        # holds g9 at 1@3, which node 0 (primary in term 6) never had.
        > start 0 term=4 log=1..1@4 ids=5
        n0: start boot=1 term=4 last=1@4 queue=0
        > start 1 term=3 log=1..1@3 ids=9
        n1: start boot=1 term=3 last=1@3 queue=0
        > tick 1 500
        n1:   → send hello term=3 session=1500 node=1 last=1@3
        > deliver 1
        n0: receive hello term=3 session=1500 node=1 last=1@3
        n0:   → send hello term=4 session=1000 node=0 last=1@4
        > tick 0 1000
        n0:   → persist term=6
        n0:   → role primary term=6
        n0:   → send heartbeat term=6 session=0 commit=1 sent=0
        > flush 0
        n0: durable term=6
        > deliver 0
        n1: receive hello term=4 session=1000 node=0 last=1@4
        n1:   → persist term=4
        n1:   → role standby term=4
        > flush 1
        n1: durable term=4
        n1: receive heartbeat term=6 session=0 commit=1 sent=0
        n1:   → persist term=6
        n1:   → role standby term=6
        n1: durable term=6
        > tick 1 600
        n1:   → send hello term=6 session=1500 node=1 last=1@3
        > deliver 1
        n0: receive hello term=6 session=1500 node=1 last=1@3
        n0:   → send diverged term=6 session=1500 match=0
        > deliver 0
        n1: receive diverged term=6 session=1500 match=0
        n1:   → truncate after=0
        n1:   → send hello term=6 session=1501 node=1 last=0@0
        > flush 1
        n1: durable truncation after=0, queue += [1@3:g9]
        > deliver 1
        n0: receive hello term=6 session=1501 node=1 last=0@0
        n0:   → send heartbeat term=6 session=1501 commit=1 sent=0
        n0:   → send-append session=1501 prev=0@0 through=1 commit=1
        > deliver 0
        n1: receive heartbeat term=6 session=1501 commit=1 sent=0
        n1:   → send ack term=6 session=1501 flushed=0
        n1:   → send-reconcile session=1501
        n1: receive append term=6 session=1501 prev=0@0 [1@4:g5] commit=1
        n1:   → write [1@4:g5]
        # Node 0 re-applies g9 at 2@6 and says so; the append carrying it is lost,
        # and node 0 crashes before g9 is durable there.
        > deliver 1
        n0: receive ack term=6 session=1501 flushed=0
        n0: receive reconcile term=6 session=1501 round=1 [1@3:g9]
        n0:   → reconcile session=1501 round=1 [1@3:g9]
        n0: reappended [2@6:g9]
        n0:   → send-append session=1501 prev=1@4 through=2 commit=1
        n0: reconciled session=1501 through=2 round=1
        n0:   → send reconciled term=6 session=1501 through=2 round=1
        > drop 0 1
        n0 → n1 lost: append term=6 session=1501 prev=1@4 [2@6:g9] commit=1
        > deliver 0
        n1: receive reconciled term=6 session=1501 through=2 round=1
        > crash 0
        n0: crash
        > flush 1
        n1: flushed 1@4
        n1:   → send ack term=6 session=1501 flushed=1
        # Node 0 restarts without g9 and, after a failover timeout, leads in term 8.
        > start 0 at=1000
        n0: start boot=2 term=6 last=1@4 queue=0
        > tick 0 1000
        n0:   → send hello term=6 session=2000 node=0 last=1@4
        > deliver 0
        n1: receive hello term=6 session=2000 node=0 last=1@4
        > tick 0 2000
        n0:   → persist term=8
        n0:   → role primary term=8
        n0:   → send heartbeat term=8 session=0 commit=1 sent=0
        > flush 0
        n0: durable term=8
        > deliver 0
        n1: receive heartbeat term=8 session=0 commit=1 sent=0
        n1:   → persist term=8
        n1:   → role standby term=8
        > flush 1
        n1: durable term=8
        > tick 1 1100
        n1:   → send hello term=8 session=1501 node=1 last=1@4
        > deliver 1
        n0: receive ack term=6 session=1501 flushed=1
        n0:   → send heartbeat term=8 session=0 commit=1 sent=0
        n0: receive hello term=8 session=1501 node=1 last=1@4
        n0:   → send heartbeat term=8 session=1501 commit=1 sent=1
        # The reconciled answer of term 6 says nothing of term 8's log: node 1
        # sends its queue again, and clears it only once term 8 holds g9.
        > deliver 0
        n1: receive heartbeat term=8 session=0 commit=1 sent=0
        n1: receive heartbeat term=8 session=1501 commit=1 sent=1
        n1:   → send ack term=8 session=1501 flushed=1
        n1:   → send-reconcile session=1501
        > write 0 20 21
        n0: client g20 at 2@8
        n0:   → send-append session=1501 prev=1@4 through=2 commit=1
        n0: client g21 at 3@8
        n0:   → send-append session=1501 prev=2@8 through=3 commit=1
        > stabilize
        n0: flushed 2@8
        n0:   → ack-clients upTo=2
        n0: client g20 acknowledged
        n0: flushed 3@8
        n0:   → ack-clients upTo=3
        n0: client g21 acknowledged
        n1: receive append term=8 session=1501 prev=1@4 [2@8:g20] commit=1
        n1:   → write [2@8:g20]
        n1: receive append term=8 session=1501 prev=2@8 [3@8:g21] commit=1
        n1:   → write [3@8:g21]
        n0: receive ack term=8 session=1501 flushed=1
        n0: receive reconcile term=8 session=1501 round=2 [1@3:g9]
        n0:   → reconcile session=1501 round=2 [1@3:g9]
        n0: reappended [4@8:g9]
        n0:   → send-append session=1501 prev=3@8 through=4 commit=3
        n0: reconciled session=1501 through=4 round=2
        n0:   → send reconciled term=8 session=1501 through=4 round=2
        n0: flushed 4@8
        n0:   → ack-clients upTo=4
        n1: flushed 2@8
        n1:   → send ack term=8 session=1501 flushed=2
        n1: flushed 3@8
        n1:   → send ack term=8 session=1501 flushed=3
        n1: receive append term=8 session=1501 prev=3@8 [4@8:g9] commit=3
        n1:   → write [4@8:g9]
        n1: receive reconciled term=8 session=1501 through=4 round=2
        n0: receive ack term=8 session=1501 flushed=2
        n0: receive ack term=8 session=1501 flushed=3
        n1: flushed 4@8
        n1:   → send ack term=8 session=1501 flushed=4
        n1:   → clear-reconcile-queue
        n1: durable queue cleared
        n0: receive ack term=8 session=1501 flushed=4
        > status 0
        n0: primary term=8 last=4@8 flushed=4 commit=4 peer(session=1501 flushed=4) log=[1@4:g5 2@8:g20 3@8:g21 4@8:g9]
        > status 1
        n1: standby term=8 last=4@8 flushed=4 commit=3 attached session=1501 log=[1@4:g5 2@8:g20 3@8:g21 4@8:g9]
        """)
    }
}
