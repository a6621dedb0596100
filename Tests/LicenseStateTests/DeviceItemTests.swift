import LicenseState
import XCTest

/// `device` items: distinct devices within the active window, 10 % more in grace.
final class DeviceItemTests: XCTestCase {
    func testTenDevicesNormalEleventhGraceTwelfthRefused() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("dev-1", product: "reader", way: .device, quantity: 10, activeWindow: "month")])
        let t = utc("2026-03-02T00:00:00Z")
        for i in 1...10 {
            assertGranted(h.call(code, client: "device-\(i)", product: "reader", at: t + Int64(i) * 3600), grace: false,
                          item: "dev-1", "device \(i)")
        }
        XCTAssertEqual(h.state.used("dev-1", now: t + 11 * 3600), 10)
        assertGranted(h.call(code, client: "device-11", product: "reader", at: t + 11 * 3600), grace: true, "device 11")
        XCTAssertEqual(h.state.used("dev-1", now: t + 11 * 3600), 11)
        assertRefused(h.call(code, client: "device-12", product: "reader", at: t + 12 * 3600), code: -20120, "device 12")
        XCTAssertEqual(h.state.used("dev-1", now: t + 12 * 3600), 11)
        XCTAssertEqual(h.state.items["dev-1"]?.devices.count, 11)
    }

    func testLimitWithGraceIsTenPercentRoundedDown() {
        func item(_ quantity: Int64) -> LicenseItem {
            LicenseItem(itemId: "d", product: "p", edition: nil, chargeWay: .device, quantity: quantity, startsAt: 0, expiresAt: 1,
                        activeWindow: .month, leaseSeconds: 180)
        }
        XCTAssertEqual(item(10).limitWithGrace, 11)
        XCTAssertEqual(item(9).limitWithGrace, 9)
        XCTAssertEqual(item(25).limitWithGrace, 27)
    }

    func testSameDeviceInTheWindowIsGrantedWithoutCounting() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("dev-1", product: "reader", way: .device, quantity: 10)])
        let t = utc("2026-03-02T00:00:00Z")
        for i in 1...10 { assertGranted(h.call(code, client: "device-\(i)", product: "reader", at: t), grace: false) }
        // device-1 again, later in the same month: granted, no grace, not counted.
        assertGranted(h.call(code, client: "device-1", product: "reader", at: utc("2026-03-31T23:59:59Z")), grace: false)
        XCTAssertEqual(h.state.used("dev-1", now: utc("2026-03-31T23:59:59Z")), 10)
        assertGranted(h.call(code, client: "device-11", product: "reader", at: t), grace: true)
        // Full with grace: a known device still gets in, a new one does not.
        assertGranted(h.call(code, client: "device-5", product: "reader", at: t))
        assertGranted(h.call(code, client: "device-11", product: "reader", at: t))
        assertRefused(h.call(code, client: "device-12", product: "reader", at: t), code: -20120)
        XCTAssertEqual(h.state.used("dev-1", now: t), 11)
        XCTAssertEqual(h.state.grantsTotal, 14)
    }

    func testNextMonthResetsTheCount() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("dev-1", product: "reader", way: .device, quantity: 10, activeWindow: "month")])
        let march = utc("2026-03-10T00:00:00Z")
        for i in 1...11 { assertGranted(h.call(code, client: "device-\(i)", product: "reader", at: march)) }
        assertRefused(h.call(code, client: "device-12", product: "reader", at: utc("2026-03-31T23:59:59Z")), code: -20120)

        let april = utc("2026-04-01T00:00:00Z")
        // Before any April grant, the March devices no longer count.
        XCTAssertEqual(h.state.used("dev-1", now: april), 0)
        XCTAssertEqual(h.state.used("dev-1", now: april - 1), 11)
        assertGranted(h.call(code, client: "device-12", product: "reader", at: april), grace: false)
        XCTAssertEqual(h.state.used("dev-1", now: april), 1)
        XCTAssertEqual(h.state.items["dev-1"]?.devices, ["device-12"])
        XCTAssertEqual(h.state.items["dev-1"]?.windowStart, april)
        for i in 1...9 { assertGranted(h.call(code, client: "device-\(i)", product: "reader", at: april + 60), grace: false) }
        assertGranted(h.call(code, client: "device-10", product: "reader", at: april + 60), grace: true)
        assertRefused(h.call(code, client: "device-11", product: "reader", at: april + 60), code: -20120)
    }

    func testDayWindowBoundary() throws {
        var h = Harness()
        // quantity 1: 10 % of 1 rounds down, no grace device.
        let code = try h.importItems([Fixture.item("dev-1", product: "reader", way: .device, quantity: 1, activeWindow: "day")])
        assertGranted(h.call(code, client: "a", product: "reader", at: utc("2026-03-15T00:00:00Z")), grace: false)
        assertRefused(h.call(code, client: "b", product: "reader", at: utc("2026-03-15T23:59:59Z")), code: -20120)
        assertGranted(h.call(code, client: "b", product: "reader", at: utc("2026-03-16T00:00:00Z")), grace: false)
        assertRefused(h.call(code, client: "a", product: "reader", at: utc("2026-03-16T12:00:00Z")), code: -20120)
    }

    func testQuarterWindowBoundary() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("dev-1", product: "reader", way: .device, quantity: 1, activeWindow: "quarter")])
        assertGranted(h.call(code, client: "a", product: "reader", at: utc("2026-01-05T00:00:00Z")))
        assertRefused(h.call(code, client: "b", product: "reader", at: utc("2026-03-31T23:59:59Z")), code: -20120)
        assertGranted(h.call(code, client: "b", product: "reader", at: utc("2026-04-01T00:00:00Z")))
        assertRefused(h.call(code, client: "a", product: "reader", at: utc("2026-06-30T23:59:59Z")), code: -20120)
        assertGranted(h.call(code, client: "a", product: "reader", at: utc("2026-07-01T00:00:00Z")))
    }

    func testYearWindowBoundary() throws {
        var h = Harness()
        let code = try h.importItems([
            Fixture.item("dev-1", product: "reader", way: .device, quantity: 1, expiresAt: "2028-01-01T00:00:00Z", activeWindow: "year"),
        ])
        assertGranted(h.call(code, client: "a", product: "reader", at: utc("2026-02-01T00:00:00Z")))
        assertRefused(h.call(code, client: "b", product: "reader", at: utc("2026-12-31T23:59:59Z")), code: -20120)
        assertGranted(h.call(code, client: "b", product: "reader", at: utc("2027-01-01T00:00:00Z")))
    }

    func testDeviceGrantCarriesNoLeaseOrDomain() throws {
        var h = Harness()
        let code = try h.importItems([Fixture.item("dev-1", product: "reader", way: .device, quantity: 3)])
        let grant = assertGranted(h.call(code, client: "a", product: "reader", domain: "x.example.com", at: Fixture.now))
        XCTAssertEqual(grant?.amount, 1)
        XCTAssertNil(grant?.leaseExpiresAt)
        XCTAssertNil(grant?.domain)
        XCTAssertTrue(h.state.leases.isEmpty)
    }
}
