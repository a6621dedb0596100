import LicenseState
import XCTest

/// Item validity: `startsAt`, `expiresAt` and the 7-day grace after it.
final class ItemTimeTests: XCTestCase {
    private let expiry = utc("2026-06-01T00:00:00Z")

    private func harness(startsAt: String = "2026-01-01T00:00:00Z") throws -> (Harness, String) {
        var h = Harness()
        let code = try h.importItems([
            Fixture.item("scan-1", product: "scanner", quantity: 100, startsAt: startsAt, expiresAt: "2026-06-01T00:00:00Z"),
        ])
        return (h, code)
    }

    func testGraceIsSevenDays() {
        XCTAssertEqual(LicenseItem.graceSeconds, 7 * 86_400)
    }

    func testNotYetValid() throws {
        var (h, code) = try harness(startsAt: "2026-04-01T00:00:00Z")
        guard case .refused(let error) = h.call(code, client: "c", product: "scanner", at: utc("2026-03-31T23:59:59Z")) else {
            return XCTFail("expected a refusal")
        }
        XCTAssertEqual(error, .notYetValid("scanner"))
        XCTAssertEqual(error.code, -20122)
        assertGranted(h.call(code, client: "c", product: "scanner", at: utc("2026-04-01T00:00:00Z")), grace: false)
    }

    func testAtExpiryIsStillNormal() throws {
        var (h, code) = try harness()
        assertGranted(h.call(code, client: "c", product: "scanner", at: expiry), grace: false)
        assertGranted(h.call(code, client: "c", product: "scanner", at: expiry + 1), grace: true)
    }

    func testWithinSevenDaysAfterExpiryIsGrace() throws {
        var (h, code) = try harness()
        assertGranted(h.call(code, client: "c", product: "scanner", at: expiry + 3 * 86_400), grace: true)
        assertGranted(h.call(code, client: "c", product: "scanner", at: expiry + LicenseItem.graceSeconds), grace: true)
        XCTAssertEqual(h.state.used("scan-1", now: expiry), 2)
    }

    func testAfterGraceIsExpired() throws {
        var (h, code) = try harness()
        let before = h.state
        guard case .refused(let error) = h.call(code, client: "c", product: "scanner", at: expiry + LicenseItem.graceSeconds + 1) else {
            return XCTFail("expected a refusal")
        }
        XCTAssertEqual(error, .expired("scanner"))
        XCTAssertEqual(error.code, -20121)
        XCTAssertEqual(h.state, before)
    }

    func testExhaustedAndExpiredItemsAnswerQuotaExhausted() throws {
        var h = Harness()
        let code = try h.importItems([
            Fixture.item("old", product: "scanner", quantity: 100, expiresAt: "2026-02-01T00:00:00Z"),
            Fixture.item("full", product: "scanner", quantity: 1, expiresAt: "2027-01-01T00:00:00Z"),
        ])
        let t = Fixture.now // 2026-03-15, long past old's grace
        assertGranted(h.call(code, client: "c", product: "scanner", at: t), item: "full")
        assertRefused(h.call(code, client: "c", product: "scanner", at: t), code: -20120)
    }

    func testExpiredAndNotYetValidItemsAnswerExpired() throws {
        var h = Harness()
        let code = try h.importItems([
            Fixture.item("old", product: "scanner", quantity: 100, expiresAt: "2026-02-01T00:00:00Z"),
            Fixture.item("future", product: "scanner", quantity: 100, startsAt: "2026-06-01T00:00:00Z"),
        ])
        assertRefused(h.call(code, client: "c", product: "scanner", at: Fixture.now), code: -20121)
        assertGranted(h.call(code, client: "c", product: "scanner", at: utc("2026-06-01T00:00:00Z")), item: "future")
    }

    func testExpiredItemIsSkippedForAValidOne() throws {
        var h = Harness()
        let code = try h.importItems([
            Fixture.item("old", product: "scanner", quantity: 100, expiresAt: "2026-02-01T00:00:00Z"),
            Fixture.item("new", product: "scanner", quantity: 100, expiresAt: "2027-01-01T00:00:00Z"),
        ])
        assertGranted(h.call(code, client: "c", product: "scanner", at: Fixture.now), grace: false, item: "new")
    }

    func testGraceAfterExpiryAppliesToEveryChargeWay() throws {
        var h = Harness()
        let code = try h.importItems([
            Fixture.item("dev", product: "reader", way: .device, quantity: 5, expiresAt: "2026-06-01T00:00:00Z"),
            Fixture.item("inst", product: "viewer", way: .concurrentInstance, quantity: 5, expiresAt: "2026-06-01T00:00:00Z"),
            Fixture.item("dom", product: "web", way: .domain, quantity: 5, expiresAt: "2026-06-01T00:00:00Z"),
        ])
        let t = expiry + 86_400
        assertGranted(h.call(code, client: "c", product: "reader", at: t), grace: true, item: "dev")
        assertGranted(h.call(code, client: "c", product: "viewer", at: t), grace: true, item: "inst")
        assertGranted(h.call(code, client: "c", product: "web", domain: "a.example.com", at: t), grace: true, item: "dom")
        let late = expiry + LicenseItem.graceSeconds + 1
        assertRefused(h.call(code, client: "c", product: "reader", at: late), code: -20121)
        assertRefused(h.call(code, client: "c", product: "viewer", at: late), code: -20121)
        assertRefused(h.call(code, client: "c", product: "web", domain: "a.example.com", at: late), code: -20121)
    }
}
