@testable import ClusterNode
import Replication
import WireFormat
import XCTest

/// A primary holds a standby whose lts cannot read what it would be sent:
/// nothing unreadable is streamed, its hellos and acknowledgements are
/// kept from the replica (never a message at a higher term), and the hold
/// ends with an upgraded peer or a step down.
final class PeerUpgradeHoldTests: XCTestCase {
    private let newer = ReplicationReads(protocolVersion: 2, recordTagMax: 20, snapshotFormatMax: 6, schemaVersionMax: 5)

    private func entry(_ lsn: UInt64, tag: UInt64) -> ReplicatedEntry {
        var writer = BinaryWriter()
        writer.unsigned(tag)
        return ReplicatedEntry(lsn: lsn, term: 2, payload: writer.bytes)
    }

    func testReadableEntriesStreamAndAnUnreadableOneHoldsTheStandby() {
        var hold = PeerUpgradeHold()
        XCTAssertEqual(hold.check(entries: [entry(1, tag: 4), entry(2, tag: 18)], peerReads: .protocol1).streamable, true)
        XCTAssertNil(hold.reason(peerReads: .protocol1))
        let checked = hold.check(entries: [entry(3, tag: 4), entry(4, tag: 19)], peerReads: .protocol1)
        XCTAssertFalse(checked.streamable)
        XCTAssertTrue(checked.newHold?.contains("tag 19 at lsn 4") == true, checked.newHold ?? "")
        // Held: even readable entries wait, and the hold is logged once.
        let later = hold.check(entries: [entry(3, tag: 4)], peerReads: .protocol1)
        XCTAssertFalse(later.streamable)
        XCTAssertNil(later.newHold)
        XCTAssertTrue(hold.check(entries: [entry(4, tag: 19)], peerReads: newer).streamable, "an upgraded standby is streamed again")
    }

    /// A re-grant is a grant record, which an older lts decodes, but its
    /// store (schema 5) refuses a second row for one grant: it waits.
    func testAReGrantHoldsAStandbyWhoseStoreCannotApplyIt() {
        var hold = PeerUpgradeHold()
        XCTAssertTrue(hold.check(entries: [entry(5, tag: 4)], peerReads: newer, regrantLsns: [6]).streamable)
        let checked = hold.check(entries: [entry(6, tag: 4), entry(7, tag: 4)], peerReads: newer, regrantLsns: [6])
        XCTAssertFalse(checked.streamable)
        XCTAssertTrue(checked.newHold?.contains("at lsn 6 a grant reconciliation made live again") == true, checked.newHold ?? "")
        let current = ReplicationReads(protocolVersion: 3, recordTagMax: 20, snapshotFormatMax: 6,
                                       schemaVersionMax: LicenseStore.regrantsSchemaVersion)
        var other = PeerUpgradeHold()
        XCTAssertTrue(other.check(entries: [entry(6, tag: 4)], peerReads: current, regrantLsns: [6]).streamable)
    }

    func testAHeldStandbysMessagesAreKeptFromTheReplicaButNotAHigherTerm() {
        var hold = PeerUpgradeHold()
        let ack = ReplicationMessage.ack(term: 2, session: 7, flushedLsn: 3)
        XCTAssertFalse(hold.drops(ack, peerReads: .protocol1, term: 2), "nothing is held yet")
        _ = hold.check(entries: [entry(4, tag: 19)], peerReads: .protocol1)
        for message in [ack, .hello(term: 2, session: 8, nodeIndex: 1, history: TermHistory()),
                        .reconcile(term: 1, session: 7, entries: []), .snapshotAck(term: 2, session: 7, receivedBytes: 10)] {
            XCTAssertTrue(hold.drops(message, peerReads: .protocol1, term: 2), "\(message)")
        }
        XCTAssertFalse(hold.drops(.heartbeat(term: 3, session: 1, commitLsn: 0, sentLsn: 0), peerReads: .protocol1, term: 2))
        XCTAssertFalse(hold.drops(.ack(term: 3, session: 7, flushedLsn: 3), peerReads: .protocol1, term: 2), "a higher term passes")
        XCTAssertFalse(hold.drops(ack, peerReads: newer, term: 2), "a stream stating newer reads is not held")
        hold.release()
        XCTAssertFalse(hold.drops(ack, peerReads: .protocol1, term: 2))
    }

    func testASnapshotIsSentOnlyToAStandbyThatReadsEverythingThisLtsWrites() {
        var hold = PeerUpgradeHold()
        XCTAssertTrue(hold.checkSnapshot(format: 5, schema: 5, recordTagMax: 18, peerReads: .protocol1).streamable)
        XCTAssertTrue(hold.checkSnapshot(format: 6, schema: 5, recordTagMax: 20, peerReads: newer).streamable)
        let refused = hold.checkSnapshot(format: 6, schema: 5, recordTagMax: 18, peerReads: .protocol1)
        XCTAssertFalse(refused.streamable)
        XCTAssertNotNil(refused.newHold)
        var other = PeerUpgradeHold()
        XCTAssertFalse(other.checkSnapshot(format: 5, schema: 5, recordTagMax: 20, peerReads: .protocol1).streamable,
                       "its log may hold records the standby cannot read")
    }
}
