import LicenseState
import XCTest

/// `decideImport` and applying import records.
final class ImportDecisionTests: XCTestCase {
    private let now = Fixture.importTime

    private func decide(_ state: LicenseState, _ bytes: [UInt8], cluster: String = Fixture.cluster,
                        now: Int64 = Fixture.importTime) throws -> Result<LogRecord, LicenseError> {
        state.decideImport(try LicenseFile.parse(bytes), bytes: bytes, nodeUUID: cluster, now: now)
    }

    /// Asserts the import is refused and that the state is unchanged.
    private func assertImportRefused(_ h: Harness, _ bytes: [UInt8], code: Int, cluster: String = Fixture.cluster,
                                     now: Int64 = Fixture.importTime, _ label: String,
                                     file: StaticString = #filePath, line: UInt = #line) throws {
        var state = h.state
        let before = state
        let digest = state.digest
        let result = try decide(state, bytes, cluster: cluster, now: now)
        assertFailure(result, code: code, label, file: file, line: line)
        if case .success(let record) = result { state.apply(record) }
        XCTAssertEqual(state, before, label, file: file, line: line)
        XCTAssertEqual(state.digest, digest, label, file: file, line: line)
    }

    func testImportRecordAndItsEffect() throws {
        var h = Harness()
        let bytes = Fixture.licenseBytes(licenseId: "L-7", organizationId: "acme", items: [
            Fixture.item("scan-1", quantity: 100), Fixture.item("dev-1", way: .device, quantity: 5),
        ])
        let record = try XCTUnwrap(assertSuccess(try decide(h.state, bytes, now: now)))
        XCTAssertEqual(record, .importLicense(file: bytes, handshakeCode: "acme-1", at: now))
        XCTAssertEqual(record.kind, "import")
        XCTAssertEqual(record.at, now)
        h.apply(record)
        XCTAssertEqual(h.state.licenses["L-7"], try LicenseFile.parse(bytes))
        XCTAssertEqual(Set(h.state.items.keys), ["scan-1", "dev-1"])
        XCTAssertEqual(h.state.items["scan-1"]?.licenseId, "L-7")
        XCTAssertEqual(h.state.items["scan-1"]?.consumed, 0)
        XCTAssertEqual(h.state.used("dev-1", now: now), 0)
        XCTAssertEqual(h.state.handshakes["acme-1"], Handshake(code: "acme-1", organizationId: "acme", items: ["scan-1", "dev-1"]))
        XCTAssertEqual(h.state.grantsTotal, 0)
    }

    func testWrongBinding() throws {
        let h = Harness()
        let other = Fixture.licenseBytes(boundTo: "00000000-0000-4000-8000-000000000000", items: [Fixture.item("scan-1")])
        try assertImportRefused(h, other, code: -20302, "bound to another cluster")
        let result = try decide(h.state, other)
        if case .failure(let error) = result {
            XCTAssertTrue(error.message.contains(Fixture.cluster), error.message)
            XCTAssertTrue(error.message.contains("00000000-0000-4000-8000-000000000000"), error.message)
        }
    }

    func testBindingToAnyClusterOrThisOneInAnyCase() throws {
        let h = Harness()
        assertSuccess(try decide(h.state, Fixture.licenseBytes(boundTo: "*", items: [Fixture.item("scan-1")])))
        assertSuccess(try decide(h.state, Fixture.licenseBytes(boundTo: Fixture.cluster.lowercased(), items: [Fixture.item("scan-1")])))
        assertSuccess(try decide(h.state, Fixture.licenseBytes(boundTo: Fixture.cluster, items: [Fixture.item("scan-1")]),
                                 cluster: Fixture.cluster.lowercased()))
    }

    func testAFileBoundToTheClusterUUIDImportsOnEitherNode() throws {
        var h = Harness()
        let clusterUUID = "0f6c3a52-98e1-4c1e-a9a4-3b1f0d6e2c7d"
        let identity = try XCTUnwrap(h.state.decideClusterIdentity(uuid: clusterUUID, now: now))
        XCTAssertEqual(identity.kind, "cluster-identity")
        h.apply(identity)
        XCTAssertEqual(h.state.clusterUUID, clusterUUID)
        XCTAssertNil(h.state.decideClusterIdentity(uuid: "11111111-2222-4333-8444-555555555555", now: now), "logged once")
        h.apply(.clusterIdentity(uuid: "11111111-2222-4333-8444-555555555555", at: now))
        XCTAssertEqual(h.state.clusterUUID, clusterUUID, "a second identity record changes nothing")

        let bound = Fixture.licenseBytes(boundTo: clusterUUID.uppercased(), items: [Fixture.item("scan-1")])
        assertSuccess(try decide(h.state, bound, cluster: "aaaaaaaa-0000-4000-8000-000000000001"), "on the main")
        assertSuccess(try decide(h.state, bound, cluster: "bbbbbbbb-0000-4000-8000-000000000002"), "on the standby")
        assertSuccess(try decide(h.state, Fixture.licenseBytes(boundTo: "bbbbbbbb-0000-4000-8000-000000000002", items: [Fixture.item("scan-1")]),
                                 cluster: "bbbbbbbb-0000-4000-8000-000000000002"), "bound to this node, as before")
        let other = Fixture.licenseBytes(boundTo: "00000000-0000-4000-8000-000000000000", items: [Fixture.item("scan-1")])
        try assertImportRefused(h, other, code: -20302, "bound to another server")
        guard case .failure(let error) = try decide(h.state, other) else { return XCTFail("accepted") }
        XCTAssertTrue(error.message.contains(clusterUUID) && error.message.contains(Fixture.cluster), error.message)
    }

    func testTheClusterIdentityIsWellFormedSurvivesSnapshotsAndReconciliationKeepsTheFirst() throws {
        XCTAssertTrue(ClusterIdentity.isWellFormed("0f6c3a52-98e1-4c1e-a9a4-3b1f0d6e2c7d"))
        for bad in ["", "0F6C3A52-98E1-4C1E-A9A4-3B1F0D6E2C7D", "0f6c3a52-98e1-4c1e-a9a4-3b1f0d6e2c7", "0f6c3a52x98e1-4c1e-a9a4-3b1f0d6e2c7d",
                    "0f6c3a52-98e1-4c1e-a9a4-3b1f0d6e2c7g"] {
            XCTAssertFalse(ClusterIdentity.isWellFormed(bad), bad)
        }
        var h = Harness()
        let record = LogRecord.clusterIdentity(uuid: "0f6c3a52-98e1-4c1e-a9a4-3b1f0d6e2c7d", at: now)
        XCTAssertEqual(try LogRecordCodec.decode(LogRecordCodec.encode(record)), record)
        var malformed = LogRecordCodec.encode(.clusterIdentity(uuid: "0f6c3a52-98e1-4c1e-a9a4-3b1f0d6e2c7d", at: now))
        malformed[2] = UInt8(ascii: "F")
        XCTAssertThrowsError(try LogRecordCodec.decode(malformed), "an identity not in lowercase UUID form")

        let before = h.state.digest
        XCTAssertEqual(h.reconciliation(of: record, grantStanding: { _ in .absent }), [record], "a log without one takes it")
        h.apply(record)
        XCTAssertNotEqual(h.state.digest, before)
        XCTAssertEqual(h.reconciliation(of: .clusterIdentity(uuid: "11111111-2222-4333-8444-555555555555", at: now),
                                               grantStanding: { _ in .absent }), [], "the identity this log gave stays")
        let decoded = try StateSnapshotCodec.decode(StateSnapshotCodec.encode(h.state))
        XCTAssertEqual(decoded, h.state)
        XCTAssertEqual(decoded.clusterUUID, "0f6c3a52-98e1-4c1e-a9a4-3b1f0d6e2c7d")
        XCTAssertNil(try StateSnapshotCodec.decode(StateSnapshotCodec.encode(LicenseState())).clusterUUID)
    }

    func testReimportIsRefused() throws {
        var h = Harness()
        try h.importItems([Fixture.item("scan-1")], licenseId: "L-1")
        // The same file, and another file with the same licenseId.
        try assertImportRefused(h, Fixture.licenseBytes(licenseId: "L-1", items: [Fixture.item("scan-1")]), code: -20304, "same file")
        try assertImportRefused(h, Fixture.licenseBytes(licenseId: "L-1", items: [Fixture.item("scan-9")]), code: -20304, "same licenseId")
    }

    func testAlreadyExpiredItem() throws {
        let h = Harness()
        let expiry = utc("2026-06-01T00:00:00Z")
        let bytes = Fixture.licenseBytes(items: [
            Fixture.item("fine", expiresAt: "2027-01-01T00:00:00Z"),
            Fixture.item("late", expiresAt: "2026-06-01T00:00:00Z"),
        ])
        try assertImportRefused(h, bytes, code: -20305, now: expiry, "expires exactly now")
        try assertImportRefused(h, bytes, code: -20305, now: expiry + 1, "expired a second ago")
        try assertImportRefused(h, bytes, code: -20305, now: expiry + 3 * 86_400, "expired, even within the grace days")
        assertSuccess(try decide(h.state, bytes, now: expiry - 1))
    }

    func testItemIdThatExistsAlready() throws {
        var h = Harness()
        try h.importItems([Fixture.item("scan-1")], licenseId: "L-1")
        try assertImportRefused(h, Fixture.licenseBytes(licenseId: "L-2", items: [Fixture.item("scan-2"), Fixture.item("scan-1")]),
                                code: -20303, "item ID of another license")
        try assertImportRefused(h, Fixture.licenseBytes(licenseId: "L-3", organizationId: "globex", items: [Fixture.item("scan-1")]),
                                code: -20303, "item ID of another organization's license")
    }

    func testBindingIsCheckedBeforeReimport() throws {
        var h = Harness()
        try h.importItems([Fixture.item("scan-1")], licenseId: "L-1")
        try assertImportRefused(h, Fixture.licenseBytes(licenseId: "L-1", boundTo: "other", items: [Fixture.item("scan-1")]),
                                code: -20302, "wrong binding and re-import")
    }

    func testApplyIgnoresBadOrRepeatedImportRecords() throws {
        var h = Harness()
        let bytes = Fixture.licenseBytes(items: [Fixture.item("scan-1")])
        let code = try h.importLicense(bytes)
        assertGranted(h.call(code, client: "c", at: Fixture.now))
        let before = h.state
        let digest = h.state.digest
        // A record whose bytes are not a license file.
        h.apply(.importLicense(file: Array("garbage".utf8), handshakeCode: "acme-9", at: Fixture.now))
        // The same file again under another code: the license exists, nothing changes.
        h.apply(.importLicense(file: bytes, handshakeCode: "acme-2", at: Fixture.now))
        XCTAssertEqual(h.state, before)
        XCTAssertEqual(h.state.digest, digest)
        XCTAssertEqual(h.state.used("scan-1", now: Fixture.now), 1, "usage survives")
    }

    func testDigestDiffersForDifferentStates() throws {
        var h = Harness()
        let empty = h.state.digest
        let code = try h.importItems([Fixture.item("scan-1")])
        let imported = h.state.digest
        assertGranted(h.call(code, client: "c", at: Fixture.now))
        XCTAssertNotEqual(empty, imported)
        XCTAssertNotEqual(imported, h.state.digest)
        XCTAssertEqual(LicenseState().digest, empty)
    }
}
