@testable import ClusterNode
import XCTest

/// The drill pass: it opens the drill code on both nodes of a pair (one
/// token key) while it lasts, and nothing else does.
final class DrillPassTests: XCTestCase {
    private let now: Int64 = 1_780_000_000
    private let pair = DrillPass(tokenKey: [UInt8](repeating: 7, count: 32))

    func testAPassOpensOnEitherNodeWhileItLasts() {
        let issued = pair.issue(now: now)
        XCTAssertEqual(issued.expiresAt, now + DrillPass.lifetimeSecondsMax)
        let otherNode = DrillPass(tokenKey: [UInt8](repeating: 7, count: 32))
        XCTAssertTrue(otherNode.opens(issued.pass, now: now))
        XCTAssertTrue(otherNode.opens(issued.pass, now: issued.expiresAt - 1))
        XCTAssertTrue(otherNode.opens(issued.pass, now: now - DrillPass.clockSkewSecondsMax), "a node whose clock runs behind")
        XCTAssertFalse(otherNode.opens(issued.pass, now: issued.expiresAt), "expired")
        XCTAssertFalse(otherNode.opens(issued.pass, now: now - DrillPass.clockSkewSecondsMax - 1), "issued too far ahead of this clock")
    }

    func testNothingElseOpens() {
        let issued = pair.issue(now: now)
        let parts = issued.pass.split(separator: ".").map(String.init)
        XCTAssertFalse(DrillPass(tokenKey: [UInt8](repeating: 8, count: 32)).opens(issued.pass, now: now), "another pair's pass")
        XCTAssertFalse(pair.opens(nil, now: now))
        XCTAssertFalse(pair.opens("", now: now))
        XCTAssertFalse(pair.opens(parts[0], now: now))
        XCTAssertFalse(pair.opens("\(issued.expiresAt + 60).\(parts[1])", now: now), "a later expiry under the same MAC")
        let flipped = String(parts[1].dropLast()) + (parts[1].hasSuffix("0") ? "1" : "0")
        XCTAssertFalse(pair.opens("\(parts[0]).\(flipped)", now: now), "a changed MAC")
        XCTAssertFalse(pair.opens(issued.pass + ".x", now: now))
        XCTAssertFalse(pair.opens(String(repeating: "1", count: 200), now: now))
    }
}
