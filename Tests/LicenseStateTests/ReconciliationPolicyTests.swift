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

    func testAGrantForARequestThisLogAnsweredOtherwiseStaysValidAndTheRepeatKeepsItsAnswer() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 100)])
        let here = try XCTUnwrap(assertGranted(h.call(code, client: "c1", kind: .report, requestId: "r1", at: t)))
        // During a split the other node answered the same request with its own grant.
        let there = grant("g-peer", requestId: "r1")
        XCTAssertTrue(h.state.reapplies(.grant(there), grantIsKnown: nothingKnown))
        h.apply(.grant(there))
        XCTAssertEqual(h.state.used("scan-1", now: t), 2, "both answers were given, both are charged")
        XCTAssertFalse(h.state.reapplies(.grant(there), grantIsKnown: { $0 == "g-peer" }), "logged once")
        // A repeat returns the grant this log answered first, on every node that replays it.
        let again = h.state.decide(ClientCall(handshakeCode: code, clientUUID: "c1", product: nil, requestId: "r1", scans: 1),
                                   kind: .report, grantId: "g-new", now: t + 1)
        XCTAssertEqual(again, .repeated(here))
        var replayed = LicenseState()
        for record in h.log { replayed.apply(record) }
        XCTAssertEqual(replayed.requests[LicenseState.RequestKey(clientUUID: "c1", requestId: "r1")], here)
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
