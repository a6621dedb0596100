import LicenseState
import XCTest

/// Each item's use split by the handshake code that brought it
/// (`LicenseState.usedByCode`, `CodeUsage`): two codes share each item, and
/// after every grant, void, release, expiry and reconciled answer the codes'
/// figures are what each code brought and add up to the item's `used`.
final class CodeUsageTests: XCTestCase {
    private let t = Fixture.now

    /// A harness whose items are drawn on by the import's code `acme-1` and by `acme-2`.
    private func twoCodes(_ items: [[String: Any]]) throws -> Harness {
        var h = Harness()
        let code = try h.importItems(items)
        XCTAssertEqual(code, "acme-1")
        let ids = items.map { $0["itemId"] as! String }
        assertSuccess(h.putHandshake(Handshake(code: "acme-2", organizationId: "acme", items: ids), creating: true))
        return h
    }

    /// Asserts the split of `itemId` at `now` and that it adds up to the item's `used`.
    private func assertSplit(_ h: Harness, _ itemId: String, at now: Int64, _ byCode: [String: Int64], unattributed: Int64 = 0,
                             _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
        let split = h.state.usedByCode(itemId, now: now)
        XCTAssertEqual(split.byCode, byCode, "per code. \(message)", file: file, line: line)
        XCTAssertEqual(split.unattributed, unattributed, "unattributed. \(message)", file: file, line: line)
        XCTAssertEqual(split.total, h.state.used(itemId, now: now), "the split adds up to used. \(message)", file: file, line: line)
    }

    func testScansCountUnderTheirCodeAndAVoidGivesBackFromIt() throws {
        var h = try twoCodes([Fixture.item("scan-1", quantity: 100)])
        assertSplit(h, "scan-1", at: t, [:], "nothing used yet")
        let first = try XCTUnwrap(assertGranted(h.call("acme-1", client: "c1", kind: .report, scans: 3, at: t)))
        let second = try XCTUnwrap(assertGranted(h.call("acme-2", client: "c1", kind: .report, scans: 5, at: t + 1)))
        assertGranted(h.call("acme-2", client: "c2", kind: .report, scans: 2, at: t + 2))
        assertSplit(h, "scan-1", at: t + 2, ["acme-1": 3, "acme-2": 7])
        h.apply(.voidGrant(second, at: t + 3))
        assertSplit(h, "scan-1", at: t + 3, ["acme-1": 3, "acme-2": 2], "the void gave back acme-2's 5 scans")
        h.apply(.voidGrant(first, at: t + 4))
        assertSplit(h, "scan-1", at: t + 4, ["acme-2": 2], "a code with nothing left is not listed")
        // A deleted code's scans still count: they are part of the item's use.
        assertSuccess(h.deleteHandshake("acme-2"))
        assertSplit(h, "scan-1", at: t + 5, ["acme-2": 2])
        XCTAssertEqual(h.rebuilt(), h.state, "the split is a function of the log")
    }

    /// A grant voided twice (no policy logs that) takes back what no code
    /// holds any more from the others, so the sums stay exact.
    func testAVoidBeyondItsCodeTakesFromTheOtherCodes() throws {
        var h = try twoCodes([Fixture.item("scan-1", quantity: 100)])
        let first = try XCTUnwrap(assertGranted(h.call("acme-1", client: "c1", kind: .report, scans: 4, at: t)))
        assertGranted(h.call("acme-2", client: "c1", kind: .report, scans: 5, at: t))
        h.apply(.voidGrant(first, at: t))
        h.apply(.voidGrant(first, at: t))
        XCTAssertEqual(h.state.used("scan-1", now: t), 1)
        assertSplit(h, "scan-1", at: t, ["acme-2": 1])
        h.apply(.voidGrant(first, at: t))
        assertSplit(h, "scan-1", at: t, [:], "used cannot go below 0, nor can a code")
    }

    func testADeviceCountsUnderTheCodeThatRegisteredItFirstInTheWindow() throws {
        var h = try twoCodes([Fixture.item("dev-1", product: "reader", way: .device, quantity: 10, activeWindow: "day")])
        assertGranted(h.call("acme-1", client: "a", at: t))
        assertGranted(h.call("acme-2", client: "a", at: t + 10))
        assertGranted(h.call("acme-2", client: "b", at: t + 20))
        assertGranted(h.call("acme-2", client: "c", at: t + 30))
        assertSplit(h, "dev-1", at: t + 30, ["acme-1": 1, "acme-2": 2], "device a stays with acme-1")
        // A void leaves a device counted (another grant may hold it): so does its code.
        let again = try XCTUnwrap(assertGranted(h.call("acme-1", client: "b", at: t + 40)))
        h.apply(.voidGrant(again, at: t + 41))
        assertSplit(h, "dev-1", at: t + 41, ["acme-1": 1, "acme-2": 2])
        // The next day is a new window: no device counts until one calls, under its code then.
        let nextDay = ActiveWindow.day.start(containing: t) + 86_400
        assertSplit(h, "dev-1", at: nextDay, [:], "a past window counts nothing")
        assertGranted(h.call("acme-2", client: "a", at: nextDay + 5))
        assertSplit(h, "dev-1", at: nextDay + 5, ["acme-2": 1], "device a is acme-2's in the new window")
        XCTAssertEqual(h.rebuilt(), h.state)
    }

    func testADomainCountsUnderTheCodeThatBroughtItFirst() throws {
        var h = try twoCodes([Fixture.item("dom-1", product: "web", way: .domain, quantity: 5)])
        assertGranted(h.call("acme-2", client: "a", domain: "a.example.com", at: t))
        assertGranted(h.call("acme-1", client: "b", domain: "A.Example.com", at: t + 1))
        assertGranted(h.call("acme-1", client: "b", domain: "b.example.com", at: t + 2))
        assertSplit(h, "dom-1", at: t + 2, ["acme-1": 1, "acme-2": 1], "a.example.com stays with acme-2, whatever its case")
    }

    func testLeasesCountUnderTheirCodeUntilReleasedVoidedOrExpired() throws {
        var h = try twoCodes([Fixture.item("inst-1", product: "viewer", way: .concurrentInstance, quantity: 5, leaseSeconds: 60)])
        let a = try XCTUnwrap(assertGranted(h.call("acme-1", client: "a", at: t)))
        let b = try XCTUnwrap(assertGranted(h.call("acme-2", client: "a", at: t + 10)))
        assertGranted(h.call("acme-2", client: "b", at: t + 20))
        assertSplit(h, "inst-1", at: t + 20, ["acme-1": 1, "acme-2": 2])
        assertSuccess(h.release(b.grantId, at: t + 30))
        assertSplit(h, "inst-1", at: t + 30, ["acme-1": 1, "acme-2": 1], "a release frees its code's seat")
        h.apply(.voidGrant(a, at: t + 31))
        assertSplit(h, "inst-1", at: t + 31, ["acme-2": 1], "a void ends its code's lease")
        assertSplit(h, "inst-1", at: t + 80, [:], "a lease past its end counts for no code, expire record or not")
        h.apply(.expire(at: t + 80))
        assertSplit(h, "inst-1", at: t + 80, [:])
    }

    func testADeviceLeasingUnderTwoCodesCountsUnderTheFirstInCodeOrder() throws {
        var h = try twoCodes([Fixture.item("cdev-1", product: "editor", way: .concurrentDevice, quantity: 5, leaseSeconds: 60)])
        let late = try XCTUnwrap(assertGranted(h.call("acme-2", client: "a", at: t)))
        let early = try XCTUnwrap(assertGranted(h.call("acme-1", client: "a", at: t + 10)))
        assertGranted(h.call("acme-2", client: "b", at: t + 20))
        XCTAssertEqual(h.state.used("cdev-1", now: t + 20), 2)
        assertSplit(h, "cdev-1", at: t + 20, ["acme-1": 1, "acme-2": 1], "device a counts once, under acme-1")
        assertSuccess(h.release(early.grantId, at: t + 30))
        assertSplit(h, "cdev-1", at: t + 30, ["acme-2": 2], "device a now leases under acme-2 only")
        assertSplit(h, "cdev-1", at: late.leaseExpiresAt!, ["acme-2": 1])
    }

    /// A reconciled answer that replaces one of this log's (a void, then
    /// the other node's grant) moves the charge to the other grant's code.
    func testAReconciledGrantToALaterAttemptMovesTheChargeToItsCode() throws {
        var h = try twoCodes([Fixture.item("scan-1", quantity: 100)])
        let early = try XCTUnwrap(assertGranted(h.call("acme-1", client: "c1", kind: .report, requestId: "r1", attempt: 1, scans: 3, at: t)))
        var held = early
        held.grantId = "g-held"
        held.handshakeCode = "acme-2"
        held.attempt = 2
        let records = h.reconciliation(of: .grant(held), grantStanding: { _ in .absent })
        XCTAssertEqual(records, [.voidGrant(early, at: held.at), .grant(held)])
        for record in records { h.apply(record) }
        assertSplit(h, "scan-1", at: t, ["acme-2": 3])
    }

    /// The API's question: what one code uses of an item, beside its total.
    func testTwoCodesOnOneItemUseDifferentShares() throws {
        var h = try twoCodes([Fixture.item("scan-1", quantity: 100)])
        for scans: Int64 in [2, 4] { assertGranted(h.call("acme-1", client: "c", kind: .report, scans: scans, at: t)) }
        assertGranted(h.call("acme-2", client: "c", kind: .report, scans: 1, at: t))
        let split = h.state.usedByCode("scan-1", now: t)
        XCTAssertEqual(split.byCode["acme-1"], 6)
        XCTAssertEqual(split.byCode["acme-2"], 1)
        XCTAssertNil(split.byCode["acme-3"], "a code that brought nothing has no entry")
        XCTAssertEqual(h.state.used("scan-1", now: t), 7)
        XCTAssertEqual(h.state.usedByCode("no-such-item", now: t), CodeUsage.Split())
    }
}
