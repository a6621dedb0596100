import LicenseState
import XCTest

/// The reconciliation policy: what a primary logs again from another node's
/// log after a failover, how two answers to one request are settled, and the
/// overrun it measures.
final class ReconciliationPolicyTests: XCTestCase {
    private let t = Fixture.now
    private let nothingKnown: (String) -> GrantStanding = { _ in .absent }

    private func grant(_ grantId: String, client: String = "c1", requestId: String? = nil, attempt: Int? = nil,
                       item: String = "scan-1", amount: Int64 = 1) -> Grant {
        Grant(grantId: grantId, kind: .report, requestId: requestId, handshakeCode: "acme-1", clientUUID: client, itemId: item,
              amount: amount, domain: nil, leaseExpiresAt: nil, grace: false, at: t, attempt: attempt)
    }

    /// A harness with a scan item of `quantity` under one code.
    private func scanHarness(quantity: Int = 100) throws -> (Harness, String) {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: quantity)])
        return (h, code)
    }

    /// Logs what reconciliation of `record` gives, as a primary does; returns it.
    @discardableResult
    private func reconcile(_ record: LogRecord, into h: inout Harness, known: Set<String> = [], voided: Set<String> = []) -> [LogRecord] {
        let records = h.reconciliation(of: record, grantStanding: { voided.contains($0) ? .voided : known.contains($0) ? .held : .absent })
        for record in records { h.apply(record) }
        return records
    }

    func testAGrantThisLogLacksIsLoggedAgainAndAKnownOneIsNot() {
        let state = LicenseState()
        XCTAssertEqual(state.reconciliation(of: .grant(grant("g-other")), remembered: nil, grantStanding: nothingKnown), [.grant(grant("g-other"))])
        XCTAssertEqual(state.reconciliation(of: .grant(grant("g-other")), remembered: nil, grantStanding: { $0 == "g-other" ? .held : .absent }), [])
    }

    func testWithoutAttemptsTheAnswerThisLogHoldsStays() throws {
        var (h, code) = try scanHarness()
        _ = try XCTUnwrap(assertGranted(h.call(code, client: "c1", kind: .report, requestId: "r1", at: t)))
        XCTAssertEqual(h.reconciliation(of: .grant(grant("g-peer", requestId: "r1")), grantStanding: nothingKnown), [])
        // The same request ID from another client is another request.
        let other = grant("g-peer", client: "c2", requestId: "r1")
        XCTAssertEqual(h.reconciliation(of: .grant(other), grantStanding: nothingKnown), [.grant(other)])
    }

    /// Issue 15, finding 2: the degraded main granted X to attempt 2; the new
    /// primary had granted Y to a late copy of attempt 1. The client holds X.
    func testAGrantToALaterAttemptVoidsTheGrantToAnEarlierOne() throws {
        var (h, code) = try scanHarness()
        let early = try XCTUnwrap(assertGranted(h.call(code, client: "c1", kind: .report, requestId: "r1", attempt: 1, at: t)))
        let held = grant("g-held", requestId: "r1", attempt: 2)
        XCTAssertEqual(reconcile(.grant(held), into: &h), [.voidGrant(early, at: held.at), .grant(held)])
        XCTAssertEqual(h.state.used("scan-1", now: t), 1, "the request is charged once")
        XCTAssertEqual(h.remembered(client: "c1", requestId: "r1"), held)
        let repeatCall = h.call(code, client: "c1", kind: .report, requestId: "r1", attempt: 2, at: t + 1)
        XCTAssertEqual(repeatCall, .repeated(held), "a repeat returns the grant the client holds")
        XCTAssertEqual(reconcile(.grant(held), into: &h, known: ["g-held"]), [], "reconciling it again changes nothing")
        // Seen from the other side: the grant to the earlier attempt is not logged there.
        var other = Harness()
        _ = try other.importItems([Fixture.item("scan-1", quantity: 100)])
        other.apply(.grant(held))
        XCTAssertEqual(reconcile(.grant(early), into: &other), [])
        XCTAssertEqual(other.state.used("scan-1", now: t), 1)
    }

    /// Issue 15, finding 3: a client told "refused" is never charged.
    func testARefusalToALaterAttemptTakesBackAGrantToAnEarlierOne() throws {
        var (h, code) = try scanHarness(quantity: 1)
        let early = try XCTUnwrap(assertGranted(h.call(code, client: "c1", kind: .report, requestId: "r1", attempt: 1, at: t)))
        let refusal = RequestRefusal(clientUUID: "c1", requestId: "r1", attempt: 2, error: .quotaExhausted("scans"), at: t)
        XCTAssertEqual(reconcile(.refusal(refusal), into: &h), [.voidGrant(early, at: t), .refusal(refusal)])
        XCTAssertEqual(h.state.used("scan-1", now: t), 0, "the refused request is not charged")
        XCTAssertEqual(h.call(code, client: "c1", kind: .report, requestId: "r1", attempt: 1, at: t + 1), .refused(refusal.error),
                       "a late copy of the abandoned attempt is refused too")
        // The node that refused keeps its refusal over the earlier attempt's grant.
        var refuser = Harness()
        _ = try refuser.importItems([Fixture.item("scan-1", quantity: 1)])
        _ = try XCTUnwrap(assertGranted(refuser.call(code, client: "c0", kind: .report, at: t)))
        guard case .refusedRetry(let logged) = refuser.call(code, client: "c1", kind: .report, requestId: "r1", attempt: 2, at: t) else {
            return XCTFail("a refused retry is logged")
        }
        XCTAssertEqual(logged, refusal)
        XCTAssertEqual(reconcile(.grant(early), into: &refuser), [])
        XCTAssertEqual(refuser.state.used("scan-1", now: t), 1)
    }

    /// A truncation can cut a void from the answer that followed it: when
    /// that answer comes back, the grant is not voided a second time (its
    /// charge was given back once).
    func testAVoidWhoseAnswerWasCutIsNotLoggedAgain() throws {
        var (h, code) = try scanHarness(quantity: 5)
        let early = try XCTUnwrap(assertGranted(h.call(code, client: "c1", kind: .report, requestId: "r1", attempt: 1, at: t)))
        h.apply(.voidGrant(early, at: t))
        XCTAssertEqual(h.state.used("scan-1", now: t), 0)
        let refusal = RequestRefusal(clientUUID: "c1", requestId: "r1", attempt: 2, error: .quotaExhausted("scans"), at: t)
        XCTAssertEqual(reconcile(.refusal(refusal), into: &h, known: [early.grantId], voided: [early.grantId]), [.refusal(refusal)])
        XCTAssertEqual(h.state.used("scan-1", now: t), 0, "the charge was given back once")
        var other = Harness()
        _ = try other.importItems([Fixture.item("scan-1", quantity: 5)])
        other.apply(.grant(early))
        other.apply(.voidGrant(early, at: t))
        let held = grant("g-held", requestId: "r1", attempt: 2)
        XCTAssertEqual(reconcile(.grant(held), into: &other, known: [early.grantId], voided: [early.grantId]), [.grant(held)])
        XCTAssertEqual(other.state.used("scan-1", now: t), 1)
    }

    /// Simulation seed 4068: a flapping link, a client whose attempts
    /// alternate between the nodes. This log voided X (attempt 1) for Y
    /// (attempt 2); the other node, which never learned of Y, answered
    /// attempt 5 with X again, and the client took that. X is live again.
    func testAVoidedGrantThatAnswersTheLastAttemptIsLiveAgain() throws {
        var (h, code) = try scanHarness()
        let x = try XCTUnwrap(assertGranted(h.call(code, client: "c1", kind: .report, requestId: "r1", attempt: 1, at: t)))
        let y = grant("g-y", requestId: "r1", attempt: 2)
        XCTAssertEqual(reconcile(.grant(y), into: &h), [.voidGrant(x, at: y.at), .grant(y)])
        var xAgain = x
        xAgain.attempt = 5
        let records = reconcile(.grantAnsweredAgain(xAgain, at: t + 5), into: &h, known: [x.grantId, y.grantId], voided: [x.grantId])
        XCTAssertEqual(records, [.voidGrant(y, at: xAgain.at), .grant(xAgain)])
        XCTAssertEqual(h.state.used("scan-1", now: t), 1, "the request is charged once, for X")
        XCTAssertEqual(h.remembered(client: "c1", requestId: "r1"), xAgain, "a repeat returns X")
        XCTAssertEqual(reconcile(.grantAnsweredAgain(xAgain, at: t + 5), into: &h, known: [x.grantId, y.grantId], voided: [y.grantId]), [],
                       "reconciling it again changes nothing")
    }

    /// A void cut from what followed it leaves the grant voided while it is
    /// still the answer here: the same grant answering a later attempt is
    /// live again.
    func testAVoidedGrantStillTheAnswerHereIsLiveAgainForALaterAttempt() throws {
        var (h, code) = try scanHarness()
        let x = try XCTUnwrap(assertGranted(h.call(code, client: "c1", kind: .report, requestId: "r1", attempt: 1, at: t)))
        h.apply(.voidGrant(x, at: t))
        var xAgain = x
        xAgain.attempt = 3
        XCTAssertEqual(reconcile(.grantAnsweredAgain(xAgain, at: t + 3), into: &h, known: [x.grantId], voided: [x.grantId]), [.grant(xAgain)])
        XCTAssertEqual(h.state.used("scan-1", now: t), 1)
    }

    func testAGrantToALaterAttemptThanARefusalIsCharged() throws {
        var (h, code) = try scanHarness(quantity: 1)
        _ = try XCTUnwrap(assertGranted(h.call(code, client: "c0", kind: .report, at: t)))
        guard case .refusedRetry = h.call(code, client: "c1", kind: .report, requestId: "r1", attempt: 2, at: t) else {
            return XCTFail("a refused retry is logged")
        }
        let held = grant("g-held", requestId: "r1", attempt: 3)
        XCTAssertEqual(reconcile(.grant(held), into: &h), [.grant(held)])
        XCTAssertEqual(h.remembered(client: "c1", requestId: "r1"), held)
        XCTAssertEqual(h.state.used("scan-1", now: t), 2, "both grants are held: the overrun is reported, not hidden")
    }

    func testAGrantAnsweredAgainToALaterAttemptKeepsItsCharge() throws {
        var (h, code) = try scanHarness()
        let first = try XCTUnwrap(assertGranted(h.call(code, client: "c1", kind: .report, requestId: "r1", attempt: 1, at: t)))
        var again = first
        again.attempt = 3
        XCTAssertEqual(h.call(code, client: "c1", kind: .report, requestId: "r1", attempt: 3, at: t + 1), .repeatedToLaterAttempt(again))
        XCTAssertEqual(h.state.used("scan-1", now: t), 1)
        // The other node granted attempt 2 meanwhile: the client took the answer to attempt 3.
        var other = Harness()
        _ = try other.importItems([Fixture.item("scan-1", quantity: 100)])
        let second = grant("g-second", requestId: "r1", attempt: 2)
        other.apply(.grant(second))
        XCTAssertEqual(reconcile(.grant(first), into: &other), [], "attempt 1 lost to attempt 2")
        XCTAssertEqual(reconcile(.grantAnsweredAgain(again, at: t + 1), into: &other), [.voidGrant(second, at: again.at), .grant(again)])
        XCTAssertEqual(other.remembered(client: "c1", requestId: "r1"), again)
        XCTAssertEqual(other.state.used("scan-1", now: t), 1)
    }

    func testAVoidedLeaseEndsAndItsSeatIsFree() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("seat", way: .concurrentInstance, quantity: 1, leaseSeconds: 180)])
        let early = try XCTUnwrap(assertGranted(h.call(code, client: "c1", requestId: "r1", attempt: 1, at: t)))
        var held = early
        held.grantId = "g-held"
        held.attempt = 2
        XCTAssertEqual(reconcile(.grant(held), into: &h), [.voidGrant(early, at: t), .grant(held)])
        XCTAssertNil(h.state.leases[early.grantId])
        XCTAssertNotNil(h.state.leases["g-held"])
        XCTAssertEqual(h.state.used("seat", now: t), 1)
        XCTAssertNotNil(try? h.heartbeat("g-held", at: t + 10).get())
        XCTAssertNil(try? h.heartbeat(early.grantId, at: t + 10).get())
    }

    func testALicenseIsImportedAgainOnlyWhenThisLogLacksIt() throws {
        var h = Harness()
        let bytes = Fixture.licenseBytes(licenseId: "L-1", items: [Fixture.item("scan-1")])
        let other = Fixture.licenseBytes(licenseId: "L-2", items: [Fixture.item("scan-2")])
        try h.importLicense(bytes)
        let known = LogRecord.importLicense(file: bytes, handshakeCode: "acme-x", at: t)
        let new = LogRecord.importLicense(file: other, handshakeCode: "acme-y", at: t)
        let broken = LogRecord.importLicense(file: Array("not json".utf8), handshakeCode: "acme-z", at: t)
        XCTAssertEqual(h.reconciliation(of: known, grantStanding: nothingKnown), [])
        XCTAssertEqual(h.reconciliation(of: new, grantStanding: nothingKnown), [new])
        XCTAssertEqual(h.reconciliation(of: broken, grantStanding: nothingKnown), [])
    }

    func testLeasesAreRenewedOnlyFurtherAndReleasedOnlyWhileHeld() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("seat", way: .concurrentInstance, quantity: 2, leaseSeconds: 180)])
        let lease = try XCTUnwrap(assertGranted(h.call(code, client: "c1", at: t)))
        let expiresAt = try XCTUnwrap(h.state.leases[lease.grantId]?.expiresAt)
        for (record, logged) in [(LogRecord.renewLease(grantId: lease.grantId, expiresAt: expiresAt + 60, at: t), true),
                                 (.renewLease(grantId: lease.grantId, expiresAt: expiresAt, at: t), false),
                                 (.releaseLease(grantId: lease.grantId, at: t), true),
                                 (.releaseLease(grantId: "never-held", at: t), false)] {
            XCTAssertEqual(h.reconciliation(of: record, grantStanding: nothingKnown), logged ? [record] : [], "\(record)")
        }
    }

    func testRecordsThatFollowThisNodeAreNeverReplayed() {
        let state = LicenseState()
        for record: LogRecord in [.expire(at: t), .setAdminPassword(Fixture.password(1), at: t), .voidGrant(grant("g-1"), at: t)] {
            XCTAssertEqual(state.reconciliation(of: record, remembered: nil, grantStanding: nothingKnown), [], "\(record)")
        }
        let delete = LogRecord.deleteHandshake(code: "acme-1", at: t)
        XCTAssertEqual(state.reconciliation(of: delete, remembered: nil, grantStanding: nothingKnown), [delete])
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
