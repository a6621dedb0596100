import LicenseState
import XCTest

/// `concurrentInstance` and `concurrentDevice` items: leases that live
/// `leaseSeconds` unless renewed, released or expired.
final class ConcurrentItemTests: XCTestCase {
    private let t = Fixture.now

    private func instanceHarness(quantity: Int = 2, leaseSeconds: Int? = nil) throws -> (Harness, String) {
        var h = Harness()
        let code = try h.importItems([
            Fixture.item("inst-1", product: "viewer", way: .concurrentInstance, quantity: quantity, leaseSeconds: leaseSeconds),
        ])
        return (h, code)
    }

    func testThirdRefusedWhileTwoLeasesAreActive() throws {
        var (h, code) = try instanceHarness()
        let g1 = assertGranted(h.call(code, client: "a", product: "viewer", at: t), grace: false)
        let g2 = assertGranted(h.call(code, client: "a", product: "viewer", at: t + 10), grace: false)
        XCTAssertEqual(g1?.leaseExpiresAt, t + 180, "default lease is 180 s")
        XCTAssertEqual(g2?.leaseExpiresAt, t + 190)
        XCTAssertEqual(h.state.used("inst-1", now: t + 10), 2)
        assertRefused(h.call(code, client: "b", product: "viewer", at: t + 20), code: -20120)
        assertRefused(h.call(code, client: "b", product: "viewer", at: t + 179), code: -20120)
        XCTAssertEqual(h.state.leases.count, 2)
    }

    func testLeaseEndsAtGrantTimePlusLeaseSecondsWithoutAnExpireRecord() throws {
        var (h, code) = try instanceHarness()
        let g1 = try XCTUnwrap(assertGranted(h.call(code, client: "a", product: "viewer", at: t)))
        assertGranted(h.call(code, client: "b", product: "viewer", at: t + 10))
        XCTAssertEqual(h.state.used("inst-1", now: t + 179), 2)
        XCTAssertEqual(h.state.used("inst-1", now: t + 180), 1, "the first lease is over at grant time + 180")
        // No expire record was applied: the lease is still stored but does not count.
        XCTAssertNotNil(h.state.leases[g1.grantId])
        let g3 = assertGranted(h.call(code, client: "c", product: "viewer", at: t + 180), grace: false)
        XCTAssertEqual(g3?.leaseExpiresAt, t + 360)
        XCTAssertEqual(h.state.used("inst-1", now: t + 180), 2)
    }

    func testLeaseSecondsFromTheFile() throws {
        var (h, code) = try instanceHarness(quantity: 1, leaseSeconds: 30)
        XCTAssertEqual(h.state.items["inst-1"]?.item.leaseSeconds, 30)
        let g1 = assertGranted(h.call(code, client: "a", product: "viewer", at: t))
        XCTAssertEqual(g1?.leaseExpiresAt, t + 30)
        assertRefused(h.call(code, client: "b", product: "viewer", at: t + 29), code: -20120)
        assertGranted(h.call(code, client: "b", product: "viewer", at: t + 30))
    }

    func testHeartbeatMovesTheExpiry() throws {
        var (h, code) = try instanceHarness(quantity: 1)
        let g1 = try XCTUnwrap(assertGranted(h.call(code, client: "a", product: "viewer", at: t)))
        let record = assertSuccess(h.state.decideHeartbeat(grantId: g1.grantId, now: t + 100))
        XCTAssertEqual(record, .renewLease(grantId: g1.grantId, expiresAt: t + 280, at: t + 100))
        // Deciding changes nothing until the record is applied.
        XCTAssertEqual(h.state.leases[g1.grantId]?.expiresAt, t + 180)
        h.apply(try XCTUnwrap(record))
        XCTAssertEqual(h.state.leases[g1.grantId]?.expiresAt, t + 280)
        XCTAssertEqual(h.state.used("inst-1", now: t + 200), 1)
        assertRefused(h.call(code, client: "b", product: "viewer", at: t + 279), code: -20120)
        assertGranted(h.call(code, client: "b", product: "viewer", at: t + 280))
    }

    func testHeartbeatOfAnExpiredLeaseIsUnknown() throws {
        var (h, code) = try instanceHarness()
        let g1 = try XCTUnwrap(assertGranted(h.call(code, client: "a", product: "viewer", at: t)))
        assertSuccess(h.state.decideHeartbeat(grantId: g1.grantId, now: t + 179))
        assertFailure(h.state.decideHeartbeat(grantId: g1.grantId, now: t + 180), code: -20130)
    }

    func testHeartbeatAndReleaseOfUnknownGrant() throws {
        let (h, _) = try instanceHarness()
        let heartbeat = h.state.decideHeartbeat(grantId: "nope", now: t)
        assertFailure(heartbeat, code: -20130)
        if case .failure(let error) = heartbeat { XCTAssertEqual(error.status, 404) }
        assertFailure(h.state.decideRelease(grantId: "nope", now: t), code: -20130)
    }

    func testHeartbeatOfANonLeaseGrantIsUnknown() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 10)])
        let grant = try XCTUnwrap(assertGranted(h.call(code, client: "a", at: t)))
        assertFailure(h.state.decideHeartbeat(grantId: grant.grantId, now: t), code: -20130)
        assertFailure(h.state.decideRelease(grantId: grant.grantId, now: t), code: -20130)
    }

    func testReleaseFreesASeat() throws {
        var (h, code) = try instanceHarness()
        let g1 = try XCTUnwrap(assertGranted(h.call(code, client: "a", product: "viewer", at: t)))
        assertGranted(h.call(code, client: "b", product: "viewer", at: t))
        assertRefused(h.call(code, client: "c", product: "viewer", at: t + 5), code: -20120)
        let record = assertSuccess(h.release(g1.grantId, at: t + 5))
        XCTAssertEqual(record, .releaseLease(grantId: g1.grantId, at: t + 5))
        XCTAssertNil(h.state.leases[g1.grantId])
        XCTAssertEqual(h.state.used("inst-1", now: t + 5), 1)
        assertGranted(h.call(code, client: "c", product: "viewer", at: t + 5), grace: false)
        // Released grants are unknown to heartbeat and release.
        assertFailure(h.state.decideRelease(grantId: g1.grantId, now: t + 6), code: -20130)
        assertFailure(h.state.decideHeartbeat(grantId: g1.grantId, now: t + 6), code: -20130)
    }

    func testExpireRecordRemovesOnlyExpiredLeases() throws {
        var (h, code) = try instanceHarness()
        let g1 = try XCTUnwrap(assertGranted(h.call(code, client: "a", product: "viewer", at: t)))
        let g2 = try XCTUnwrap(assertGranted(h.call(code, client: "b", product: "viewer", at: t + 100)))
        XCTAssertFalse(h.state.needsExpiry(now: t + 179))
        XCTAssertTrue(h.state.needsExpiry(now: t + 180))
        var early = h.state
        early.apply(.expire(at: t + 179))
        XCTAssertEqual(early, h.state, "an expire before any lease ends changes nothing")

        h.apply(.expire(at: t + 180))
        XCTAssertEqual(Set(h.state.leases.keys), [g2.grantId])
        XCTAssertNil(h.state.leases[g1.grantId])
        XCTAssertFalse(h.state.needsExpiry(now: t + 180))
        XCTAssertTrue(h.state.needsExpiry(now: t + 280))
        h.apply(.expire(at: t + 280))
        XCTAssertTrue(h.state.leases.isEmpty)
        XCTAssertFalse(h.state.needsExpiry(now: t + 10_000))
        XCTAssertEqual(h.state.grantsTotal, 2, "expiry keeps the history")
    }

    func testNeedsExpiryIsFalseOnAnEmptyState() {
        XCTAssertFalse(LicenseState().needsExpiry(now: 0))
        XCTAssertFalse(LicenseState().needsExpiry(now: Fixture.now))
    }

    func testConcurrentInstanceHasNoGrace() throws {
        var (h, code) = try instanceHarness(quantity: 20)
        for i in 1...20 { assertGranted(h.call(code, client: "c\(i)", product: "viewer", at: t), grace: false) }
        assertRefused(h.call(code, client: "c21", product: "viewer", at: t), code: -20120)
    }

    // MARK: concurrentDevice

    private func deviceHarness(quantity: Int) throws -> (Harness, String) {
        var h = Harness()
        let code = try h.importItems([Fixture.item("cdev-1", product: "editor", way: .concurrentDevice, quantity: quantity)])
        return (h, code)
    }

    func testSameDeviceDoesNotTakeASecondSeat() throws {
        var (h, code) = try deviceHarness(quantity: 2)
        let a1 = try XCTUnwrap(assertGranted(h.call(code, client: "A", product: "editor", at: t), grace: false))
        let a2 = try XCTUnwrap(assertGranted(h.call(code, client: "A", product: "editor", at: t + 1), grace: false))
        XCTAssertNotEqual(a1.grantId, a2.grantId)
        XCTAssertNotNil(a2.leaseExpiresAt, "the second instance still gets its own lease")
        XCTAssertEqual(h.state.leases.count, 2)
        XCTAssertEqual(h.state.used("cdev-1", now: t + 1), 1)
        assertGranted(h.call(code, client: "B", product: "editor", at: t + 2), grace: false)
        XCTAssertEqual(h.state.used("cdev-1", now: t + 2), 2)
        assertRefused(h.call(code, client: "C", product: "editor", at: t + 3), code: -20120)
        // A and B still come in while they hold leases.
        assertGranted(h.call(code, client: "A", product: "editor", at: t + 4))
        assertGranted(h.call(code, client: "B", product: "editor", at: t + 4))

        // A's seat is free only once all of A's leases are gone.
        assertSuccess(h.release(a1.grantId, at: t + 5))
        assertRefused(h.call(code, client: "C", product: "editor", at: t + 5), code: -20120)
    }

    func testDistinctDevicesAreCounted() throws {
        var (h, code) = try deviceHarness(quantity: 3)
        for device in ["A", "B", "C"] { assertGranted(h.call(code, client: device, product: "editor", at: t)) }
        XCTAssertEqual(h.state.used("cdev-1", now: t), 3)
        assertRefused(h.call(code, client: "D", product: "editor", at: t), code: -20120)
        // After the leases end (180 s), D gets a seat.
        XCTAssertEqual(h.state.used("cdev-1", now: t + 180), 0)
        assertGranted(h.call(code, client: "D", product: "editor", at: t + 180))
    }

    func testDeviceFreedWhenAllItsLeasesAreReleased() throws {
        var (h, code) = try deviceHarness(quantity: 1)
        let a1 = try XCTUnwrap(assertGranted(h.call(code, client: "A", product: "editor", at: t)))
        let a2 = try XCTUnwrap(assertGranted(h.call(code, client: "A", product: "editor", at: t)))
        assertRefused(h.call(code, client: "B", product: "editor", at: t), code: -20120)
        assertSuccess(h.release(a1.grantId, at: t + 1))
        assertRefused(h.call(code, client: "B", product: "editor", at: t + 1), code: -20120)
        assertSuccess(h.release(a2.grantId, at: t + 2))
        assertGranted(h.call(code, client: "B", product: "editor", at: t + 2))
    }
}
