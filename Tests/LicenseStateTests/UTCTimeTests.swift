import LicenseState
import XCTest

/// Calendar arithmetic on UTC seconds.
final class UTCTimeTests: XCTestCase {
    func testKnownInstants() {
        XCTAssertEqual(UTCTime.parse("1970-01-01T00:00:00Z"), 0)
        XCTAssertEqual(UTCTime.parse("1970-01-02T00:00:01Z"), 86_401)
        XCTAssertEqual(UTCTime.parse("2000-03-01T00:00:00Z"), 951_868_800)
        XCTAssertEqual(UTCTime.parse("2026-01-01T00:00:00Z"), 1_767_225_600)
        XCTAssertEqual(UTCTime.parse("2038-01-19T03:14:07Z"), Int64(Int32.max))
        XCTAssertEqual(UTCTime.parse("1969-12-31T23:59:59Z"), -1)
        XCTAssertEqual(UTCTime.format(0), "1970-01-01T00:00:00Z")
        XCTAssertEqual(UTCTime.format(-1), "1969-12-31T23:59:59Z")
        XCTAssertEqual(UTCTime.format(1_767_225_600 + 13 * 3600 + 5 * 60 + 9), "2026-01-01T13:05:09Z")
    }

    func testDateOnlyIsMidnight() {
        XCTAssertEqual(UTCTime.parse("2026-03-15"), UTCTime.parse("2026-03-15T00:00:00Z"))
    }

    func testParseFormatRoundTrip() {
        let texts = ["0001-01-01T00:00:00Z", "0999-12-31T23:59:59Z", "1600-02-29T12:00:00Z", "1969-07-20T20:17:40Z",
                     "1999-12-31T23:59:59Z", "2000-02-29T00:00:00Z", "2026-03-15T12:00:00Z", "2028-02-29T23:59:59Z",
                     "2100-03-01T00:00:00Z", "9999-12-31T23:59:59Z"]
        for text in texts {
            guard let seconds = UTCTime.parse(text) else {
                XCTFail("\(text) did not parse")
                continue
            }
            XCTAssertEqual(UTCTime.format(seconds), text)
        }
        // Format then parse, over a deterministic spread of instants (every 7 919 777 s ≈ 91.7 days, from 1900 to 2100).
        var seconds = UTCTime.parse("1900-01-01T00:00:00Z")!
        let end = UTCTime.parse("2100-01-01T00:00:00Z")!
        while seconds < end {
            XCTAssertEqual(UTCTime.parse(UTCTime.format(seconds)), seconds)
            seconds += 7_919_777
        }
    }

    func testCivilAndSecondsAgree() {
        var day = UTCTime.seconds(year: 1999, month: 12, day: 1)
        var expected = (year: Int64(1999), month: Int64(12), day: Int64(1))
        let monthDays: [Int64] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        // Walk day by day over 1999-12 … 2001-03, through the leap day of 2000.
        for _ in 0..<(31 + 366 + 31 + 28 + 31) {
            let civil = UTCTime.civil(day)
            XCTAssertEqual([civil.year, civil.month, civil.day], [expected.year, expected.month, expected.day])
            XCTAssertEqual(UTCTime.civil(day + 86_399).day, expected.day)
            day += 86_400
            let leap = expected.year % 4 == 0 && (expected.year % 100 != 0 || expected.year % 400 == 0)
            let length = expected.month == 2 && leap ? 29 : monthDays[Int(expected.month) - 1]
            if expected.day < length {
                expected.day += 1
            } else if expected.month < 12 {
                expected = (expected.year, expected.month + 1, 1)
            } else {
                expected = (expected.year + 1, 1, 1)
            }
        }
    }

    func testLeapYears() {
        XCTAssertNotNil(UTCTime.parse("2028-02-29T00:00:00Z"))
        XCTAssertNil(UTCTime.parse("2027-02-29T00:00:00Z"))
        XCTAssertNil(UTCTime.parse("2028-02-30T00:00:00Z"))
        XCTAssertNotNil(UTCTime.parse("2000-02-29T00:00:00Z"), "divisible by 400")
        XCTAssertNil(UTCTime.parse("2100-02-29T00:00:00Z"), "divisible by 100, not 400")
        XCTAssertEqual(UTCTime.parse("2028-03-01T00:00:00Z")! - UTCTime.parse("2028-02-28T00:00:00Z")!, 2 * 86_400)
        XCTAssertEqual(UTCTime.parse("2027-03-01T00:00:00Z")! - UTCTime.parse("2027-02-28T00:00:00Z")!, 86_400)
    }

    func testMalformedTexts() {
        for text in ["", "2026", "2026-1-01", "2026-01-1", "2026-01-01T", "2026-01-01T00:00:00", "2026-01-01T00:00:00z",
                     "2026-01-01 00:00:00Z", "2026-01-01T00:00:00+00", "2026-01-01T00:00:00.000Z", "2026/01/01",
                     "2026-00-10", "2026-13-01", "2026-04-31", "2026-01-00", "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z",
                     "2026-01-01T00:00:60Z", "+026-01-01", "2026-01-01T0a:00:00Z", " 2026-01-01", "２０２６-01-01"] {
            XCTAssertNil(UTCTime.parse(text), text)
        }
    }

    func testWindowStarts() {
        let t = utc("2026-08-17T13:45:10Z")
        XCTAssertEqual(ActiveWindow.year.start(containing: t), utc("2026-01-01T00:00:00Z"))
        XCTAssertEqual(ActiveWindow.quarter.start(containing: t), utc("2026-07-01T00:00:00Z"))
        XCTAssertEqual(ActiveWindow.month.start(containing: t), utc("2026-08-01T00:00:00Z"))
        XCTAssertEqual(ActiveWindow.day.start(containing: t), utc("2026-08-17T00:00:00Z"))
    }

    func testQuarterStarts() {
        let cases: [(String, String)] = [
            ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"), ("2026-02-28T10:00:00Z", "2026-01-01T00:00:00Z"),
            ("2026-03-31T23:59:59Z", "2026-01-01T00:00:00Z"), ("2026-04-01T00:00:00Z", "2026-04-01T00:00:00Z"),
            ("2026-06-30T23:59:59Z", "2026-04-01T00:00:00Z"), ("2026-07-01T00:00:00Z", "2026-07-01T00:00:00Z"),
            ("2026-09-30T23:59:59Z", "2026-07-01T00:00:00Z"), ("2026-10-01T00:00:00Z", "2026-10-01T00:00:00Z"),
            ("2026-12-31T23:59:59Z", "2026-10-01T00:00:00Z"),
        ]
        for (time, start) in cases {
            XCTAssertEqual(ActiveWindow.quarter.start(containing: utc(time)), utc(start), time)
        }
    }

    func testWindowBoundariesAreExact() {
        for window in ActiveWindow.allCases {
            let start = window.start(containing: utc("2028-02-29T12:00:00Z"))
            XCTAssertEqual(window.start(containing: start), start, "\(window) start is in its own window")
            XCTAssertLessThan(window.start(containing: start - 1), start, "\(window): one second earlier is the previous window")
        }
        XCTAssertEqual(ActiveWindow.month.start(containing: utc("2028-02-29T23:59:59Z")), utc("2028-02-01T00:00:00Z"))
        XCTAssertEqual(ActiveWindow.month.start(containing: utc("2028-03-01T00:00:00Z")), utc("2028-03-01T00:00:00Z"))
        XCTAssertEqual(ActiveWindow.year.start(containing: utc("2026-12-31T23:59:59Z")), utc("2026-01-01T00:00:00Z"))
        XCTAssertEqual(ActiveWindow.day.start(containing: -1), -86_400, "before 1970 the day still starts at midnight")
        XCTAssertEqual(ActiveWindow.month.start(containing: -1), utc("1969-12-01T00:00:00Z"))
    }
}
