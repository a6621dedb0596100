import XCTest

/// Checkpoints and snapshots as transcripts (see `ScenarioScript`).
final class SnapshotScenarioTests: XCTestCase {
    func testANewEmptyStandbyJoinsByASnapshotThenFollowsTheLog() {
        ScenarioScript.run("""
        # Node 0 holds 6 records, the first 4 compacted behind its checkpoint; node 1 is new and empty.
        > config chunk=40 window=1
        > start 0 term=2 log=1..6@2 checkpoint=6 compacted=4
        n0: start boot=1 term=2 last=6@2 queue=0 checkpoint=6 compacted=4
        > start 1
        n1: start boot=1 term=0 last=0@0 queue=0
        > tick 0 1000
        n0:   → persist term=4
        n0:   → role primary term=4
        n0:   → send heartbeat term=4 session=0 commit=6 sent=0
        > flush 0
        n0: durable term=4
        > tick 1 1
        n1:   → send hello term=0 session=1500 node=1 last=0@0
        > deliver 0
        n1: receive heartbeat term=4 session=0 commit=6 sent=0
        n1:   → persist term=4
        n1:   → role standby term=4
        > flush 1
        n1: durable term=4
        > tick 1 100
        n1:   → send hello term=4 session=1500 node=1 last=0@0
        > deliver 1
        n0: receive hello term=0 session=1500 node=1 last=0@0
        n0:   → send heartbeat term=4 session=0 commit=6 sent=0
        n0: receive hello term=4 session=1500 node=1 last=0@0
        n0:   → send heartbeat term=4 session=1500 commit=6 sent=0
        n0:   → prepare-snapshot session=1500
        > flush 0
        n0: snapshot prepared session=1500 bytes=15
        n0:   → send-snapshot-chunk session=1500 id=1001 offset=0 count=15 total=15
        > stabilize
        n1: receive heartbeat term=4 session=0 commit=6 sent=0
        n1: receive heartbeat term=4 session=1500 commit=6 sent=0
        n1:   → send ack term=4 session=1500 flushed=0
        n1: receive snapshot-chunk term=4 session=1500 id=1001 offset=0 count=15 total=15
        n1:   → write-snapshot-chunk offset=0 count=15
        n1:   → send snapshot-ack term=4 session=1500 received=15
        n1:   → install-snapshot total=15
        n0: receive ack term=4 session=1500 flushed=0
        n0: receive snapshot-ack term=4 session=1500 received=15
        n0:   → snapshot-sent session=1500
        n1: durable snapshot installed: last=6@2
        n1: installed snapshot
        n1:   → send hello term=4 session=1501 node=1 last=6@2
        n0: receive hello term=4 session=1501 node=1 last=6@2
        n0:   → send heartbeat term=4 session=1501 commit=6 sent=6
        n1: receive heartbeat term=4 session=1501 commit=6 sent=6
        n1:   → send ack term=4 session=1501 flushed=6
        n0: receive ack term=4 session=1501 flushed=6
        > write 0 7
        n0: client g7 at 7@4
        n0:   → send-append session=1501 prev=6@2 through=7 commit=6
        > stabilize
        n0: flushed 7@4
        n1: receive append term=4 session=1501 prev=6@2 [7@4:g7] commit=6
        n1:   → write [7@4:g7]
        n1: flushed 7@4
        n1:   → send ack term=4 session=1501 flushed=7
        n0: receive ack term=4 session=1501 flushed=7
        n0:   → ack-clients upTo=7
        n0: client g7 acknowledged
        > status 0
        n0: primary term=4 last=7@4 flushed=7 commit=7 peer(session=1501 flushed=7) log=[1@2:g1 2@2:g2 3@2:g3 4@2:g4 5@2:g5 6@2:g6 7@4:g7]
        > status 1
        n1: standby term=4 last=7@4 flushed=7 commit=6 attached session=1501 log=[1@2:g1 2@2:g2 3@2:g3 4@2:g4 5@2:g5 6@2:g6 7@4:g7]
        """)
    }

    func testALostChunkIsSentAgainAfterAFailoverTimeoutWithoutProgress() {
        ScenarioScript.run("""
        # Snapshots in chunks of 6 bytes, two at a time.
        > config chunk=6 window=2
        > start 0 term=2 log=1..6@2 checkpoint=6 compacted=4
        n0: start boot=1 term=2 last=6@2 queue=0 checkpoint=6 compacted=4
        > start 1
        n1: start boot=1 term=0 last=0@0 queue=0
        > tick 0 1000
        n0:   → persist term=4
        n0:   → role primary term=4
        n0:   → send heartbeat term=4 session=0 commit=6 sent=0
        > flush 0
        n0: durable term=4
        > tick 1 1
        n1:   → send hello term=0 session=1500 node=1 last=0@0
        > deliver 0
        n1: receive heartbeat term=4 session=0 commit=6 sent=0
        n1:   → persist term=4
        n1:   → role standby term=4
        > flush 1
        n1: durable term=4
        > tick 1 100
        n1:   → send hello term=4 session=1500 node=1 last=0@0
        > deliver 1
        n0: receive hello term=0 session=1500 node=1 last=0@0
        n0:   → send heartbeat term=4 session=0 commit=6 sent=0
        n0: receive hello term=4 session=1500 node=1 last=0@0
        n0:   → send heartbeat term=4 session=1500 commit=6 sent=0
        n0:   → prepare-snapshot session=1500
        > flush 0
        n0: snapshot prepared session=1500 bytes=15
        n0:   → send-snapshot-chunk session=1500 id=1001 offset=0 count=6 total=15
        n0:   → send-snapshot-chunk session=1500 id=1001 offset=6 count=6 total=15
        > deliver 0 2
        n1: receive heartbeat term=4 session=0 commit=6 sent=0
        n1: receive heartbeat term=4 session=1500 commit=6 sent=0
        n1:   → send ack term=4 session=1500 flushed=0
        > drop 0 1
        n0 → n1 lost: snapshot-chunk term=4 session=1500 id=1001 offset=0 count=6 total=15
        # The chunk at 6 follows nothing the standby holds: ignored.
        > deliver 0
        n1: receive snapshot-chunk term=4 session=1500 id=1001 offset=6 count=6 total=15
        > tick 0 1999
        n0:   → send heartbeat term=4 session=1500 commit=6 sent=0
        # The standby's keepalive: it is there, the transfer is what stalls.
        > deliver 1
        n0: receive ack term=4 session=1500 flushed=0
        > tick 0 2000
        n0:   → send-snapshot-chunk session=1500 id=1001 offset=0 count=6 total=15
        n0:   → send-snapshot-chunk session=1500 id=1001 offset=6 count=6 total=15
        > stabilize
        n1: receive heartbeat term=4 session=1500 commit=6 sent=0
        n1: receive snapshot-chunk term=4 session=1500 id=1001 offset=0 count=6 total=15
        n1:   → write-snapshot-chunk offset=0 count=6
        n1:   → send snapshot-ack term=4 session=1500 received=6
        n1: receive snapshot-chunk term=4 session=1500 id=1001 offset=6 count=6 total=15
        n1:   → write-snapshot-chunk offset=6 count=6
        n1:   → send snapshot-ack term=4 session=1500 received=12
        n0: receive snapshot-ack term=4 session=1500 received=6
        n0:   → send-snapshot-chunk session=1500 id=1001 offset=12 count=3 total=15
        n0: receive snapshot-ack term=4 session=1500 received=12
        n1: receive snapshot-chunk term=4 session=1500 id=1001 offset=12 count=3 total=15
        n1:   → write-snapshot-chunk offset=12 count=3
        n1:   → send snapshot-ack term=4 session=1500 received=15
        n1:   → install-snapshot total=15
        n0: receive snapshot-ack term=4 session=1500 received=15
        n0:   → snapshot-sent session=1500
        n1: durable snapshot installed: last=6@2
        n1: installed snapshot
        n1:   → send hello term=4 session=1501 node=1 last=6@2
        n0: receive hello term=4 session=1501 node=1 last=6@2
        n0:   → send heartbeat term=4 session=1501 commit=6 sent=6
        n1: receive heartbeat term=4 session=1501 commit=6 sent=6
        n1:   → send ack term=4 session=1501 flushed=6
        n0: receive ack term=4 session=1501 flushed=6
        > status 1
        n1: standby term=4 last=6@2 flushed=6 commit=6 attached session=1501 log=[1@2:g1 2@2:g2 3@2:g3 4@2:g4 5@2:g5 6@2:g6]
        """)
    }

    func testAnEmptyStandbyWaitingForItsSnapshotDoesNotTakeOver() {
        ScenarioScript.run("""
        > config chunk=6 window=2
        > start 0 term=2 log=1..6@2 checkpoint=6 compacted=4
        n0: start boot=1 term=2 last=6@2 queue=0 checkpoint=6 compacted=4
        > start 1
        n1: start boot=1 term=0 last=0@0 queue=0
        > tick 0 1000
        n0:   → persist term=4
        n0:   → role primary term=4
        n0:   → send heartbeat term=4 session=0 commit=6 sent=0
        > flush 0
        n0: durable term=4
        > tick 1 1
        n1:   → send hello term=0 session=1500 node=1 last=0@0
        > deliver 0
        n1: receive heartbeat term=4 session=0 commit=6 sent=0
        n1:   → persist term=4
        n1:   → role standby term=4
        > flush 1
        n1: durable term=4
        > tick 1 100
        n1:   → send hello term=4 session=1500 node=1 last=0@0
        > deliver 1
        n0: receive hello term=0 session=1500 node=1 last=0@0
        n0:   → send heartbeat term=4 session=0 commit=6 sent=0
        n0: receive hello term=4 session=1500 node=1 last=0@0
        n0:   → send heartbeat term=4 session=1500 commit=6 sent=0
        n0:   → prepare-snapshot session=1500
        # The primary fails before the snapshot is sent; the standby holds nothing.
        > crash 0
        n0: crash
        > tick 1 5000
        n1:   → send hello term=4 session=1500 node=1 last=0@0
        > status 1
        n1: standby term=4 last=0@0 flushed=0 commit=0 detached log=[]
        """)
    }

    func testADivergenceBehindTheCheckpointEmptiesTheLogQueuesTheRecordsAndRefetchesTheRest() {
        ScenarioScript.run("""
        # Node 1 holds 5@2 and 6@2, which node 0 (now primary in term 4) never got, behind its checkpoint at 6.
        > start 0 term=4 log=1..4@2,5..5@4
        n0: start boot=1 term=4 last=5@4 queue=0
        > start 1 term=2 log=1..6@2 ids=1 checkpoint=6 compacted=2
        n1: start boot=1 term=2 last=6@2 queue=0 checkpoint=6 compacted=2
        > tick 0 1000
        n0:   → persist term=6
        n0:   → role primary term=6
        n0:   → send heartbeat term=6 session=0 commit=5 sent=0
        > flush 0
        n0: durable term=6
        > tick 1 1
        n1:   → send hello term=2 session=1500 node=1 last=6@2
        > deliver 0
        n1: receive heartbeat term=6 session=0 commit=5 sent=0
        n1:   → persist term=6
        n1:   → role standby term=6
        > flush 1
        n1: durable term=6
        > tick 1 100
        n1:   → send hello term=6 session=1500 node=1 last=6@2
        > deliver 1
        n0: receive hello term=2 session=1500 node=1 last=6@2
        n0:   → send heartbeat term=6 session=0 commit=5 sent=0
        n0: receive hello term=6 session=1500 node=1 last=6@2
        n0:   → send diverged term=6 session=1500 match=4
        > deliver 0
        n1: receive heartbeat term=6 session=0 commit=5 sent=0
        n1: receive diverged term=6 session=1500 match=4
        n1:   → discard-log queueAfter=4
        n1:   → send hello term=6 session=1501 node=1 last=0@0
        > flush 1
        n1: durable discard, queue += [5@2:g5 6@2:g6]
        > stabilize
        n0: receive hello term=6 session=1501 node=1 last=0@0
        n0:   → send heartbeat term=6 session=1501 commit=5 sent=0
        n0:   → send-append session=1501 prev=0@0 through=5 commit=5
        n1: receive heartbeat term=6 session=1501 commit=5 sent=0
        n1:   → send ack term=6 session=1501 flushed=0
        n1:   → send-reconcile session=1501
        n1: receive append term=6 session=1501 prev=0@0 [1@2:g1 2@2:g2 3@2:g3 4@2:g4 5@4:g5] commit=5
        n1:   → write [1@2:g1 2@2:g2 3@2:g3 4@2:g4 5@4:g5]
        n0: receive ack term=6 session=1501 flushed=0
        n0: receive reconcile term=6 session=1501 round=1 [5@2:g5 6@2:g6]
        n0:   → reconcile session=1501 round=1 [5@2:g5 6@2:g6]
        n0: reappended [6@6:g6]
        n0:   → send-append session=1501 prev=5@4 through=6 commit=5
        n0: reconciled session=1501 through=6 round=1
        n0:   → send reconciled term=6 session=1501 through=6 round=1
        n0: flushed 6@6
        n0:   → ack-clients upTo=6
        n1: flushed 5@4
        n1:   → send ack term=6 session=1501 flushed=5
        n1: receive append term=6 session=1501 prev=5@4 [6@6:g6] commit=5
        n1:   → write [6@6:g6]
        n1: receive reconciled term=6 session=1501 through=6 round=1
        n0: receive ack term=6 session=1501 flushed=5
        n1: flushed 6@6
        n1:   → send ack term=6 session=1501 flushed=6
        n1:   → clear-reconcile-queue
        n1: durable queue cleared
        n0: receive ack term=6 session=1501 flushed=6
        > status 0
        n0: primary term=6 last=6@6 flushed=6 commit=6 peer(session=1501 flushed=6) log=[1@2:g1 2@2:g2 3@2:g3 4@2:g4 5@4:g5 6@6:g6]
        > status 1
        n1: standby term=6 last=6@6 flushed=6 commit=5 attached session=1501 log=[1@2:g1 2@2:g2 3@2:g3 4@2:g4 5@4:g5 6@6:g6]
        """)
    }

    func testADivergenceBehindTheCompactedLogIsRefusedNotFollowed() {
        ScenarioScript.run("""
        # As before, but node 1 compacted its log through 5: record 5@2 lives only in its checkpoint.
        > start 0 term=4 log=1..4@2,5..5@4
        n0: start boot=1 term=4 last=5@4 queue=0
        > start 1 term=2 log=1..6@2 checkpoint=6 compacted=5
        n1: start boot=1 term=2 last=6@2 queue=0 checkpoint=6 compacted=5
        > tick 0 1000
        n0:   → persist term=6
        n0:   → role primary term=6
        n0:   → send heartbeat term=6 session=0 commit=5 sent=0
        > flush 0
        n0: durable term=6
        > tick 1 1
        n1:   → send hello term=2 session=1500 node=1 last=6@2
        > deliver 0
        n1: receive heartbeat term=6 session=0 commit=5 sent=0
        n1:   → persist term=6
        n1:   → role standby term=6
        > flush 1
        n1: durable term=6
        > tick 1 100
        n1:   → send hello term=6 session=1500 node=1 last=6@2
        > deliver 1
        n0: receive hello term=2 session=1500 node=1 last=6@2
        n0:   → send heartbeat term=6 session=0 commit=5 sent=0
        n0: receive hello term=6 session=1500 node=1 last=6@2
        n0:   → send diverged term=6 session=1500 match=4
        > deliver 0
        n1: receive heartbeat term=6 session=0 commit=5 sent=0
        n1: receive diverged term=6 session=1500 match=4
        n1:   → refuse-divergence match=4 compacted=5
        > status 1
        n1: standby term=6 last=6@2 flushed=6 commit=0 detached log=[1@2:g1 2@2:g2 3@2:g3 4@2:g4 5@2:g5 6@2:g6]
        """)
    }

    func testAStandbyJoiningByASnapshotThatHoldsItsReconciledRecordsClearsItsQueue() {
        ScenarioScript.run("""
        # Node 1's records (g11, g12) left node 0's log at lsn 0; node 0's log is compacted, so node 1 joins by a snapshot.
        > config chunk=6 window=1
        > start 0 term=2 log=1..6@2 checkpoint=6 compacted=4
        n0: start boot=1 term=2 last=6@2 queue=0 checkpoint=6 compacted=4
        > start 1 term=2 log=1..2@1 ids=11
        n1: start boot=1 term=2 last=2@1 queue=0
        > tick 0 1000
        n0:   → persist term=4
        n0:   → role primary term=4
        n0:   → send heartbeat term=4 session=0 commit=6 sent=0
        > flush 0
        n0: durable term=4
        > tick 1 1
        n1:   → send hello term=2 session=1500 node=1 last=2@1
        > deliver 0
        n1: receive heartbeat term=4 session=0 commit=6 sent=0
        n1:   → persist term=4
        n1:   → role standby term=4
        > flush 1
        n1: durable term=4
        > deliver 1
        n0: receive hello term=2 session=1500 node=1 last=2@1
        n0:   → send heartbeat term=4 session=0 commit=6 sent=0
        > tick 1 100
        n1:   → send hello term=4 session=1500 node=1 last=2@1
        > deliver 1
        n0: receive hello term=4 session=1500 node=1 last=2@1
        n0:   → send diverged term=4 session=1500 match=0
        > deliver 0
        n1: receive heartbeat term=4 session=0 commit=6 sent=0
        n1: receive diverged term=4 session=1500 match=0
        n1:   → truncate after=0
        n1:   → send hello term=4 session=1501 node=1 last=0@0
        > flush 1
        n1: durable truncation after=0, queue += [1@1:g11 2@1:g12]
        > deliver 1
        n0: receive hello term=4 session=1501 node=1 last=0@0
        n0:   → send heartbeat term=4 session=1501 commit=6 sent=0
        n0:   → prepare-snapshot session=1501
        > flush 0
        n0: snapshot prepared session=1501 bytes=15
        n0:   → send-snapshot-chunk session=1501 id=1001 offset=0 count=6 total=15
        > deliver 0
        n1: receive heartbeat term=4 session=1501 commit=6 sent=0
        n1:   → send ack term=4 session=1501 flushed=0
        n1:   → send-reconcile session=1501
        n1: receive snapshot-chunk term=4 session=1501 id=1001 offset=0 count=6 total=15
        n1:   → write-snapshot-chunk offset=0 count=6
        n1:   → send snapshot-ack term=4 session=1501 received=6
        > deliver 1
        n0: receive ack term=4 session=1501 flushed=0
        n0: receive reconcile term=4 session=1501 round=1 [1@1:g11 2@1:g12]
        n0:   → reconcile session=1501 round=1 [1@1:g11 2@1:g12]
        n0: reappended [7@4:g11 8@4:g12]
        n0: reconciled session=1501 through=8 round=1
        n0:   → send reconciled term=4 session=1501 through=8 round=1
        n0: receive snapshot-ack term=4 session=1501 received=6
        n0:   → send-snapshot-chunk session=1501 id=1001 offset=6 count=6 total=15
        > flush 0
        n0: flushed 8@4
        n0:   → ack-clients upTo=8
        # The primary's answer to the reconciliation is lost, and node 1 restarts: the new snapshot holds the reconciled records.
        > drop 0
        n0 → n1 lost: reconciled term=4 session=1501 through=8 round=1
        n0 → n1 lost: snapshot-chunk term=4 session=1501 id=1001 offset=6 count=6 total=15
        > crash 1
        n1: crash
        > start 1 at=200
        n1: start boot=2 term=4 last=0@0 queue=2
        > tick 1 201
        n1:   → send hello term=4 session=2500 node=1 last=0@0
        > stabilize
        n0: receive hello term=4 session=2500 node=1 last=0@0
        n0:   → send heartbeat term=4 session=2500 commit=8 sent=0
        n0:   → prepare-snapshot session=2500
        n0: snapshot prepared session=2500 bytes=19
        n0:   → send-snapshot-chunk session=2500 id=1002 offset=0 count=6 total=19
        n1: receive heartbeat term=4 session=2500 commit=8 sent=0
        n1:   → send ack term=4 session=2500 flushed=0
        n1:   → send-reconcile session=2500
        n1: receive snapshot-chunk term=4 session=2500 id=1002 offset=0 count=6 total=19
        n1:   → write-snapshot-chunk offset=0 count=6
        n1:   → send snapshot-ack term=4 session=2500 received=6
        n0: receive ack term=4 session=2500 flushed=0
        n0: receive reconcile term=4 session=2500 round=1 [1@1:g11 2@1:g12]
        n0:   → reconcile session=2500 round=1 [1@1:g11 2@1:g12]
        n0: reconciled session=2500 through=8 round=1
        n0:   → send reconciled term=4 session=2500 through=8 round=1
        n0: receive snapshot-ack term=4 session=2500 received=6
        n0:   → send-snapshot-chunk session=2500 id=1002 offset=6 count=6 total=19
        n1: receive reconciled term=4 session=2500 through=8 round=1
        n1: receive snapshot-chunk term=4 session=2500 id=1002 offset=6 count=6 total=19
        n1:   → write-snapshot-chunk offset=6 count=6
        n1:   → send snapshot-ack term=4 session=2500 received=12
        n0: receive snapshot-ack term=4 session=2500 received=12
        n0:   → send-snapshot-chunk session=2500 id=1002 offset=12 count=6 total=19
        n1: receive snapshot-chunk term=4 session=2500 id=1002 offset=12 count=6 total=19
        n1:   → write-snapshot-chunk offset=12 count=6
        n1:   → send snapshot-ack term=4 session=2500 received=18
        n0: receive snapshot-ack term=4 session=2500 received=18
        n0:   → send-snapshot-chunk session=2500 id=1002 offset=18 count=1 total=19
        n1: receive snapshot-chunk term=4 session=2500 id=1002 offset=18 count=1 total=19
        n1:   → write-snapshot-chunk offset=18 count=1
        n1:   → send snapshot-ack term=4 session=2500 received=19
        n1:   → install-snapshot total=19
        n0: receive snapshot-ack term=4 session=2500 received=19
        n0:   → snapshot-sent session=2500
        n1: durable snapshot installed: last=8@4
        n1: installed snapshot
        n1:   → clear-reconcile-queue
        n1:   → send hello term=4 session=2501 node=1 last=8@4
        n1: durable queue cleared
        n0: receive hello term=4 session=2501 node=1 last=8@4
        n0:   → send heartbeat term=4 session=2501 commit=8 sent=8
        n1: receive heartbeat term=4 session=2501 commit=8 sent=8
        n1:   → send ack term=4 session=2501 flushed=8
        n0: receive ack term=4 session=2501 flushed=8
        > status 0
        n0: primary term=4 last=8@4 flushed=8 commit=8 peer(session=2501 flushed=8) log=[1@2:g1 2@2:g2 3@2:g3 4@2:g4 5@2:g5 6@2:g6 7@4:g11 8@4:g12]
        > status 1
        n1: standby term=4 last=8@4 flushed=8 commit=8 attached session=2501 log=[1@2:g1 2@2:g2 3@2:g3 4@2:g4 5@2:g5 6@2:g6 7@4:g11 8@4:g12]
        """)
    }

    func testAStandbyNeverCountsAnOldPrimarysSnapshotBytesForTheNewOnes() {
        ScenarioScript.run("""
        # Node 1 is new and empty; node 0 sends it a snapshot in chunks of 6 bytes, two at a time.
        > config chunk=6 window=2
        > start 0 term=2 log=1..6@2 checkpoint=6 compacted=4
        n0: start boot=1 term=2 last=6@2 queue=0 checkpoint=6 compacted=4
        > start 1
        n1: start boot=1 term=0 last=0@0 queue=0
        > tick 0 1000
        n0:   → persist term=4
        n0:   → role primary term=4
        n0:   → send heartbeat term=4 session=0 commit=6 sent=0
        > flush 0
        n0: durable term=4
        > tick 1 1
        n1:   → send hello term=0 session=1500 node=1 last=0@0
        > deliver 0
        n1: receive heartbeat term=4 session=0 commit=6 sent=0
        n1:   → persist term=4
        n1:   → role standby term=4
        > flush 1
        n1: durable term=4
        > tick 1 100
        n1:   → send hello term=4 session=1500 node=1 last=0@0
        > deliver 1
        n0: receive hello term=0 session=1500 node=1 last=0@0
        n0:   → send heartbeat term=4 session=0 commit=6 sent=0
        n0: receive hello term=4 session=1500 node=1 last=0@0
        n0:   → send heartbeat term=4 session=1500 commit=6 sent=0
        n0:   → prepare-snapshot session=1500
        > flush 0
        n0: snapshot prepared session=1500 bytes=15
        n0:   → send-snapshot-chunk session=1500 id=1001 offset=0 count=6 total=15
        n0:   → send-snapshot-chunk session=1500 id=1001 offset=6 count=6 total=15
        > deliver 0
        n1: receive heartbeat term=4 session=0 commit=6 sent=0
        n1: receive heartbeat term=4 session=1500 commit=6 sent=0
        n1:   → send ack term=4 session=1500 flushed=0
        n1: receive snapshot-chunk term=4 session=1500 id=1001 offset=0 count=6 total=15
        n1:   → write-snapshot-chunk offset=0 count=6
        n1:   → send snapshot-ack term=4 session=1500 received=6
        n1: receive snapshot-chunk term=4 session=1500 id=1001 offset=6 count=6 total=15
        n1:   → write-snapshot-chunk offset=6 count=6
        n1:   → send snapshot-ack term=4 session=1500 received=12
        > status 1
        n1: standby term=4 last=0@0 flushed=0 commit=0 attached session=1500 log=[]
        # Node 1 holds 12 bytes of transfer 1001 when node 0 crashes; node 0 comes back and takes term 6.
        > crash 0
        n0: crash
        > start 0 at=1100
        n0: start boot=2 term=4 last=6@2 queue=0 checkpoint=6 compacted=4
        > tick 0 1101
        n0:   → send hello term=4 session=2000 node=0 last=6@2
        > tick 1 1101
        n1:   → send ack term=4 session=1500 flushed=0
        > deliver 0
        n1: receive hello term=4 session=2000 node=0 last=6@2
        > deliver 1
        n0: receive ack term=4 session=1500 flushed=0
        n0: receive snapshot-ack term=4 session=1500 received=6
        n0: receive snapshot-ack term=4 session=1500 received=12
        n0: receive ack term=4 session=1500 flushed=0
        > tick 0 2200
        n0:   → persist term=6
        n0:   → role primary term=6
        n0:   → send heartbeat term=6 session=0 commit=6 sent=0
        > flush 0
        n0: durable term=6
        > deliver 0
        n1: receive heartbeat term=6 session=0 commit=6 sent=0
        n1:   → persist term=6
        n1:   → role standby term=6
        > flush 1
        n1: durable term=6
        > tick 1 2201
        n1:   → send hello term=6 session=1500 node=1 last=0@0
        > deliver 1
        n0: receive hello term=6 session=1500 node=1 last=0@0
        n0:   → send heartbeat term=6 session=1500 commit=6 sent=0
        n0:   → prepare-snapshot session=1500
        > flush 0
        n0: snapshot prepared session=1500 bytes=15
        n0:   → send-snapshot-chunk session=1500 id=2001 offset=0 count=6 total=15
        n0:   → send-snapshot-chunk session=1500 id=2001 offset=6 count=6 total=15
        # The first chunk of the new transfer (2001) is lost and the second arrives: node 1 holds none of
        # 2001 (the old transfer ended with term 4), so it acknowledges nothing. Counting the 12 bytes of
        # 1001 as those of 2001 had node 0 skip, for good, the chunk node 1 lacks.
        > drop 0 2
        n0 → n1 lost: heartbeat term=6 session=1500 commit=6 sent=0
        n0 → n1 lost: snapshot-chunk term=6 session=1500 id=2001 offset=0 count=6 total=15
        > deliver 0
        n1: receive snapshot-chunk term=6 session=1500 id=2001 offset=6 count=6 total=15
        """)
    }
}
