import Replication
import XCTest

/// Appends and reconcile rounds are cut to fit a frame, in order, nothing
/// dropped.
final class ReplicationMessagePartsTests: XCTestCase {
    private func entry(_ lsn: UInt64, bytes: Int) -> ReplicatedEntry {
        ReplicatedEntry(lsn: lsn, term: 1, payload: [UInt8](repeating: 1, count: bytes))
    }

    func testEntriesAreCutWhereTheNextWouldPassTheBudget() {
        let budget = ReplicaShell.messagePayloadBytesMax
        let entries = [entry(1, bytes: budget / 2), entry(2, bytes: budget / 2), entry(3, bytes: 1), entry(4, bytes: budget)]
        let parts = ReplicaShell.parts(of: entries)
        XCTAssertEqual(parts.map { $0.map(\.lsn) }, [[1, 2], [3], [4]])
        XCTAssertTrue(parts.allSatisfy { $0.reduce(0) { $0 + $1.payload.count } <= budget })
        XCTAssertEqual(ReplicaShell.parts(of: []), [])
    }

    func testSmallEntriesStayInOnePart() {
        let entries = (1...1000).map { entry($0, bytes: 100) }
        XCTAssertEqual(ReplicaShell.parts(of: entries), [entries])
    }
}
