import LicenseClient
import XCTest

/// The pure rules of a failing-over client: how long to wait after a round
/// without an answer, and what an HTTP answer means.
final class RetryAndAnswerTests: XCTestCase {
    /// A fixed sequence standing in for randomness.
    private struct Counter: RandomNumberGenerator {
        var state: UInt64 = 0
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            return state
        }
    }

    func testDelaysGrowWithJitterInTheUpperHalfUpToTheCap() {
        let schedule = RetrySchedule(baseMs: 100, maxMs: 2_000)
        var generator = Counter()
        for round in 1...12 {
            let ceiling = min(2_000, 100 << (round - 1))
            var seen: Set<Int> = []
            for _ in 0..<200 {
                let delay = schedule.delayMs(afterFailedRounds: round, using: &generator)
                XCTAssertTrue((ceiling / 2...ceiling).contains(delay), "round \(round): \(delay) outside \(ceiling / 2)...\(ceiling)")
                seen.insert(delay)
            }
            XCTAssertGreaterThan(seen.count, 1, "round \(round): no jitter")
        }
    }

    func testAnswersAreClassified() {
        XCTAssertEqual(ServerAnswer.classify(status: 200, json: ["grantId": "g"]), .answered)
        XCTAssertEqual(ServerAnswer.classify(status: 421, json: ["code": -20100, "message": "standby", "primary": "https://a/dls/"]),
                       .redirect(primary: "https://a/dls/"))
        XCTAssertEqual(ServerAnswer.classify(status: 403, json: ["code": -20120, "message": "used up"]), .refused(code: -20120, message: "used up"))
        if case .unavailable = ServerAnswer.classify(status: 503, json: ["code": -20101, "message": "switchover"]) {} else {
            XCTFail("a 503 sends the call on")
        }
        if case .unavailable = ServerAnswer.classify(status: 404, json: nil) {} else {
            XCTFail("an answer without a DLS code is no refusal (a proxy, a wrong URL)")
        }
    }
}
