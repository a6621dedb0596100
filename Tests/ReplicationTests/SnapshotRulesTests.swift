import LicenseState
@testable import Replication
import XCTest

/// Rules around snapshots that transcripts show less directly.
final class SnapshotRulesTests: XCTestCase {
    /// One tick may jump seconds here, as silence: no stall detection.
    private static let config = ReplicaConfig(stallMs: .max)

    private func history(through lsn: UInt64, term: UInt64) -> TermHistory {
        var history = TermHistory()
        for index in stride(from: 1, through: lsn, by: 1) { history.append(lsn: index, term: term) }
        return history
    }

    func testAPrimaryThatCannotMakeASnapshotDropsTheStandbySoItAsksAgain() {
        var primary = Replica(config: Self.config, nodeIndex: 0, term: 2, history: history(through: 6, term: 2), incarnation: 1,
                              hasReconcileQueue: false, nowMs: 0, checkpointLsn: 6, compactedLsn: 4)
        _ = primary.tick(nowMs: 1_000)
        XCTAssertEqual(primary.role, .primary)
        let hello = primary.receive(.hello(term: primary.term, session: 77, nodeIndex: 1, history: TermHistory()))
        XCTAssertTrue(hello.contains(.prepareSnapshot(session: 77)))
        XCTAssertEqual(primary.snapshotUnavailable(session: 78), [], "another session's failure changes nothing")
        XCTAssertEqual(primary.snapshotUnavailable(session: 77),
                       [.send(.heartbeat(term: primary.term, session: 0, commitLsn: primary.commitLsn, sentLsn: 0))])
        XCTAssertNil(primary.peer)
    }

    func testAnEmptyStandbyOfALogLongerThanTheRetainedOneGetsASnapshot() {
        for (retained, snapshot) in [(UInt64(5), true), (100, false)] {
            var primary = Replica(config: ReplicaConfig(retainedRecords: retained, stallMs: .max), nodeIndex: 0, term: 2, history: history(through: 10, term: 2),
                                  incarnation: 1, hasReconcileQueue: false, nowMs: 0)
            _ = primary.tick(nowMs: 1_000)
            let answer = primary.receive(.hello(term: primary.term, session: 7, nodeIndex: 1, history: TermHistory()))
            XCTAssertEqual(answer.contains(.prepareSnapshot(session: 7)), snapshot, "retained \(retained)")
            XCTAssertEqual(answer.contains { if case .sendAppend = $0 { return true } else { return false } }, !snapshot, "retained \(retained)")
        }
    }

    func testAMainThatEmptiedItsLogForASnapshotDoesNotTakeOverAlone() {
        var emptied = Replica(config: Self.config, nodeIndex: 0, term: 6, history: TermHistory(), incarnation: 1,
                              hasReconcileQueue: true, nowMs: 0)
        XCTAssertFalse(emptied.tick(nowMs: 5_000).contains(.roleChanged(.primary, term: 8)))
        XCTAssertEqual(emptied.role, .standby)
        var new = Replica(config: Self.config, nodeIndex: 0, term: 1, history: TermHistory(), incarnation: 1,
                          hasReconcileQueue: false, nowMs: 0)
        _ = new.tick(nowMs: 5_000)
        XCTAssertEqual(new.role, .primary, "a new main alone starts the pair")
        var newStandby = Replica(config: Self.config, nodeIndex: 1, term: 1, history: TermHistory(), incarnation: 1,
                                 hasReconcileQueue: false, nowMs: 0)
        _ = newStandby.tick(nowMs: 5_000)
        XCTAssertEqual(newStandby.role, .standby, "a new standby alone waits for its primary")
    }

    /// Simulation seed 91604 (a flapping link): a stale acknowledgement had
    /// a stalled transfer go back below what the standby held; the standby
    /// then kept saying it held more than had been sent since, which the
    /// primary ignored, resending the same chunks until the run ended.
    func testAStandbyHoldingMoreThanWasResentMovesTheTransferOn() {
        let config = ReplicaConfig(snapshotChunkBytes: 4, snapshotWindowChunks: 2, stallMs: .max)
        var primary = Replica(config: config, nodeIndex: 0, term: 2, history: history(through: 6, term: 2), incarnation: 1,
                              hasReconcileQueue: false, nowMs: 0, checkpointLsn: 6, compactedLsn: 4)
        _ = primary.tick(nowMs: 1_000)
        XCTAssertTrue(primary.receive(.hello(term: primary.term, session: 77, nodeIndex: 1, history: TermHistory())).contains(.prepareSnapshot(session: 77)))
        let id = try! XCTUnwrap(primary.peer?.snapshot?.id)
        func chunk(_ offset: UInt64) -> ReplicaEffect {
            .sendSnapshotChunk(session: 77, id: id, offset: offset, count: 4, totalBytes: 20)
        }
        XCTAssertEqual(primary.snapshotPrepared(session: 77, totalBytes: 20), [chunk(0), chunk(4)])
        XCTAssertEqual(primary.receive(.snapshotAck(term: primary.term, session: 77, receivedBytes: 8)), [chunk(8), chunk(12)])
        // A late, stale acknowledgement; then no progress for a failover timeout: back to it.
        XCTAssertEqual(primary.receive(.snapshotAck(term: primary.term, session: 77, receivedBytes: 4)), [])
        _ = primary.tick(nowMs: 1_000 + config.failoverTimeoutMs - 1)
        XCTAssertEqual(primary.receive(.ack(term: primary.term, session: 77, flushedLsn: 0)), [], "the standby stays attached")
        let stalled = primary.tick(nowMs: 1_000 + config.failoverTimeoutMs)
        XCTAssertEqual(stalled.filter { if case .sendSnapshotChunk = $0 { return true } else { return false } }, [chunk(4), chunk(8)])
        // The standby holds 16 bytes (chunks 8 and 12 did arrive): the transfer goes on from there.
        XCTAssertEqual(primary.receive(.snapshotAck(term: primary.term, session: 77, receivedBytes: 16)), [chunk(16)])
        XCTAssertEqual(primary.receive(.snapshotAck(term: primary.term, session: 77, receivedBytes: 20)), [.snapshotSent(session: 77)])
    }

    func testALateDuplicateOfTheFirstChunkDoesNotResetATransfer() {
        var standby = Replica(config: Self.config, nodeIndex: 1, term: 2, history: TermHistory(), incarnation: 40,
                              hasReconcileQueue: false, nowMs: 0)
        let session = standby.session
        _ = standby.receive(.snapshotChunk(term: 2, session: session, id: 5, offset: 0, totalBytes: 10, bytes: [1, 2, 3, 4]))
        _ = standby.receive(.snapshotChunk(term: 2, session: session, id: 5, offset: 4, totalBytes: 10, bytes: [5, 6, 7]))
        let duplicate = standby.receive(.snapshotChunk(term: 2, session: session, id: 5, offset: 0, totalBytes: 10, bytes: [1, 2, 3, 4]))
        XCTAssertEqual(duplicate, [.send(.snapshotAck(term: 2, session: session, receivedBytes: 7))])
        XCTAssertEqual(standby.incomingSnapshot, IncomingSnapshot(id: 5, totalBytes: 10, receivedBytes: 7))
        // Another transfer on the same session (a restarted primary) starts over.
        let restarted = standby.receive(.snapshotChunk(term: 2, session: session, id: 9, offset: 0, totalBytes: 12, bytes: [9]))
        XCTAssertEqual(restarted, [.writeSnapshotChunk(offset: 0, bytes: [9]), .send(.snapshotAck(term: 2, session: session, receivedBytes: 1))])
    }
}
