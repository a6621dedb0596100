@testable import ClusterNode
import Replication
import XCTest

/// The in-memory window of entries kept for streaming: bounded in entries
/// and in bytes, and it answers only ranges it covers from their start.
final class RecentEntriesTests: XCTestCase {
    private func entry(_ lsn: UInt64, bytes: Int) -> ReplicatedEntry {
        ReplicatedEntry(lsn: lsn, term: 1, payload: [UInt8](repeating: 7, count: bytes))
    }

    func testLargeRecordsAreBoundedByBytesNotByCount() {
        var recent = RecentEntries()
        let recordBytes = 1 << 20
        let appended = 3 * RecentEntries.payloadBytesMax / recordBytes
        for lsn in 1...UInt64(appended) {
            recent.append(entry(lsn, bytes: recordBytes))
            XCTAssertLessThanOrEqual(recent.payloadBytes, 2 * RecentEntries.payloadBytesMax)
        }
        XCTAssertLessThan(recent.count, appended)
        // The oldest are gone: their range is read from the store.
        XCTAssertNil(recent.entries(after: 0, through: 2))
        let last = UInt64(appended)
        XCTAssertEqual(recent.entries(after: last - 2, through: last)?.map(\.lsn), [last - 1, last])
    }

    func testSmallRecordsAreBoundedByCount() {
        var recent = RecentEntries()
        for lsn in 1...UInt64(2 * RecentEntries.entriesMax + 1) { recent.append(entry(lsn, bytes: 8)) }
        XCTAssertEqual(recent.count, RecentEntries.entriesMax)
        XCTAssertEqual(recent.payloadBytes, 8 * RecentEntries.entriesMax)
    }

    func testTruncationForgetsTheTailAndItsBytes() {
        var recent = RecentEntries()
        for lsn in 1...5 { recent.append(entry(UInt64(lsn), bytes: 10)) }
        recent.truncate(after: 3)
        XCTAssertEqual(recent.payloadBytes, 30)
        XCTAssertEqual(recent.entries(after: 0, through: 9)?.map(\.lsn), [1, 2, 3])
        recent.append(entry(4, bytes: 1))
        XCTAssertEqual(recent.entries(after: 3, through: 4)?.map(\.payload.count), [1])
    }
}
