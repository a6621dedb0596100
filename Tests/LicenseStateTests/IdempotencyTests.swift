import LicenseState
import XCTest

/// Request IDs: a retried call gets its first grant back and counts nothing.
final class IdempotencyTests: XCTestCase {
    private let t = Fixture.now
    private let retention = RequestBook.retentionSeconds

    func testRetentionIsLongerThanTheClientBuffer() {
        XCTAssertEqual(retention, 8 * 86_400)
    }

    func testSameRequestReturnsTheFirstGrant() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 100)])
        let first = try XCTUnwrap(assertGranted(h.call(code, client: "c1", kind: .report, requestId: "r1", scans: 5, at: t)))
        XCTAssertEqual(first.requestId, "r1")
        let before = h.state
        let beforeDigest = h.state.digest
        let call = ClientCall(handshakeCode: code, clientUUID: "c1", product: nil, requestId: "r1", scans: 5)
        let again = h.state.decide(call, kind: .report, grantId: "other-id", now: t + 60,
                                   remembered: h.requests.answer(for: call.requestKey!))
        XCTAssertEqual(again, .repeated(first))
        XCTAssertEqual(h.state, before)
        XCTAssertEqual(h.state.digest, beforeDigest)
        XCTAssertEqual(h.state.used("scan-1", now: t + 60), 5)
        XCTAssertEqual(h.state.grantsTotal, 1)
    }

    func testRepeatWinsOverEverythingElse() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 1)])
        let first = try XCTUnwrap(assertGranted(h.call(code, client: "c1", kind: .report, requestId: "r1", at: t)))
        // The item is exhausted, the call asks for more scans and a different kind: still the first grant.
        let again = h.call(code, client: "c1", kind: .authorize, requestId: "r1", scans: 9, at: t + 1)
        XCTAssertEqual(again, .repeated(first))
        // Even after the handshake code is deleted.
        assertSuccess(h.deleteHandshake(code, at: t + 2))
        XCTAssertEqual(h.call(code, client: "c1", kind: .report, requestId: "r1", at: t + 3), .repeated(first))
        XCTAssertEqual(h.state.grantsTotal, 1)
    }

    func testSameRequestIdFromAnotherClientIsANewGrant() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 100)])
        let first = try XCTUnwrap(assertGranted(h.call(code, client: "c1", kind: .report, requestId: "r1", at: t)))
        let second = try XCTUnwrap(assertGranted(h.call(code, client: "c2", kind: .report, requestId: "r1", at: t)))
        XCTAssertNotEqual(first.grantId, second.grantId)
        XCTAssertEqual(h.state.used("scan-1", now: t), 2)
        XCTAssertEqual(h.requests.count, 2)
    }

    func testCallsWithoutRequestIdAreNeverRepeats() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 100)])
        assertGranted(h.call(code, client: "c1", kind: .report, at: t))
        assertGranted(h.call(code, client: "c1", kind: .report, at: t))
        XCTAssertEqual(h.state.used("scan-1", now: t), 2)
        XCTAssertEqual(h.requests.count, 0)
    }

    func testARefusedRequestIsNotRemembered() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("inst-1", product: "viewer", way: .concurrentInstance, quantity: 1)])
        let g1 = try XCTUnwrap(assertGranted(h.call(code, client: "a", product: "viewer", requestId: "ra", at: t)))
        assertRefused(h.call(code, client: "b", product: "viewer", requestId: "rb", at: t + 1), code: -20120)
        assertSuccess(h.release(g1.grantId, at: t + 2))
        assertGranted(h.call(code, client: "b", product: "viewer", requestId: "rb", at: t + 3), grace: false)
    }

    func testRepeatOfALeaseGrantDoesNotTakeASeat() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("inst-1", product: "viewer", way: .concurrentInstance, quantity: 1)])
        let first = try XCTUnwrap(assertGranted(h.call(code, client: "a", product: "viewer", requestId: "r", at: t)))
        XCTAssertEqual(h.call(code, client: "a", product: "viewer", requestId: "r", at: t + 1), .repeated(first))
        XCTAssertEqual(h.state.leases.count, 1)
    }

    func testRequestsArePrunedAfterRetention() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 100)])
        let first = try XCTUnwrap(assertGranted(h.call(code, client: "c1", kind: .report, requestId: "r1", at: t)))
        XCTAssertFalse(h.requests.needsExpiry(now: t + retention))
        var kept = h.requests
        kept.apply(.expire(at: t + retention))
        XCTAssertEqual(kept.count, 1, "exactly the retention old: kept")
        XCTAssertEqual(kept, h.requests)

        XCTAssertTrue(h.requests.needsExpiry(now: t + retention + 1))
        h.apply(.expire(at: t + retention + 1))
        XCTAssertEqual(h.requests.count, 0)
        XCTAssertFalse(h.requests.needsExpiry(now: t + retention + 1))
        // The same request ID is now a new grant.
        let second = try XCTUnwrap(assertGranted(h.call(code, client: "c1", kind: .report, requestId: "r1", at: t + retention + 2)))
        XCTAssertNotEqual(second.grantId, first.grantId)
        XCTAssertEqual(h.state.used("scan-1", now: t + retention + 2), 2)
    }

    func testPruningKeepsYoungerRequests() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 1_000_000)])
        let count = 1500
        var grants: [Grant] = []
        for i in 0..<count {
            grants.append(try XCTUnwrap(assertGranted(h.call(code, client: "c\(i % 3)", kind: .report, requestId: "r\(i)",
                                                             at: t + Int64(i)))))
        }
        XCTAssertEqual(h.requests.count, count)
        // Forget those granted before t + 1200.
        h.apply(.expire(at: t + 1200 + retention))
        XCTAssertEqual(h.requests.count, count - 1200)
        XCTAssertFalse(h.requests.needsExpiry(now: t + 1200 + retention))
        XCTAssertTrue(h.requests.needsExpiry(now: t + 1201 + retention))
        let now = t + 1200 + retention
        XCTAssertEqual(h.call(code, client: "c0", kind: .report, requestId: "r1200", at: now), .repeated(grants[1200]))
        XCTAssertEqual(h.call(code, client: "c2", kind: .report, requestId: "r1499", at: now), .repeated(grants[1499]))
        assertGranted(h.call(code, client: "c0", kind: .report, requestId: "r0", at: now))
        assertGranted(h.call(code, client: "c2", kind: .report, requestId: "r1199", at: now))

        // The rebuilt book agrees on which requests are remembered, and in which order.
        var rebuilt = RequestBook()
        for record in h.log { rebuilt.apply(record) }
        XCTAssertEqual(rebuilt, h.requests)

        // Later expiry forgets the rest, but not the two just granted.
        h.apply(.expire(at: now + retention))
        XCTAssertEqual(Set(h.requests.keys.map(\.requestId)), ["r0", "r1199"])
        XCTAssertTrue(h.requests.needsExpiry(now: now + retention + 1))
        h.apply(.expire(at: now + retention + 1))
        XCTAssertEqual(h.requests.count, 0)
        XCTAssertFalse(h.requests.needsExpiry(now: now + retention + 1))
    }
}
