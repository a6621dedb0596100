import LicenseState
import XCTest

/// `scan` items: each scan consumes one of `quantity`, 5 % more in grace.
final class ScanItemTests: XCTestCase {
    func testLimitWithGraceIsFivePercent() {
        XCTAssertEqual(scanItem(quantity: 100).limitWithGrace, 105)
        XCTAssertEqual(scanItem(quantity: 1000).limitWithGrace, 1050)
        // 5 % of 19 rounds down to 0.
        XCTAssertEqual(scanItem(quantity: 19).limitWithGrace, 19)
        XCTAssertEqual(scanItem(quantity: 20).limitWithGrace, 21)
    }

    func testHundredNormalThenFiveInGraceThenRefused() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 100)])
        let t = Fixture.now
        for i in 1...100 {
            assertGranted(h.call(code, client: "client-\(i % 7)", kind: .report, at: t + Int64(i)), grace: false, item: "scan-1",
                          "scan \(i)")
        }
        XCTAssertEqual(h.state.used("scan-1", now: t + 100), 100)
        for i in 101...105 {
            assertGranted(h.call(code, client: "client-\(i % 7)", kind: .report, at: t + Int64(i)), grace: true, item: "scan-1",
                          "scan \(i)")
        }
        XCTAssertEqual(h.state.used("scan-1", now: t + 105), 105)
        let before = h.state
        assertRefused(h.call(code, client: "client-0", kind: .report, at: t + 106), code: -20120, "scan 106")
        assertRefused(h.call(code, client: "client-0", kind: .authorize, at: t + 107), code: -20120, "authorize after 105")
        XCTAssertEqual(h.state, before, "a refusal changes nothing")
        XCTAssertEqual(h.state.used("scan-1", now: t + 107), 105)
        XCTAssertEqual(h.state.grantsTotal, 105)
    }

    func testRefusalNamesTheProduct() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", product: "barcode", quantity: 1)])
        assertGranted(h.call(code, client: "c", product: "barcode", at: Fixture.now))
        guard case .refused(let error) = h.call(code, client: "c", product: "barcode", at: Fixture.now) else {
            return XCTFail("expected a refusal")
        }
        XCTAssertEqual(error, .quotaExhausted("barcode"))
        XCTAssertEqual(error.status, 403)
    }

    func testCallWithThreeScansAtTheBoundary() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 100)])
        let t = Fixture.now
        assertGranted(h.call(code, client: "c", kind: .report, scans: 97, at: t), grace: false)
        // 97 + 3 = 100: exactly the quantity, not grace.
        let grant = assertGranted(h.call(code, client: "c", kind: .report, scans: 3, at: t + 1), grace: false)
        XCTAssertEqual(grant?.amount, 3)
        XCTAssertEqual(h.state.used("scan-1", now: t + 1), 100)
        // 100 + 3 = 103: grace.
        assertGranted(h.call(code, client: "c", kind: .report, scans: 3, at: t + 2), grace: true)
        // 103 + 3 = 106 > 105: refused, and nothing is consumed.
        assertRefused(h.call(code, client: "c", kind: .report, scans: 3, at: t + 3), code: -20120)
        XCTAssertEqual(h.state.used("scan-1", now: t + 3), 103)
        // 103 + 2 = 105: exactly the limit with grace.
        assertGranted(h.call(code, client: "c", kind: .report, scans: 2, at: t + 4), grace: true)
        assertRefused(h.call(code, client: "c", kind: .report, scans: 1, at: t + 5), code: -20120)
        XCTAssertEqual(h.state.used("scan-1", now: t + 5), 105)
    }

    func testCallCrossingTheQuantityIsGrace() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 100)])
        assertGranted(h.call(code, client: "c", kind: .report, scans: 98, at: Fixture.now), grace: false)
        // 98 + 3 = 101: part of it is beyond the quantity.
        assertGranted(h.call(code, client: "c", kind: .report, scans: 3, at: Fixture.now), grace: true)
        XCTAssertEqual(h.state.used("scan-1", now: Fixture.now), 101)
    }

    func testOneCallLargerThanTheGraceLimitIsRefused() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 100)])
        assertRefused(h.call(code, client: "c", kind: .report, scans: 106, at: Fixture.now), code: -20120)
        assertGranted(h.call(code, client: "c", kind: .report, scans: 105, at: Fixture.now), grace: true)
    }

    func testAuthorizeOnAScanItemConsumesToo() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 10)])
        let grant = assertGranted(h.call(code, client: "c", kind: .authorize, scans: 4, at: Fixture.now), grace: false)
        XCTAssertEqual(grant?.kind, .authorize)
        XCTAssertNil(grant?.leaseExpiresAt)
        XCTAssertNil(grant?.domain)
        XCTAssertEqual(h.state.used("scan-1", now: Fixture.now), 4)
    }

    func testReportDrawsOnlyOnScanItems() throws {
        var h = Harness()
        // The device item expires first, so it comes first in the default order.
        let code = try h.importItems([
            Fixture.item("dev-1", product: "reader", way: .device, quantity: 10, expiresAt: "2026-06-01T00:00:00Z"),
            Fixture.item("scan-1", product: "reader", way: .scan, quantity: 10),
        ])
        let t = Fixture.now
        assertGranted(h.call(code, client: "c1", product: "reader", kind: .authorize, at: t), item: "dev-1")
        assertGranted(h.call(code, client: "c1", product: "reader", kind: .report, at: t), item: "scan-1")
        let report = assertGranted(h.call(code, client: "c1", kind: .report, scans: 2, at: t), item: "scan-1")
        XCTAssertEqual(report?.kind, .report)
        XCTAssertEqual(h.state.used("scan-1", now: t), 3)
        XCTAssertEqual(h.state.used("dev-1", now: t), 1)
    }

    func testReportWithoutScanItemsFindsNoItem() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("dev-1", product: "reader", way: .device, quantity: 10)])
        guard case .refused(let error) = h.call(code, client: "c1", kind: .report, at: Fixture.now) else {
            return XCTFail("expected a refusal")
        }
        XCTAssertEqual(error.code, -20123)
        XCTAssertEqual(error, .noItem("scans"))
        XCTAssertEqual(h.state.used("dev-1", now: Fixture.now), 0)
    }

    func testExhaustedItemOverflowsToTheNextScanItem() throws {
        var h = Harness()
        let code = try h.importItems([
            Fixture.item("scan-first", quantity: 20, expiresAt: "2026-06-01T00:00:00Z"),
            Fixture.item("scan-second", quantity: 20),
        ])
        let t = Fixture.now
        // 20 + 1 (5 % of 20) on the first item.
        assertGranted(h.call(code, client: "c", kind: .report, scans: 21, at: t), grace: true, item: "scan-first")
        assertGranted(h.call(code, client: "c", kind: .report, scans: 1, at: t), grace: false, item: "scan-second")
        XCTAssertEqual(h.state.used("scan-first", now: t), 21)
        XCTAssertEqual(h.state.used("scan-second", now: t), 1)
    }

    private func scanItem(quantity: Int64) -> LicenseItem {
        LicenseItem(itemId: "s", product: "p", edition: nil, chargeWay: .scan, quantity: quantity, startsAt: 0, expiresAt: 1,
                    activeWindow: nil, leaseSeconds: LicenseItem.defaultLeaseSeconds)
    }
}
