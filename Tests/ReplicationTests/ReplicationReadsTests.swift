import Replication
import WireFormat
import XCTest

/// What a node states it reads: the header round-trips, a missing header
/// is protocol 1, anything malformed or below protocol 1 is refused, and
/// the first record above the reader's highest tag is found.
final class ReplicationReadsTests: XCTestCase {
    private func entry(_ lsn: UInt64, tag: UInt64) -> ReplicatedEntry {
        var writer = BinaryWriter()
        writer.unsigned(tag)
        writer.string("fields")
        return ReplicatedEntry(lsn: lsn, term: 1, payload: writer.bytes)
    }

    func testTheHeaderRoundTripsAndNoHeaderIsProtocol1() {
        let reads = ReplicationReads(protocolVersion: 3, recordTagMax: 20, snapshotFormatMax: 6, schemaVersionMax: 7)
        XCTAssertEqual(reads.header, "protocol=3; records=20; snapshot=6; schema=7")
        XCTAssertEqual(ReplicationReads.parse(header: reads.header), reads)
        XCTAssertEqual(ReplicationReads.parse(header: "schema=7;snapshot=6 ; records=20;protocol=3"), reads, "any order, spaces around")
        XCTAssertEqual(ReplicationReads.parse(header: nil), .protocol1)
        XCTAssertEqual(ReplicationReads.parse(header: "protocol=2; records=17; snapshot=4; schema=5")?.recordTagMax, 17)
    }

    func testMalformedHeadersAreRefused() {
        for header in ["", "protocol=2", "protocol=2; records=18; snapshot=5", "protocol=2; records=18; snapshot=5; schema=5; extra=1",
                       "protocol=2; records=18; snapshot=5; schema=x", "protocol=2; records=18; snapshot=5; schema=-5",
                       "protocol=2; protocol=2; snapshot=5; schema=5", "protocol=2; records=0; snapshot=5; schema=5",
                       "protocol=0; records=18; snapshot=5; schema=5", "protocol=2; records=18; snapshot=5; schema=99999999999999999999",
                       "protocol=2; records=18; snapshot=5; schema=+5", String(repeating: "protocol=2;", count: 40)] {
            XCTAssertNil(ReplicationReads.parse(header: header), header)
        }
    }

    func testTheFirstRecordAboveTheHighestTagIsFound() {
        let reads = ReplicationReads.protocol1
        XCTAssertNil(reads.firstUnreadable([entry(1, tag: 1), entry(2, tag: 18)]))
        let found = reads.firstUnreadable([entry(1, tag: 4), entry(2, tag: 19), entry(3, tag: 20)])
        XCTAssertEqual(found?.entry.lsn, 2)
        XCTAssertEqual(found?.tag, 19)
        let empty = reads.firstUnreadable([ReplicatedEntry(lsn: 5, term: 1, payload: [])])
        XCTAssertEqual(empty?.entry.lsn, 5)
        XCTAssertNil(empty?.tag)
    }

    func testSnapshotsAreReadUpToTheStatedFormatAndSchema() {
        let reads = ReplicationReads.protocol1
        XCTAssertTrue(reads.readsSnapshots(format: 5, schema: 5))
        XCTAssertFalse(reads.readsSnapshots(format: 6, schema: 5))
        XCTAssertFalse(reads.readsSnapshots(format: 5, schema: 6))
    }
}
