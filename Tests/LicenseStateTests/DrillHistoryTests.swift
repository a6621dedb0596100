import LicenseState
import XCTest

/// Drill reports in the log: the record's binary form, the bounded history
/// the state keeps, snapshots that carry it (and older ones without it),
/// and the drill item, whose grants charge no license.
final class DrillHistoryTests: XCTestCase {
    static func record(_ n: Int, at: Int64 = Fixture.now) -> DrillRecord {
        DrillRecord(id: String(format: "00000000-0000-4000-8000-%012d", n), report: Array("{\"kind\":\"failover\",\"n\":\(n)}".utf8), at: at)
    }

    // MARK: Record

    func testDrillRecordRoundTripsUnderTag20() throws {
        for drill in [Self.record(1), DrillRecord(id: Self.record(2).id, report: [UInt8](repeating: 0x20, count: DrillRecord.reportBytesMax), at: -1)] {
            let bytes = LogRecordCodec.encode(.drillReport(drill))
            XCTAssertEqual(bytes.first, 20, "tag 19 is the audit log's")
            XCTAssertEqual(try LogRecordCodec.decode(bytes), .drillReport(drill))
            XCTAssertEqual(LogRecord.drillReport(drill).kind, "drill-report")
            XCTAssertEqual(LogRecord.drillReport(drill).at, drill.at)
            for length in 0..<min(bytes.count, 64) {
                XCTAssertThrowsError(try LogRecordCodec.decode(Array(bytes.prefix(length))), "cut to \(length)")
            }
            XCTAssertThrowsError(try LogRecordCodec.decode(bytes + [0]))
        }
    }

    func testMalformedDrillRecordsAreRefused() {
        func encoded(id: String, report: [UInt8]) -> [UInt8] {
            var writer = BinaryWriter()
            writer.unsigned(20)
            writer.string(id)
            writer.data(report)
            writer.signed(0)
            return writer.bytes
        }
        let id = "0b9f3c1e-5a2d-4c7e-9f10-2b3c4d5e6f70"
        XCTAssertNoThrow(try LogRecordCodec.decode(encoded(id: id, report: [0x7B, 0x7D])))
        XCTAssertThrowsError(try LogRecordCodec.decode(encoded(id: id.uppercased(), report: [0x7B, 0x7D])), "an ID not in lowercase")
        XCTAssertThrowsError(try LogRecordCodec.decode(encoded(id: "drill-1", report: [0x7B, 0x7D])), "an ID that is no UUID")
        XCTAssertThrowsError(try LogRecordCodec.decode(encoded(id: id, report: [])), "an empty report")
        XCTAssertThrowsError(try LogRecordCodec.decode(encoded(id: id, report: [UInt8](repeating: 0x20, count: DrillRecord.reportBytesMax + 1))),
                             "a report over the bound")
    }

    // MARK: History

    func testHistoryKeepsTheLastReportsOnceEach() {
        var state = LicenseState()
        state.apply(.drillReport(Self.record(0)))
        state.apply(.drillReport(Self.record(0, at: Fixture.now + 5)))
        XCTAssertEqual(state.drills.records, [Self.record(0)], "a report sent again is kept once, as first logged")
        for n in 1...DrillHistory.reportsMax { state.apply(.drillReport(Self.record(n))) }
        XCTAssertEqual(state.drills.records.count, DrillHistory.reportsMax)
        XCTAssertNil(state.drills[Self.record(0).id], "the oldest went when one more came")
        XCTAssertEqual(state.drills.records.first, Self.record(1))
        XCTAssertEqual(state.drills.newestFirst.first, Self.record(DrillHistory.reportsMax))
        XCTAssertEqual(state.drills[Self.record(7).id], Self.record(7))
    }

    func testReconciliationLogsAReportThisLogLacksOnly() {
        var state = LicenseState()
        let record = LogRecord.drillReport(Self.record(3))
        XCTAssertEqual(state.reconciliation(of: record, remembered: nil, grantStanding: { _ in .absent }), [record])
        state.apply(record)
        XCTAssertEqual(state.reconciliation(of: record, remembered: nil, grantStanding: { _ in .absent }), [])
    }

    // MARK: Snapshots

    func testSnapshotCarriesTheDrills() throws {
        var state = try XCTUnwrap(StateSnapshotCodecTests.stateWithEverything())
        let without = state
        for n in 1...3 { state.apply(.drillReport(Self.record(n))) }
        XCTAssertNotEqual(state.digest, without.digest)
        let bytes = StateSnapshotCodec.encode(state)
        XCTAssertEqual(bytes.first, 6)
        let decoded = try StateSnapshotCodec.decode(bytes)
        XCTAssertEqual(decoded, state)
        XCTAssertEqual(decoded.digest, state.digest)
        XCTAssertEqual(decoded.drills.newestFirst.map(\.id), [3, 2, 1].map { Self.record($0).id })
        var later = decoded
        later.apply(.drillReport(Self.record(2)))
        XCTAssertEqual(later, decoded, "a restored history still keeps each ID once")
    }

    /// A version 5 snapshot is a version 6 one without the audit, drills
    /// and per-code usage sections (the last three): it decodes, with no drills.
    func testVersion5SnapshotDecodesWithNoDrills() throws {
        // A state a version 5 snapshot can hold: no audit entries (their
        // section comes before the drills').
        var state = LicenseState()
        state.apply(.setAdminPassword(Fixture.password(2), at: Fixture.now))
        state.apply(.clusterIdentity(uuid: "0a1b2c3d-0000-4000-8000-000000000000", at: Fixture.now))
        let current = StateSnapshotCodec.encode(state)
        XCTAssertEqual(Array(current.suffix(4)), [0, 0, 0, 0],
                       "an empty audit section (no entries, none appended), then empty drills and per-code usage sections")
        let version5 = [5] + current.dropFirst().dropLast(4)
        let decoded = try StateSnapshotCodec.decode(Array(version5))
        XCTAssertEqual(decoded, state)
        XCTAssertTrue(decoded.drills.records.isEmpty)
        XCTAssertThrowsError(try StateSnapshotCodec.decode(Array(version5) + [0, 0, 0, 0]), "a version 5 snapshot has no audit or drills section")
    }

    func testSnapshotsWithRepeatedOrTooManyDrillsAreRefused() throws {
        // The state before the drills section; the per-code usage section (empty) after it.
        let empty = StateSnapshotCodec.encode(LicenseState()).dropLast(2)
        func withDrills(_ drills: [DrillRecord], count: Int? = nil) -> [UInt8] {
            var writer = BinaryWriter()
            writer.unsigned(UInt64(count ?? drills.count))
            for drill in drills {
                writer.string(drill.id)
                writer.data(drill.report)
                writer.signed(drill.at)
            }
            return Array(empty) + writer.bytes + [0]
        }
        XCTAssertEqual(try StateSnapshotCodec.decode(withDrills([Self.record(1)])).drills.records, [Self.record(1)])
        XCTAssertThrowsError(try StateSnapshotCodec.decode(withDrills([Self.record(1), Self.record(1)])), "a repeated ID")
        XCTAssertThrowsError(try StateSnapshotCodec.decode(withDrills([], count: DrillHistory.reportsMax + 1)), "more than a history keeps")
    }

    // MARK: Drill item

    func testDrillGrantsChargeNoLicenseAndStayOutOfStatisticsAndAlerts() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 1)])
        let before = h.state
        for n in 1...5 {
            guard case .grant(let grant) = h.call(DrillItem.handshakeCode, client: "load-\(n)", product: DrillItem.product, requestId: "r-\(n)",
                                                  at: Fixture.now + Int64(n)) else { return XCTFail("drill call \(n) refused") }
            XCTAssertEqual(grant.itemId, DrillItem.itemId)
            XCTAssertEqual(grant.handshakeCode, DrillItem.handshakeCode)
            XCTAssertFalse(grant.grace)
        }
        XCTAssertEqual(h.state.items, before.items, "no item's usage changed")
        XCTAssertEqual(h.state.usage, before.usage, "no statistics")
        XCTAssertEqual(h.state.recentCalls, before.recentCalls, "no alert counts")
        XCTAssertEqual(h.state.grantsTotal, before.grantsTotal + 5, "the log holds five more grants")
        _ = assertGranted(h.call(code, client: "customer", at: Fixture.now + 10), grace: false, item: "scan-1")
        guard case .refused(let error) = h.call(DrillItem.handshakeCode, client: "load", product: "scans", at: Fixture.now) else {
            return XCTFail("the drill code grants only the drill product")
        }
        XCTAssertEqual(error.code, -20123)
    }
}
