import WireFormat
import XCTest

final class LogPositionTests: XCTestCase {
    func testTermOutranksLsn() {
        XCTAssertLessThan(LogPosition(term: 1, lsn: 900), LogPosition(term: 2, lsn: 1))
        XCTAssertLessThan(LogPosition(term: 2, lsn: 1), LogPosition(term: 2, lsn: 2))
        XCTAssertLessThan(LogPosition.origin, LogPosition(term: 0, lsn: 1))
        XCTAssertEqual(LogPosition(term: 3, lsn: 4).description, "4@3")
    }
}
