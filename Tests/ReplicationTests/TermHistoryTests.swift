import LicenseState
import Replication
import XCTest
import LTSTestSupport

/// `TermHistory`: term lookup, append and truncate, validation of histories
/// from the wire, and `matchLsn` against a brute-force search.
final class TermHistoryTests: XCTestCase {
    /// A history from `(term, count)` runs, appended in order.
    private func history(_ runs: [(term: UInt64, count: UInt64)]) -> TermHistory {
        var history = TermHistory()
        for run in runs {
            for _ in 0..<run.count { history.append(lsn: history.lastLsn + 1, term: run.term) }
        }
        return history
    }

    // MARK: Lookup, append, truncate

    func testAnEmptyHistory() {
        let empty = TermHistory()
        XCTAssertEqual(empty.lastLsn, 0)
        XCTAssertEqual(empty.lastTerm, 0)
        XCTAssertEqual(empty.last, LogPosition.origin)
        XCTAssertEqual(empty.term(at: 0), 0)
        XCTAssertNil(empty.term(at: 1))
    }

    func testAppendStartsATermOnlyWhenTheTermChanges() {
        let terms = history([(1, 3), (2, 2), (5, 1)])
        XCTAssertEqual(terms.starts, [.init(term: 1, lsn: 1), .init(term: 2, lsn: 4), .init(term: 5, lsn: 6)])
        XCTAssertEqual(terms.last, LogPosition(term: 5, lsn: 6))
        XCTAssertEqual((0...7).map { terms.term(at: $0) }, [0, 1, 1, 1, 2, 2, 5, nil])
    }

    func testTruncateForgetsTheTermsThatStartedAfterThePoint() {
        var terms = history([(1, 3), (2, 2), (5, 1)])
        terms.truncate(after: 4)
        XCTAssertEqual(terms.starts, [.init(term: 1, lsn: 1), .init(term: 2, lsn: 4)])
        XCTAssertEqual(terms.last, LogPosition(term: 2, lsn: 4))
        terms.truncate(after: 3)
        XCTAssertEqual(terms.last, LogPosition(term: 1, lsn: 3))
        terms.append(lsn: 4, term: 7)
        XCTAssertEqual(terms.term(at: 4), 7)
        terms.truncate(after: 0)
        XCTAssertEqual(terms, TermHistory())
    }

    // MARK: Validation

    func testHistoriesThatKeepTheInvariantAreAccepted() {
        XCTAssertEqual(TermHistory(starts: [], lastLsn: 0), TermHistory())
        let built = history([(1, 3), (4, 2)])
        XCTAssertEqual(TermHistory(starts: built.starts, lastLsn: 5), built)
    }

    func testHistoriesThatBreakTheInvariantAreRefused() {
        XCTAssertNil(TermHistory(starts: [], lastLsn: 3), "entries without a term")
        XCTAssertNil(TermHistory(starts: [.init(term: 1, lsn: 2)], lastLsn: 3), "the first term starts after lsn 1")
        XCTAssertNil(TermHistory(starts: [.init(term: 0, lsn: 1)], lastLsn: 1), "term 0 holds no entries")
        XCTAssertNil(TermHistory(starts: [.init(term: 2, lsn: 1), .init(term: 2, lsn: 3)], lastLsn: 4), "a term starts twice")
        XCTAssertNil(TermHistory(starts: [.init(term: 3, lsn: 1), .init(term: 2, lsn: 3)], lastLsn: 4), "the term goes back")
        XCTAssertNil(TermHistory(starts: [.init(term: 1, lsn: 1), .init(term: 2, lsn: 1)], lastLsn: 4), "two terms start at one lsn")
        XCTAssertNil(TermHistory(starts: [.init(term: 1, lsn: 1), .init(term: 2, lsn: 5)], lastLsn: 4), "a term starts past the end")
        let tooMany = (1...UInt64(TermHistory.startsMax + 1)).map { TermHistory.Start(term: $0, lsn: $0) }
        XCTAssertNil(TermHistory(starts: tooMany, lastLsn: UInt64(tooMany.count)), "more starts than startsMax")
    }

    // MARK: matchLsn

    func testMatchOfIdenticalLogsIsTheirEnd() {
        let terms = history([(1, 3), (2, 4)])
        XCTAssertEqual(terms.matchLsn(with: terms), 7)
    }

    func testMatchWithAPrefixIsThePrefixEnd() {
        XCTAssertEqual(history([(1, 3), (2, 4)]).matchLsn(with: history([(1, 3), (2, 1)])), 4)
        XCTAssertEqual(history([(1, 3)]).matchLsn(with: history([(1, 3), (2, 4)])), 3)
    }

    func testMatchWithAnEmptyLogIsZero() {
        XCTAssertEqual(TermHistory().matchLsn(with: history([(1, 3)])), 0)
        XCTAssertEqual(history([(1, 3)]).matchLsn(with: TermHistory()), 0)
        XCTAssertEqual(TermHistory().matchLsn(with: TermHistory()), 0)
    }

    func testLogsThatDifferFromTheFirstEntryMatchAtZero() {
        XCTAssertEqual(history([(1, 3)]).matchLsn(with: history([(2, 5)])), 0)
    }

    func testLogsThatForkInsideATermMatchWhereTheLaterTermStarts() {
        // Both hold term 2 from lsn 4; one continues it to 6, the other starts term 3 at 6.
        let main = history([(1, 3), (2, 3), (4, 4)])
        let standby = history([(1, 3), (2, 2), (3, 6)])
        XCTAssertEqual(main.matchLsn(with: standby), 5)
        XCTAssertEqual(standby.matchLsn(with: main), 5)
    }

    func testMatchJumpsBackOverSeveralTerms() {
        let left = history([(1, 2), (2, 2), (4, 2), (6, 2)])
        let right = history([(1, 2), (3, 3), (5, 3)])
        XCTAssertEqual(left.matchLsn(with: right), 2)
        XCTAssertEqual(right.matchLsn(with: left), 2)
    }

    /// Pairs of logs that fork from a common prefix, each side writing
    /// only terms its own node could hold (even or odd), as the pair does.
    func testMatchAgreesWithABruteForceSearch() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<2_000 {
            var common: [(term: UInt64, count: UInt64)] = []
            var term: UInt64 = 0
            for _ in 0..<random.uniform(0...3) {
                term += random.uniform(1...2)
                common.append((term, random.uniform(1...4)))
            }
            func fork(parity: UInt64, extendsLastTerm: Bool) -> TermHistory {
                var runs = common
                // The primary of the last common term may have written more of it.
                if extendsLastTerm, !runs.isEmpty { runs[runs.count - 1].count += random.uniform(1...3) }
                var next = term
                for _ in 0..<random.uniform(0...3) {
                    next += 1
                    if next % 2 != parity { next += 1 }
                    runs.append((next, random.uniform(1...4)))
                }
                return history(runs)
            }
            let left = fork(parity: 0, extendsLastTerm: random.chance(perMille: 500))
            let right = fork(parity: 1, extendsLastTerm: false)
            var expected = min(left.lastLsn, right.lastLsn)
            while expected > 0, left.term(at: expected) != right.term(at: expected) { expected -= 1 }
            XCTAssertEqual(left.matchLsn(with: right), expected, "left \(left.starts) right \(right.starts)")
            XCTAssertEqual(right.matchLsn(with: left), expected, "right \(right.starts) left \(left.starts)")
        }
    }
}
