import Foundation
import XCTest

/// The fault suite's checker on made-up answers and grant lists: each
/// violation it must find, it finds, and counts once.
final class NemesisCheckTests: XCTestCase {
    private let start = Date(timeIntervalSince1970: 1_000_000)

    private func at(_ seconds: Double) -> Date { start.addingTimeInterval(seconds) }

    private func granted(_ requestId: String, _ grantId: String, term: Int = 2, node: Int = 0, at seconds: Double) -> RecordedAnswer {
        RecordedAnswer(requestId: requestId, outcome: .granted(grantId: grantId, term: term), node: node, at: at(seconds))
    }

    private func check(_ answers: [RecordedAnswer], _ listed: [ListedGrant], samples: [RoleSample] = [], faultEnded: Double = 0,
                       leaseChanges: [(at: Date, delta: Int)] = [], takeoversAllowed: Bool = true, withWitness: Bool = false) -> RunOutcome {
        NemesisCheck(answers: answers, listed: [listed, listed], samples: samples, faultEnded: at(faultEnded), leaseChanges: leaseChanges, seatQuantity: 1,
                     metrics: [[:], [:]], reconcileOverruns: 0, takeoversAllowed: takeoversAllowed, splitBrainIsViolation: withWitness).outcome
    }

    private func listed(_ grantId: String, _ requestId: String, lsn: Int, term: Int = 2) -> ListedGrant {
        ListedGrant(grantId: grantId, requestId: requestId, lsn: lsn, term: term)
    }

    func testEveryAcknowledgedGrantListedIsNoViolation() {
        let outcome = check([granted("r1", "g1", at: 0), granted("r2", "g2", at: 1)], [listed("g1", "r1", lsn: 1), listed("g2", "r2", lsn: 2)])
        XCTAssertEqual(outcome.acknowledged, 2)
        XCTAssertEqual(outcome.violations, 0, "\(outcome.details)")
        XCTAssertEqual(outcome.outageSeconds, 1)
    }

    func testAMissingGrantIsLostAndAReplacedOneIsChanged() {
        let outcome = check([granted("r1", "g1", at: 0), granted("r2", "g2", at: 1)], [listed("g9", "r2", lsn: 1)])
        XCTAssertEqual(outcome.lost, 1)
        XCTAssertEqual(outcome.changed, 1)
        XCTAssertEqual(outcome.violations, 2, "each counted once though both nodes list the same")
    }

    func testAGrantListedTwiceOrARequestGrantedTwiceIsDuplicated() {
        let outcome = check([granted("r1", "g1", at: 0)],
                            [listed("g1", "r1", lsn: 1), listed("g1", "r1", lsn: 2), listed("g2", "r2", lsn: 3), listed("g3", "r2", lsn: 4)])
        XCTAssertEqual(outcome.duplicated, 2)
        XCTAssertEqual(outcome.lost + outcome.changed, 0)
    }

    func testTwoGrantsAcknowledgedForOneRequestMayBothBeListed() {
        let outcome = check([granted("r1", "g1", node: 0, at: 0), granted("r1", "g2", term: 3, node: 1, at: 1)],
                            [listed("g1", "r1", lsn: 1), listed("g2", "r1", lsn: 2, term: 3)])
        XCTAssertEqual(outcome.violations, 0, "\(outcome.details)")
    }

    func testARefusedCallListedWithAGrantIsRefusedButCharged() {
        let refused = RecordedAnswer(requestId: "r1", outcome: .refused(code: -20120), node: 1, at: at(0))
        XCTAssertEqual(check([refused], [listed("g1", "r1", lsn: 1)]).refusedButCharged, 1)
        XCTAssertEqual(check([refused], []).violations, 0)
    }

    func testAGrantInATermAfterALaterOneBeganIsSplitBrain() {
        let samples = [RoleSample(node: 1, at: at(1), role: "primary", term: 3)]
        let answers = [granted("r1", "g1", at: 0.5), granted("r2", "g2", at: 2), granted("r3", "g3", term: 3, node: 1, at: 2.5)]
        let listed = [listed("g1", "r1", lsn: 1), listed("g2", "r2", lsn: 2), listed("g3", "r3", lsn: 3, term: 3)]
        let outcome = check(answers, listed, samples: samples)
        XCTAssertEqual(outcome.splitBrainGrants, 1)
        XCTAssertEqual(outcome.takeovers, 1)
        XCTAssertEqual(outcome.violations, 0, "without a witness both sides of a cut answer by design")
        XCTAssertEqual(check(answers, listed, samples: samples, takeoversAllowed: false).unwantedTakeovers, 1)
        let withWitness = check(answers, listed, samples: samples, withWitness: true)
        XCTAssertEqual(withWitness.violations, 1, "with a witness a split-brain grant is a violation")
        XCTAssertTrue(withWitness.details.contains { $0.contains("r2 by node 0") }, "\(withWitness.details)")
    }

    func testLeasesHeldBeyondTheQuantityAreAnOverrun() {
        let changes: [(at: Date, delta: Int)] = [(at(0), 1), (at(1), -1), (at(1), 1), (at(2), 1)]
        XCTAssertEqual(check([], [], leaseChanges: changes).overrun, 1)
    }

    /// Two primaries are measured from the fault's end to the last sample
    /// that found both primary, each answer fresh: here node 0 answers as
    /// standby 0.45 s after the fault, and the last sample that found both
    /// primary is node 1's, 0.3 s after it.
    func testTwoPrimariesLastUntilTheOldOneAnswersAsStandby() {
        let samples = [RoleSample(node: 0, at: at(0.9), role: "primary", term: 2), RoleSample(node: 1, at: at(0.95), role: "primary", term: 3),
                       RoleSample(node: 0, at: at(1.1), role: "primary", term: 2), RoleSample(node: 1, at: at(1.15), role: "primary", term: 3),
                       RoleSample(node: 0, at: at(1.3), role: "primary", term: 2), RoleSample(node: 1, at: at(1.35), role: "primary", term: 3),
                       RoleSample(node: 0, at: at(1.5), role: "standby", term: 3), RoleSample(node: 1, at: at(1.55), role: "primary", term: 3)]
        let outcome = check([], [], samples: samples, faultEnded: 1.05)
        XCTAssertEqual(outcome.twoPrimariesAfterFaultSeconds, 0.3, accuracy: 0.001)
    }

    /// A node that stopped answering (paused, killed) said nothing of now:
    /// its last answer as primary does not make two primaries.
    func testAnOldAnswerOfASilentNodeIsNotASecondPrimary() {
        let samples = [RoleSample(node: 0, at: at(0.5), role: "primary", term: 2),
                       RoleSample(node: 1, at: at(1.2), role: "primary", term: 3), RoleSample(node: 1, at: at(1.3), role: "primary", term: 3),
                       RoleSample(node: 0, at: at(1.4), role: "standby", term: 3), RoleSample(node: 1, at: at(1.5), role: "primary", term: 3)]
        XCTAssertEqual(check([], [], samples: samples, faultEnded: 1.0).twoPrimariesAfterFaultSeconds, 0)
    }
}
