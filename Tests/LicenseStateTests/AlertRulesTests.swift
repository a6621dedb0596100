import LicenseState
import XCTest

/// The alert rules: which thresholds are crossed, and that a check raises
/// each crossing once, in one email, and clears what no longer holds.
final class AlertRulesTests: XCTestCase {
    let t = Fixture.now
    let ops = ["ops@example.com"]

    /// Runs one check at `now` as the primary does: conditions, update, apply.
    @discardableResult
    func check(_ h: inout Harness, at now: Int64, cluster: AlertRules.ClusterFacts? = nil, recipients: [String]? = nil) -> AlertUpdate? {
        let conditions = AlertRules.conditions(h.state, cluster: cluster, standbyLagMinutes: 5, now: now)
        guard let update = AlertRules.update(h.state, conditions: conditions, recipients: recipients ?? ops) else { return nil }
        h.apply(.alerts(update, at: now))
        return update
    }

    func raisedUsage(_ update: AlertUpdate?) -> [String] { update?.raised.filter { $0.contains(":usage:") } ?? [] }

    func testCrossing60PercentSendsOneEmailOnce() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 10)])
        assertGranted(h.call(code, client: "a", kind: .report, scans: 5, at: t))
        XCTAssertEqual(raisedUsage(check(&h, at: t)), [], "50 % crosses nothing")

        assertGranted(h.call(code, client: "a", kind: .report, scans: 1, at: t + 1))
        let update = try XCTUnwrap(check(&h, at: t + 2))
        XCTAssertEqual(update.raised, ["item:scan-1:usage:60"])
        let email = try XCTUnwrap(update.email)
        XCTAssertEqual(email.subject, "[lts] scans (item scan-1) reached 60 % of its quantity")
        XCTAssertEqual(email.lines, ["scans (item scan-1): 6 of 10 used (60 %); alert at 60 %."])
        XCTAssertEqual(email.recipients, ops)
        XCTAssertEqual(h.state.alerts.emails.map(\.status), [.pending])
        XCTAssertEqual(h.state.alerts.alerted["item:scan-1:usage:60"], t + 2)

        assertGranted(h.call(code, client: "a", kind: .report, scans: 1, at: t + 3))
        XCTAssertNil(check(&h, at: t + 4), "still past 60 %, below 80 %: nothing new")
    }

    func testAnItemIsNamedByProductEditionAndTheStartOfItsID() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("3f2a1b9c-0d4e-4f60-8a7b-c1d2e3f40516", product: "dcv", quantity: 10, edition: "js"),
                                      Fixture.item("9e8d7c6b-0d4e-4f60-8a7b-c1d2e3f40516", product: "dcv", quantity: 10)])
        let items = h.state.items.values.map(\.item).sorted { $0.itemId < $1.itemId }
        XCTAssertEqual(items.map(\.displayName), ["dcv js (item 3f2a1b9c)", "dcv (item 9e8d7c6b)"])
        assertGranted(h.call(code, client: "a", kind: .report, scans: 6, at: t))
        let email = try XCTUnwrap(check(&h, at: t + 1)?.email)
        XCTAssertTrue(email.lines.contains("dcv js (item 3f2a1b9c): 6 of 10 used (60 %); alert at 60 %."), "\(email.lines)")
    }

    func testAJumpPastSeveralThresholdsListsThemInOneEmail() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 10)])
        assertGranted(h.call(code, client: "a", kind: .report, scans: 10, at: t))
        let update = try XCTUnwrap(check(&h, at: t))
        XCTAssertEqual(update.raised, ["item:scan-1:usage:60", "item:scan-1:usage:80", "item:scan-1:usage:100"])
        XCTAssertEqual(update.email?.lines.count, 3)
        XCTAssertEqual(update.email?.subject, "[lts] 3 alerts: scans (item scan-1) reached 60 % of its quantity, and 2 more")
        XCTAssertEqual(h.state.alerts.emails.count, 1)
    }

    func testNothingIsRaisedWithoutRecipientsAndEverythingOnceThereAreSome() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 10)])
        assertGranted(h.call(code, client: "a", kind: .report, scans: 8, at: t))
        XCTAssertNil(check(&h, at: t, recipients: []))
        XCTAssertTrue(h.state.alerts.alerted.isEmpty)
        XCTAssertEqual(raisedUsage(check(&h, at: t + 1)), ["item:scan-1:usage:60", "item:scan-1:usage:80"])
    }

    func testDayWindowDeviceItemsAlertAt100PercentOncePerDay() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("dev-1", product: "reader", way: .device, quantity: 2, activeWindow: "day")])
        let day = utc("2026-03-15T00:00:00Z")
        assertGranted(h.call(code, client: "a", product: "reader", at: day + 10))
        XCTAssertEqual(raisedUsage(check(&h, at: day + 11)), [], "50 %: day windows only alert at 100 %")
        assertGranted(h.call(code, client: "b", product: "reader", at: day + 12))
        XCTAssertEqual(raisedUsage(check(&h, at: day + 13)), ["item:dev-1:usage:100:window-\(day)"])

        let next = day + 86_400
        let cleared = try XCTUnwrap(check(&h, at: next + 1))
        XCTAssertEqual(cleared.cleared, ["item:dev-1:usage:100:window-\(day)"], "a new day starts from zero")
        assertGranted(h.call(code, client: "a", product: "reader", at: next + 2))
        assertGranted(h.call(code, client: "c", product: "reader", at: next + 3))
        XCTAssertEqual(raisedUsage(check(&h, at: next + 4)), ["item:dev-1:usage:100:window-\(next)"])
    }

    func testConcurrentUsageIsClearedWhenSeatsFreeAndRaisedAgain() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("inst-1", product: "viewer", way: .concurrentInstance, quantity: 1)])
        let lease = try XCTUnwrap(assertGranted(h.call(code, client: "a", product: "viewer", at: t)))
        XCTAssertEqual(raisedUsage(check(&h, at: t)), ["item:inst-1:usage:60", "item:inst-1:usage:80", "item:inst-1:usage:100"])
        h.release(lease.grantId, at: t + 1)
        XCTAssertEqual(check(&h, at: t + 2)?.cleared, ["item:inst-1:usage:100", "item:inst-1:usage:60", "item:inst-1:usage:80"])
        assertGranted(h.call(code, client: "b", product: "viewer", at: t + 3))
        XCTAssertEqual(raisedUsage(check(&h, at: t + 4)).count, 3)
    }

    func testOveruseOfAConcurrentItemCountsRefusalsForLackOfSeats() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("inst-1", product: "viewer", way: .concurrentInstance, quantity: 2)])
        assertGranted(h.call(code, client: "a", product: "viewer", at: t))
        assertGranted(h.call(code, client: "b", product: "viewer", at: t))
        let refused = ClientCall(handshakeCode: code, clientUUID: "c", product: "viewer")
        assertRefused(h.state.decide(refused, kind: .authorize, grantId: "x", now: t + 1, remembered: nil), code: -20120)
        XCTAssertEqual(h.state.fullConcurrentItems(for: refused, now: t + 1), ["inst-1"])
        h.apply(.tallyCalls(CallTally(refusedByCode: [code: 2], overuseByItem: ["inst-1": 2]), at: t + 60))
        let update = try XCTUnwrap(check(&h, at: t + 61))
        XCTAssertEqual(update.raised.filter { $0.contains("overuse") },
                       ["item:inst-1:overuse:60", "item:inst-1:overuse:80", "item:inst-1:overuse:100"], "2 of a tolerance of 2")
        XCTAssertEqual(check(&h, at: t + 60 + RecentCalls.windowSeconds + 60)?.cleared.filter { $0.contains("overuse") }.count, 3,
                       "an hour later the overuse has left the window")
    }

    func testFailureRateNeedsTenCallsAndCountsTalliedRefusals() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 1_000)])
        for index in 0..<8 { assertGranted(h.call(code, client: "c\(index)", kind: .report, at: t)) }
        h.apply(.tallyCalls(CallTally(refusedByCode: [code: 1]), at: t + 30))
        XCTAssertEqual(check(&h, at: t + 31)?.raised.filter { $0.hasPrefix("code:") } ?? [], [], "9 calls: too few to judge")
        h.apply(.tallyCalls(CallTally(refusedByCode: [code: 1]), at: t + 90))
        let update = try XCTUnwrap(check(&h, at: t + 91))
        XCTAssertEqual(update.raised.filter { $0.hasPrefix("code:") }, ["code:\(code):failures:10", "code:\(code):failures:20"],
                       "2 of 10 failed: 20 %")
        XCTAssertEqual(update.email?.lines.first { $0.hasPrefix("Handshake code") },
                       "Handshake code \(code): 2 of 10 calls in the last hour failed (20 %); alert at 10 % (from 10 calls).")
    }

    func testExpiryWarnings() throws {
        var h = Harness()
        let expiresAt = utc("2026-06-01T00:00:00Z")
        try h.importItems([Fixture.item("scan-1", quantity: 1_000, expiresAt: "2026-06-01T00:00:00Z")])
        func expiryKeys(_ update: AlertUpdate?) -> [String] { update?.raised.filter { $0.contains("expiry") } ?? [] }
        XCTAssertEqual(expiryKeys(check(&h, at: expiresAt - 30 * 86_400 - 1)), [])
        XCTAssertEqual(expiryKeys(check(&h, at: expiresAt - 30 * 86_400)), ["item:scan-1:expiry:30d"])
        XCTAssertEqual(expiryKeys(check(&h, at: expiresAt - 7 * 86_400)), ["item:scan-1:expiry:7d"])
        XCTAssertEqual(expiryKeys(check(&h, at: expiresAt)), [], "at the expiry time itself the item still works")
        XCTAssertEqual(expiryKeys(check(&h, at: expiresAt + 1)), ["item:scan-1:expiry:grace"])
    }

    func testClusterConditions() throws {
        var h = Harness()
        let facts = { (term: Int64?, since: Int64?) in AlertRules.ClusterFacts(takeoverTerm: term, nodeUUID: "node-b", standbyOutOfSyncSince: since) }
        XCTAssertNil(check(&h, at: t, cluster: facts(nil, nil)), "a primary since a cold start: no change to tell")
        XCTAssertNil(check(&h, at: t, cluster: facts(nil, t - 299)), "out of sync for less than 5 minutes")
        let lag = try XCTUnwrap(check(&h, at: t, cluster: facts(nil, t - 300)))
        XCTAssertEqual(lag.raised, ["cluster:standby-out-of-sync"])
        XCTAssertEqual(lag.email?.lines, ["The standby has been out of sync for 5 minutes; alert after 5 minutes out of sync."])
        XCTAssertEqual(check(&h, at: t + 1, cluster: facts(nil, nil))?.cleared, ["cluster:standby-out-of-sync"])

        let failover = try XCTUnwrap(check(&h, at: t + 2, cluster: facts(2, nil)))
        XCTAssertEqual(failover.raised, ["cluster:primary:term-2"])
        XCTAssertEqual(failover.email?.lines, ["Node node-b took over as the primary in term 2 (a failover or a switchover)."])
        XCTAssertNil(check(&h, at: t + 3, cluster: facts(2, nil)))
        let next = try XCTUnwrap(check(&h, at: t + 4, cluster: facts(3, nil)))
        XCTAssertEqual(next.raised, ["cluster:primary:term-3"])
        XCTAssertEqual(next.cleared, ["cluster:primary:term-2"])
    }

    func testAWitnessUnreachableForAMinuteIsAlerted() throws {
        var h = Harness()
        let facts = { (since: Int64?) in
            AlertRules.ClusterFacts(takeoverTerm: nil, nodeUUID: "node-a", standbyOutOfSyncSince: nil, witness: ("https://w:48090/", since))
        }
        XCTAssertNil(check(&h, at: t, cluster: facts(nil)))
        XCTAssertNil(check(&h, at: t, cluster: facts(t - 59)), "unanswered for less than a minute")
        let alert = try XCTUnwrap(check(&h, at: t, cluster: facts(t - 60)))
        XCTAssertEqual(alert.raised, ["cluster:witness-unreachable"])
        XCTAssertEqual(alert.email?.lines, ["The witness https://w:48090/ has not answered the primary for 60 s: the pair writes on the standby's acknowledgements and cannot fail over until it answers; alert after 60 s."])
        XCTAssertEqual(check(&h, at: t + 1, cluster: facts(nil))?.cleared, ["cluster:witness-unreachable"])
        let without = AlertRules.conditions(h.state, cluster: AlertRules.ClusterFacts(takeoverTerm: nil, nodeUUID: "n", standbyOutOfSyncSince: nil),
                                            standbyLagMinutes: 5, now: t)
        XCTAssertFalse(without.contains { $0.key == "cluster:witness-unreachable" }, "no witness, no condition")
    }

    func testAnOverrunFromReconciledGrantsIsAlerted() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 20)])
        // Two nodes granted the last scans apart; reconciliation applies both.
        for index in 0..<2 {
            h.apply(.grant(Grant(grantId: "g\(index)", kind: .report, requestId: nil, handshakeCode: code, clientUUID: "c", itemId: "scan-1",
                                 amount: 20, domain: nil, leaseExpiresAt: nil, grace: false, at: t)))
        }
        let update = try XCTUnwrap(check(&h, at: t + 1))
        XCTAssertTrue(update.raised.contains("item:scan-1:overrun"))
        XCTAssertTrue(update.email?.lines.contains("scans (item scan-1): 40 in use, 21 allowed with grace; alert when more are in use (reconciled grants after a failover can cause this).") ?? false)
    }

    // MARK: The alert book

    func testFailedDeliveriesBackOffThenGiveUp() throws {
        var h = Harness()
        let update = AlertUpdate(raised: ["k"], cleared: [], email: AlertUpdate.Email(subject: "s", lines: ["l"], recipients: ops, isTest: false))
        h.apply(.alerts(update, at: t))
        let id = try XCTUnwrap(h.state.alerts.emails.first?.id)
        XCTAssertEqual(h.state.alerts.dueEmail(now: t)?.id, id)
        var now = t
        var waits: [Int64] = []
        for _ in 0..<AlertEmail.attemptsMax {
            h.apply(.alertDelivery(emailId: id, error: "421 busy", at: now))
            guard let next = h.state.alerts.email(id)?.nextAttemptAt else { break }
            waits.append(next - now)
            XCTAssertNil(h.state.alerts.dueEmail(now: next - 1))
            XCTAssertEqual(h.state.alerts.dueEmail(now: next)?.id, id)
            now = next
        }
        XCTAssertEqual(waits, [30, 60, 120, 240, 480, 960, 1800], "doubling from 30 s, at most 30 minutes")
        let email = try XCTUnwrap(h.state.alerts.email(id))
        XCTAssertEqual(email.status, .failed)
        XCTAssertEqual(email.attempts, AlertEmail.attemptsMax)
        XCTAssertEqual(email.lastError, "421 busy")
        XCTAssertNil(h.state.alerts.dueEmail(now: now + 86_400))
        h.apply(.alertDelivery(emailId: id, error: nil, at: now + 1))
        XCTAssertEqual(h.state.alerts.email(id)?.status, .failed, "a given-up email stays given up")
    }

    func testATestEmailIsTriedOnceAndTheBookKeepsFiftyFinishedEmails() throws {
        var h = Harness()
        let test = AlertUpdate.Email(subject: "test", lines: [], recipients: ops, isTest: true)
        h.apply(.alerts(AlertUpdate(raised: [], cleared: [], email: test), at: t))
        h.apply(.alertDelivery(emailId: 1, error: "connection refused", at: t))
        XCTAssertEqual(h.state.alerts.email(1)?.status, .failed)

        let pending = AlertUpdate(raised: [], cleared: [], email: AlertUpdate.Email(subject: "p", lines: [], recipients: ops, isTest: false))
        h.apply(.alerts(pending, at: t))
        for index in 0..<60 {
            h.apply(.alerts(AlertUpdate(raised: [], cleared: [], email: test), at: t + Int64(index)))
            h.apply(.alertDelivery(emailId: h.state.alerts.nextEmailId - 1, error: nil, at: t + Int64(index)))
        }
        let emails = h.state.alerts.emails
        XCTAssertEqual(emails.filter { $0.status != .pending }.count, AlertBook.emailsKept)
        XCTAssertEqual(emails.first?.id, 2, "the pending email is kept however old")
        XCTAssertEqual(emails.last?.id, 62)
        XCTAssertEqual(emails.map(\.id), emails.map(\.id).sorted())
    }
}
