import LicenseState
import XCTest

/// The order in which a handshake code draws on its items, and the product filter.
final class ItemOrderTests: XCTestCase {
    private let t = Fixture.now

    /// Items listed in the file in an order unlike the default one.
    private func harness() throws -> (Harness, String) {
        var h = Harness()
        let code = try h.importItems([
            Fixture.item("late", quantity: 1, expiresAt: "2027-06-01T00:00:00Z"),
            Fixture.item("b-plain", quantity: 1, expiresAt: "2026-09-01T00:00:00Z"),
            Fixture.item("a-plain", quantity: 1, expiresAt: "2026-09-01T00:00:00Z"),
            Fixture.item("z-edition", quantity: 1, expiresAt: "2026-09-01T00:00:00Z", edition: "pro"),
            Fixture.item("soon", quantity: 1, expiresAt: "2026-06-01T00:00:00Z"),
        ])
        return (h, code)
    }

    func testImportKeepsTheFileOrderInTheHandshake() throws {
        let (h, code) = try harness()
        XCTAssertEqual(h.state.handshakes[code]?.items, ["late", "b-plain", "a-plain", "z-edition", "soon"])
        XCTAssertEqual(h.state.handshakes[code]?.explicitOrder, false)
    }

    func testDefaultOrderIsClosestExpiryThenEditionThenId() throws {
        let (h, code) = try harness()
        let handshake = try XCTUnwrap(h.state.handshakes[code])
        XCTAssertEqual(h.state.orderedItems(of: handshake).map(\.itemId), ["soon", "z-edition", "a-plain", "b-plain", "late"])
    }

    func testGrantsFollowTheDefaultOrder() throws {
        var (h, code) = try harness()
        for expected in ["soon", "z-edition", "a-plain", "b-plain", "late"] {
            assertGranted(h.call(code, client: "c", at: t), grace: false, item: expected)
        }
        assertRefused(h.call(code, client: "c", at: t), code: -20120)
    }

    func testExplicitOrderKeepsTheAdminsOrder() throws {
        var (h, code) = try harness()
        var handshake = try XCTUnwrap(h.state.handshakes[code])
        handshake.items = ["late", "b-plain", "soon"]
        handshake.explicitOrder = true
        assertSuccess(h.putHandshake(handshake, creating: false))
        XCTAssertEqual(h.state.orderedItems(of: try XCTUnwrap(h.state.handshakes[code])).map(\.itemId), ["late", "b-plain", "soon"])
        assertGranted(h.call(code, client: "c", at: t), item: "late")
        assertGranted(h.call(code, client: "c", at: t), item: "b-plain")
        assertGranted(h.call(code, client: "c", at: t), item: "soon")
        assertRefused(h.call(code, client: "c", at: t), code: -20120)
    }

    func testSameItemsWithoutExplicitOrderAreSorted() throws {
        var (h, code) = try harness()
        var handshake = try XCTUnwrap(h.state.handshakes[code])
        handshake.items = ["late", "b-plain", "soon"]
        handshake.explicitOrder = false
        assertSuccess(h.putHandshake(handshake, creating: false))
        XCTAssertEqual(h.state.orderedItems(of: try XCTUnwrap(h.state.handshakes[code])).map(\.itemId), ["soon", "b-plain", "late"])
    }

    func testProductFilter() throws {
        var h = Harness()
        let code = try h.importItems([
            Fixture.item("reader-1", product: "reader", quantity: 5, expiresAt: "2026-06-01T00:00:00Z"),
            Fixture.item("writer-1", product: "writer", quantity: 5),
        ])
        assertGranted(h.call(code, client: "c", product: "writer", at: t), item: "writer-1")
        assertGranted(h.call(code, client: "c", product: "reader", at: t), item: "reader-1")
        // Without a product, the first item in order.
        assertGranted(h.call(code, client: "c", product: nil, at: t), item: "reader-1")
        XCTAssertEqual(h.state.used("writer-1", now: t), 1)
        XCTAssertEqual(h.state.used("reader-1", now: t), 2)
    }

    func testProductFilterDoesNotOverflowToOtherProducts() throws {
        var h = Harness()
        let code = try h.importItems([
            Fixture.item("reader-1", product: "reader", quantity: 1),
            Fixture.item("writer-1", product: "writer", quantity: 100),
        ])
        assertGranted(h.call(code, client: "c", product: "reader", at: t), item: "reader-1")
        guard case .refused(let error) = h.call(code, client: "c", product: "reader", at: t) else { return XCTFail("expected a refusal") }
        XCTAssertEqual(error, .quotaExhausted("reader"))
    }

    func testUnknownProductFindsNoItem() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("reader-1", product: "reader", quantity: 5)])
        guard case .refused(let error) = h.call(code, client: "c", product: "painter", at: t) else { return XCTFail("expected a refusal") }
        XCTAssertEqual(error.code, -20123)
        XCTAssertEqual(error, .noItem("painter"))
        XCTAssertTrue(error.message.contains("painter"))
    }

    func testItemsOfOtherHandshakesAreNotDrawnOn() throws {
        var h = Harness()
        let first = try h.importItems([Fixture.item("scan-1", product: "scanner", quantity: 1)], licenseId: "L-1")
        let second = try h.importItems([Fixture.item("scan-2", product: "scanner", quantity: 1)], licenseId: "L-2")
        assertGranted(h.call(first, client: "c", product: "scanner", at: t), item: "scan-1")
        assertRefused(h.call(first, client: "c", product: "scanner", at: t), code: -20120)
        assertGranted(h.call(second, client: "c", product: "scanner", at: t), item: "scan-2")
    }
}
