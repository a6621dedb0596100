import Platform
import Transport
import XCTest

final class CryptoTests: XCTestCase {
    func testRandomUUIDsAreVersion4Text() {
        let uuid = Crypto.randomUUID()
        XCTAssertEqual(uuid.count, 36)
        XCTAssertEqual(Array(uuid)[14], "4")
        XCTAssertTrue("89ab".contains(Array(uuid)[19]))
        XCTAssertNotEqual(uuid, Crypto.randomUUID())
    }

    func testTimeOrderedUUIDsCarryTheirMillisecondAndSortByIt() {
        let unixMs: UInt64 = 0x0193_5F3A_7C21
        let uuid = Crypto.timeOrderedUUID(unixMs: unixMs)
        XCTAssertTrue(uuid.hasPrefix("01935f3a-7c21-7"), uuid)
        XCTAssertTrue("89ab".contains(Array(uuid)[19]))
        XCTAssertEqual(uuid.count, 36)
        let later = (0..<100).map { Crypto.timeOrderedUUID(unixMs: unixMs + 1 + UInt64($0)) }
        XCTAssertEqual(later, later.sorted())
        XCTAssertTrue(later.allSatisfy { $0 > uuid })
    }
}
