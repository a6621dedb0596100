import LicenseState
import XCTest

/// `domain` items: distinct web domains, compared case-insensitively, no grace.
final class DomainItemTests: XCTestCase {
    private let t = Fixture.now

    func testDistinctDomainsAreCountedCaseInsensitively() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("dom-1", product: "web", way: .domain, quantity: 2)])
        let first = assertGranted(h.call(code, client: "c1", product: "web", domain: "A.Example.com", at: t), grace: false)
        XCTAssertEqual(first?.domain, "a.example.com", "the counted domain is lower-cased")
        XCTAssertNil(first?.leaseExpiresAt)
        assertGranted(h.call(code, client: "c2", product: "web", domain: "a.example.COM", at: t), grace: false)
        XCTAssertEqual(h.state.used("dom-1", now: t), 1)
        assertGranted(h.call(code, client: "c3", product: "web", domain: "b.example.com", at: t), grace: false)
        XCTAssertEqual(h.state.used("dom-1", now: t), 2)
        XCTAssertEqual(h.state.items["dom-1"]?.domains, ["a.example.com", "b.example.com"])
        assertRefused(h.call(code, client: "c4", product: "web", domain: "c.example.com", at: t), code: -20120)
        // Known domains still come in when the item is full.
        assertGranted(h.call(code, client: "c5", product: "web", domain: "B.EXAMPLE.COM", at: t), grace: false)
        XCTAssertEqual(h.state.used("dom-1", now: t), 2)
    }

    func testDomainsAreNotPerWindowOrLease() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("dom-1", product: "web", way: .domain, quantity: 1)])
        assertGranted(h.call(code, client: "c1", product: "web", domain: "a.example.com", at: t))
        // Months later the domain still counts.
        assertRefused(h.call(code, client: "c1", product: "web", domain: "b.example.com", at: utc("2026-11-30T00:00:00Z")),
                      code: -20120)
        h.apply(.expire(at: utc("2026-11-30T00:00:00Z")))
        XCTAssertEqual(h.state.used("dom-1", now: utc("2026-11-30T00:00:00Z")), 1)
    }

    func testMissingDomainIsABadRequest() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("dom-1", product: "web", way: .domain, quantity: 2)])
        let before = h.state
        guard case .refused(let error) = h.call(code, client: "c1", product: "web", domain: nil, at: t) else {
            return XCTFail("expected a refusal")
        }
        XCTAssertEqual(error.code, -20001)
        XCTAssertEqual(error.status, 400)
        assertRefused(h.call(code, client: "c1", product: "web", domain: "", at: t), code: -20001)
        XCTAssertEqual(h.state, before)
    }

    func testDomainItemHasNoGrace() {
        let item = LicenseItem(itemId: "d", product: "web", edition: nil, chargeWay: .domain, quantity: 100, startsAt: 0, expiresAt: 1,
                               activeWindow: nil, leaseSeconds: 180)
        XCTAssertEqual(item.limitWithGrace, 100)
    }
}
