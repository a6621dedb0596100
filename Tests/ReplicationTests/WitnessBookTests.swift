import LTSTestSupport
@testable import Replication
import XCTest

/// The witness's rules (`WitnessBook`) and the lease arithmetic
/// (`WitnessLease`) they rely on.
final class WitnessBookTests: XCTestCase {
    private func claim(_ node: Int, term: UInt64, holdMs: UInt64 = 550, release: Bool = false) -> WitnessClaim {
        WitnessClaim(id: 1, node: node, term: term, holdMs: holdMs, release: release)
    }

    func testATermGoesToTheOtherNodeOnlyOnceTheHoldersLeaseRanOut() {
        var book = WitnessBook(record: WitnessBook.Record(), nowMs: 1_000)
        let first = book.answer(claim(0, term: 2), nowMs: 1_000)
        XCTAssertTrue(first.answer.granted)
        XCTAssertTrue(first.persist, "a new term is stored before it is granted")
        XCTAssertEqual(book.record, WitnessBook.Record(highestTerm: 2, holder: 0, holdMs: 550))
        let early = book.answer(claim(1, term: 3), nowMs: 1_549)
        XCTAssertFalse(early.answer.granted)
        XCTAssertEqual(early.answer.leaseRemainingMs, 1)
        XCTAssertFalse(early.persist)
        let renewed = book.answer(claim(0, term: 2), nowMs: 1_500)
        XCTAssertTrue(renewed.answer.granted)
        XCTAssertFalse(renewed.persist, "a renewal changes nothing stored")
        XCTAssertFalse(book.answer(claim(1, term: 3), nowMs: 2_049).answer.granted, "the renewal runs from when it was granted")
        let taken = book.answer(claim(1, term: 3), nowMs: 2_050)
        XCTAssertTrue(taken.answer.granted)
        XCTAssertEqual(book.record, WitnessBook.Record(highestTerm: 3, holder: 1, holdMs: 550))
        let stale = book.answer(claim(0, term: 2), nowMs: 2_051)
        XCTAssertFalse(stale.answer.granted, "the old holder's term is over")
        XCTAssertEqual(stale.answer.highestTerm, 3)
        XCTAssertEqual(stale.answer.holder, 1)
    }

    func testAReleasedLeaseLetsTheOtherNodeTakeTheNextTermAtOnce() {
        var book = WitnessBook(record: WitnessBook.Record(), nowMs: 0)
        XCTAssertTrue(book.answer(claim(0, term: 2), nowMs: 0).answer.granted)
        XCTAssertFalse(book.answer(claim(1, term: 3, release: true), nowMs: 10).answer.granted, "only the holder releases")
        XCTAssertFalse(book.answer(claim(1, term: 3), nowMs: 10).answer.granted)
        XCTAssertTrue(book.answer(claim(0, term: 2, release: true), nowMs: 10).persist)
        XCTAssertTrue(book.answer(claim(1, term: 3), nowMs: 11).answer.granted)
    }

    func testATermBelowOrEqualToTheHighestIsNeverGrantedAgain() {
        var book = WitnessBook(record: WitnessBook.Record(highestTerm: 6, holder: nil, holdMs: 550), nowMs: 0)
        XCTAssertFalse(book.answer(claim(0, term: 4), nowMs: 0).answer.granted)
        XCTAssertFalse(book.answer(claim(0, term: 6), nowMs: 0).answer.granted, "term 6 was granted once; its holder released it")
        XCTAssertTrue(book.answer(claim(1, term: 7), nowMs: 0).answer.granted)
    }

    func testARestartedWitnessHoldsTheLeaseForTheLastHoldAsked() {
        var book = WitnessBook(record: WitnessBook.Record(highestTerm: 4, holder: 0, holdMs: 700), nowMs: 50_000)
        XCTAssertFalse(book.answer(claim(1, term: 5), nowMs: 50_699).answer.granted,
                       "the witness cannot know how long it was down: the holder may have renewed just before")
        XCTAssertTrue(book.answer(claim(0, term: 4), nowMs: 50_100).answer.granted, "the holder renews as before")
        XCTAssertTrue(book.answer(claim(1, term: 5), nowMs: 50_800).answer.granted)
    }

    func testALongerHoldAskedIsStoredForARestart() {
        var book = WitnessBook(record: WitnessBook.Record(), nowMs: 0)
        XCTAssertTrue(book.answer(claim(0, term: 2, holdMs: 100), nowMs: 0).persist)
        XCTAssertTrue(book.answer(claim(0, term: 2, holdMs: 300), nowMs: 10).persist)
        XCTAssertEqual(book.record.holdMs, 300)
        XCTAssertFalse(book.answer(claim(0, term: 2, holdMs: 200), nowMs: 20).persist)
    }

    /// Real time against clocks that drift within the bound: a primary's
    /// lease ends (in real time) before the witness's hold of it, and its
    /// standby's promise before the standby may take over, whatever the
    /// delays.
    func testTheLeaseAndThePromiseEndBeforeTheOtherSideMayAct() {
        var random = SplitMix64(seed: 42)
        for _ in 0..<20_000 {
            let drift = random.uniform(0...100)
            let rate = { (random: inout SplitMix64) -> Double in
                let perMille = random.chance(perMille: 300) ? random.pick([1_000 - drift, 1_000 + drift]) : random.uniform((1_000 - drift)...(1_000 + drift))
                return Double(perMille) / 1_000
            }
            let primaryRate = rate(&random)
            let otherRate = rate(&random)
            let delayMs = Double(random.uniform(0...50))
            // The lease: sent at real 0; the primary counts leaseMs on its
            // clock, the witness holdMs from receipt on its own.
            let leaseMs = random.uniform(1...5_000)
            let holdMs = WitnessLease.holdMs(leaseMs: leaseMs, driftPerMille: drift)
            let primaryEnd = Double(leaseMs) / primaryRate
            let witnessEnd = delayMs + Double(holdMs) / otherRate
            XCTAssertLessThanOrEqual(primaryEnd, witnessEnd + 1e-9, "lease \(leaseMs) hold \(holdMs) drift \(drift)‰")
            // The promise: a heartbeat sent at real 0, heard after the delay;
            // the standby waits failoverTimeoutMs on its clock.
            let failoverTimeoutMs = random.uniform(50...10_000)
            let promiseMs = WitnessLease.promiseMs(failoverTimeoutMs: failoverTimeoutMs, driftPerMille: drift)
            let promiseEnd = Double(promiseMs) / primaryRate
            let takeover = delayMs + Double(failoverTimeoutMs) / otherRate
            XCTAssertLessThan(promiseEnd, takeover, "failover \(failoverTimeoutMs) promise \(promiseMs) drift \(drift)‰")
        }
    }
}
