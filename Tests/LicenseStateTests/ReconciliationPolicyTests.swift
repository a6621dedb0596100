import LicenseState
import XCTest

/// The reconciliation policy: what a primary logs again from another node's
/// log after a failover, and the overrun it measures.
final class ReconciliationPolicyTests: XCTestCase {
    private let t = Fixture.now
    private let nothingKnown: (String) -> Bool = { _ in false }

    private func grant(_ grantId: String, client: String = "c1", requestId: String? = nil, item: String = "scan-1",
                       amount: Int64 = 1) -> Grant {
        Grant(grantId: grantId, kind: .report, requestId: requestId, handshakeCode: "acme-1", clientUUID: client, itemId: item,
              amount: amount, domain: nil, leaseExpiresAt: nil, grace: false, at: t)
    }

    func testAGrantThisLogLacksIsLoggedAgainAndAKnownOneIsNot() {
        let state = LicenseState()
        XCTAssertTrue(state.reapplies(.grant(grant("g-other")), grantIsKnown: nothingKnown))
        XCTAssertFalse(state.reapplies(.grant(grant("g-other")), grantIsKnown: { $0 == "g-other" }))
    }

    func testAGrantWhoseRequestIdThisLogAnsweredIsNotLoggedAgain() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 100)])
        _ = try XCTUnwrap(assertGranted(h.call(code, client: "c1", kind: .report, requestId: "r1", at: t)))
        XCTAssertFalse(h.state.reapplies(.grant(grant("g-peer", requestId: "r1")), grantIsKnown: nothingKnown))
        // The same request ID from another client is another request.
        XCTAssertTrue(h.state.reapplies(.grant(grant("g-peer", client: "c2", requestId: "r1")), grantIsKnown: nothingKnown))
    }

    func testALicenseIsImportedAgainOnlyWhenThisLogLacksIt() throws {
        var h = Harness()
        let bytes = Fixture.licenseBytes(licenseId: "L-1", items: [Fixture.item("scan-1")])
        let other = Fixture.licenseBytes(licenseId: "L-2", items: [Fixture.item("scan-2")])
        try h.importLicense(bytes)
        XCTAssertFalse(h.state.reapplies(.importLicense(file: bytes, handshakeCode: "acme-x", at: t), grantIsKnown: nothingKnown))
        XCTAssertTrue(h.state.reapplies(.importLicense(file: other, handshakeCode: "acme-y", at: t), grantIsKnown: nothingKnown))
        XCTAssertFalse(h.state.reapplies(.importLicense(file: Array("not json".utf8), handshakeCode: "acme-z", at: t),
                                         grantIsKnown: nothingKnown))
    }

    func testLeasesAreRenewedOnlyFurtherAndReleasedOnlyWhileHeld() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("seat", way: .concurrentInstance, quantity: 2, leaseSeconds: 180)])
        let lease = try XCTUnwrap(assertGranted(h.call(code, client: "c1", at: t)))
        let expiresAt = try XCTUnwrap(h.state.leases[lease.grantId]?.expiresAt)
        XCTAssertTrue(h.state.reapplies(.renewLease(grantId: lease.grantId, expiresAt: expiresAt + 60, at: t), grantIsKnown: nothingKnown))
        XCTAssertFalse(h.state.reapplies(.renewLease(grantId: lease.grantId, expiresAt: expiresAt, at: t), grantIsKnown: nothingKnown))
        XCTAssertTrue(h.state.reapplies(.releaseLease(grantId: lease.grantId, at: t), grantIsKnown: nothingKnown))
        XCTAssertFalse(h.state.reapplies(.releaseLease(grantId: "never-held", at: t), grantIsKnown: nothingKnown))
    }

    func testRecordsThatFollowThisNodeAreNeverReplayed() {
        let state = LicenseState()
        for record: LogRecord in [.expire(at: t), .setAdminPassword(Fixture.password(1), at: t)] {
            XCTAssertFalse(state.reapplies(record, grantIsKnown: nothingKnown), "\(record)")
        }
        XCTAssertTrue(state.reapplies(.deleteHandshake(code: "acme-1", at: t), grantIsKnown: nothingKnown))
    }

    func testAnOverrunIsMeasuredAgainstQuantityPlusGrace() throws {
        var h = Harness()
        // 100 scans with 5 % grace: 105 allowed.
        let code = try h.importItems([Fixture.item("scan-1", quantity: 100)])
        _ = try XCTUnwrap(assertGranted(h.call(code, client: "c1", kind: .report, scans: 105, at: t)))
        let withinGrace = grant("g-peer", amount: 0)
        h.apply(.grant(withinGrace))
        XCTAssertNil(h.state.overrun(after: withinGrace))
        let past = grant("g-peer-2", amount: 3)
        h.apply(.grant(past))
        XCTAssertEqual(h.state.overrun(after: past), LicenseState.Overrun(itemId: "scan-1", used: 108, allowed: 105))
        XCTAssertNil(h.state.overrun(after: grant("g-unknown-item", item: "no-such-item")))
    }
}
