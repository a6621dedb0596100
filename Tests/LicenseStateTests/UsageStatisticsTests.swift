import LicenseState
import XCTest

/// Usage statistics: 2-hour buckets per item and code, built from grants,
/// read per 2 h or per day, kept 400 days.
final class UsageStatisticsTests: XCTestCase {
    let day = utc("2026-03-15T00:00:00Z")

    func harness() throws -> (Harness, code: String) {
        var h = Harness()
        let code = try h.importItems([Fixture.item("scan-1", quantity: 1_000_000), Fixture.item("scan-2", product: "other", quantity: 1_000_000)])
        XCTAssertEqual(h.putHandshake(Handshake(code: "acme-web", organizationId: "acme", items: ["scan-1"]), creating: true, at: day), .success(
            .putHandshake(Handshake(code: "acme-web", organizationId: "acme", items: ["scan-1"]), at: day)))
        return (h, code)
    }

    func testGrantsLandInTheBucketOfTheirTime() throws {
        var (h, code) = try harness()
        assertGranted(h.call(code, client: "a", kind: .report, scans: 5, at: day + 2 * 3600 - 1))
        assertGranted(h.call(code, client: "a", kind: .report, scans: 7, at: day + 2 * 3600))
        assertGranted(h.call(code, client: "b", kind: .report, scans: 1, at: day + 4 * 3600 - 1))
        assertGranted(h.call("acme-web", client: "b", kind: .report, scans: 2, at: day + 3 * 3600))

        let rows = h.state.usage.rows(from: day, to: day + 6 * 3600, bucketSeconds: UsageStatistics.bucketSeconds, itemId: nil, code: nil)
        XCTAssertEqual(rows.map(\.start), [day, day + 7200, day + 14_400])
        XCTAssertEqual(rows.map(\.end), [day + 7200, day + 14_400, day + 21_600])
        XCTAssertEqual(rows.map(\.counts.units), [5, 10, 0], "01:59:59 is the first bucket, 02:00:00 the second; empty buckets are rows too")
        XCTAssertEqual(rows.map(\.counts.grants), [1, 3, 0])

        let web = h.state.usage.rows(from: day, to: day + 6 * 3600, bucketSeconds: UsageStatistics.bucketSeconds, itemId: nil, code: "acme-web")
        XCTAssertEqual(web.map(\.counts.units), [0, 2, 0])
        let otherItem = h.state.usage.rows(from: day, to: day + 6 * 3600, bucketSeconds: UsageStatistics.bucketSeconds, itemId: "scan-2", code: nil)
        XCTAssertEqual(otherItem.map(\.counts.units), [0, 0, 0])
    }

    func testDaysSumTheirBucketsAndARangeCoversEveryBucketItTouches() throws {
        var (h, code) = try harness()
        assertGranted(h.call(code, client: "a", kind: .report, scans: 3, at: day - 1))
        assertGranted(h.call(code, client: "a", kind: .report, scans: 4, at: day))
        assertGranted(h.call(code, client: "a", kind: .report, scans: 6, at: day + 86_399))
        assertGranted(h.call(code, client: "a", kind: .report, scans: 8, at: day + 86_400))

        let days = h.state.usage.rows(from: day - 60, to: day + 86_401, bucketSeconds: 86_400, itemId: nil, code: nil)
        XCTAssertEqual(days.map(\.start), [day - 86_400, day, day + 86_400])
        XCTAssertEqual(days.map(\.counts.units), [3, 10, 8])

        let partial = h.state.usage.rows(from: day + 3600, to: day + 3601, bucketSeconds: UsageStatistics.bucketSeconds, itemId: nil, code: nil)
        XCTAssertEqual(partial.map(\.start), [day], "a range inside one bucket gives that bucket")
        XCTAssertEqual(partial.first?.counts.units, 4)
        XCTAssertTrue(h.state.usage.rows(from: day, to: day, bucketSeconds: 7200, itemId: nil, code: nil).isEmpty, "an empty range has no rows")
    }

    func testTotalsByCodeAndEntries() throws {
        var (h, code) = try harness()
        assertGranted(h.call(code, client: "a", kind: .report, scans: 5, at: day + 10))
        assertGranted(h.call("acme-web", client: "b", kind: .report, scans: 9, at: day + 20))
        assertGranted(h.call(code, client: "c", product: "other", scans: 1, at: day + 7300))

        let totals = h.state.usage.totalsByCode(from: day, to: day + 86_400, itemId: nil, code: nil)
        XCTAssertEqual(totals.map(\.code), ["acme-web", code], "largest usage first")
        XCTAssertEqual(totals.map(\.counts.units), [9, 6])
        XCTAssertEqual(totals.map(\.counts.grants), [1, 2])

        let entries = h.state.usage.entries(from: day, to: day + 86_400, itemId: nil, code: code)
        XCTAssertEqual(entries.map(\.pair.itemId), ["scan-1", "scan-2"])
        XCTAssertEqual(entries.map(\.bucketStart), [day, day + 7200])
    }

    func testBucketsAreKept400DaysThenForgottenByExpiry() throws {
        var (h, code) = try harness()
        assertGranted(h.call(code, client: "a", kind: .report, scans: 5, at: day))
        let end = day + 7200
        let forgetAt = end + UsageStatistics.retentionSeconds
        XCTAssertFalse(h.state.needsExpiry(now: forgetAt - 1))
        XCTAssertTrue(h.state.needsExpiry(now: forgetAt), "a bucket ended 400 days ago needs an expiry record")
        h.apply(.expire(at: forgetAt - 1))
        XCTAssertEqual(h.state.usage.starts, [day])
        h.apply(.expire(at: forgetAt))
        XCTAssertEqual(h.state.usage.starts, [])
        XCTAssertFalse(h.state.needsExpiry(now: forgetAt))
    }

    func testGrantsThatArriveOutOfOrderKeepTheBucketsSorted() throws {
        var (h, code) = try harness()
        for offset: Int64 in [5, 1, 3, 0, 4] {
            assertGranted(h.call(code, client: "a", kind: .report, at: day + offset * 7200))
        }
        XCTAssertEqual(h.state.usage.starts, (0...5).filter { $0 != 2 }.map { day + Int64($0) * 7200 })
        XCTAssertEqual(UsageStatistics.bucketStart(containing: -1), -7200, "times before 1970 round down too")
    }
}
