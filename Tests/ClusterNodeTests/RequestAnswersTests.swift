@testable import ClusterNode
import Foundation
import LicenseState
import Replication
import WireFormat
import XCTest

/// Remembered answers kept in the store's `requests` table: found again
/// before and after they are durable, replaced by the same rule as
/// `RequestBook`, restored by a truncation, forgotten by an expiry, and
/// moved out of an older store's checkpoint by the schema 5 migration.
final class RequestAnswersTests: XCTestCase {
    private let t: Int64 = 1_780_000_000
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "lts-requests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func grant(_ grantId: String, client: String = "c1", requestId: String?, attempt: Int? = nil, at: Int64? = nil) -> Grant {
        Grant(grantId: grantId, kind: .authorize, requestId: requestId, handshakeCode: "acme-1", clientUUID: client, itemId: "scan-1",
              amount: 1, domain: nil, leaseExpiresAt: nil, grace: false, at: at ?? t, attempt: attempt)
    }

    private func key(_ requestId: String, client: String = "c1") -> LicenseState.RequestKey {
        LicenseState.RequestKey(clientUUID: client, requestId: requestId)
    }

    /// A store and its answers, written the way `LicenseService` writes:
    /// each record appended through `RequestAnswers`, then made durable.
    private final class Log {
        let store: LicenseStore
        let answers: RequestAnswers
        var lastLsn: UInt64 = 0
        var book = RequestBook()
        private var sequence: UInt64 = 0
        private var queued: [(entry: LogEntry, payload: [UInt8], answer: StoredAnswer?)] = []
        private var queuedSequence: UInt64 = 0

        init(store: LicenseStore) throws {
            self.store = store
            let loaded = try store.loadState()
            answers = RequestAnswers(store: store, locator: loaded.requestLocator)
            lastLsn = loaded.history.lastLsn
        }

        /// Appends `records`; durable at once unless `durable` is false.
        func append(_ records: [LogRecord], durable: Bool = true) throws {
            for record in records {
                lastLsn += 1
                sequence += 1
                let entry = LogEntry(lsn: lastLsn, term: 1, record: record)
                queued.append((entry, LogRecordCodec.encode(record), try answers.appending(entry, sequence: sequence)))
                queuedSequence = sequence
                book.apply(record)
            }
            if durable { try flush() }
        }

        func flush() throws {
            guard !queued.isEmpty else { return }
            answers.durable(throughSequence: try write())
        }

        /// Commits the queued entries without telling `answers` yet;
        /// returns the last one's sequence number.
        func write() throws -> UInt64 {
            try store.append(queued)
            queued = []
            return queuedSequence
        }
    }

    func testAnswersAreFoundBeforeAndAfterTheyAreDurable() throws {
        let log = try Log(store: try LicenseStore(directory: directory))
        let first = grant("g1", requestId: "r1", attempt: 1)
        try log.append([.grant(first)], durable: false)
        XCTAssertEqual(try log.answers.answer(for: key("r1")), .granted(first), "not yet durable")
        XCTAssertEqual(log.answers.unwrittenCount, 1)
        try log.flush()
        XCTAssertEqual(log.answers.unwrittenCount, 0)
        XCTAssertEqual(try log.answers.answer(for: key("r1")), .granted(first), "read from the store")
        XCTAssertNil(try log.answers.answer(for: key("r1", client: "c2")), "the same request ID of another client")
        XCTAssertEqual(log.answers.locator.candidates(for: key("never-sent")), [])
        // A grant without request ID remembers nothing.
        try log.append([.grant(grant("g0", requestId: nil))])
        XCTAssertEqual(log.answers.locator.count, 1)

        // Reopened: the locator comes back from the table.
        log.store.close()
        let reopened = try Log(store: try LicenseStore(directory: directory))
        XCTAssertEqual(try reopened.answers.answer(for: key("r1")), .granted(first))
        XCTAssertEqual(reopened.answers.locator.candidates(for: key("r1")), [1])
    }

    func testAnswersFollowTheRuleOfTheBook() throws {
        let log = try Log(store: try LicenseStore(directory: directory))
        let early = grant("g1", requestId: "r1", attempt: 1)
        var later = early
        later.attempt = 3
        var stale = early
        stale.attempt = 2
        let refusal = RequestRefusal(clientUUID: "c1", requestId: "r2", attempt: 2, error: .quotaExhausted("scans"), at: t)
        let replacing = grant("g3", requestId: "r2", attempt: 3)
        try log.append([.grant(early), .grantAnsweredAgain(later, at: t + 1), .grantAnsweredAgain(stale, at: t + 2), .refusal(refusal)])
        try log.append([.grant(replacing)], durable: false)
        for requestId in ["r1", "r2"] {
            XCTAssertEqual(try log.answers.answer(for: key(requestId)), log.book.answer(for: key(requestId)), requestId)
        }
        XCTAssertEqual(try log.answers.answer(for: key("r1")), .granted(later), "a later attempt replaces; an earlier one does not")
        try log.flush()
        XCTAssertEqual(try log.answers.answer(for: key("r2")), .granted(replacing))
    }

    func testATruncationBringsBackTheAnswerBefore() throws {
        let log = try Log(store: try LicenseStore(directory: directory))
        let kept = grant("g1", requestId: "r1", attempt: 1)
        var again = kept
        again.attempt = 2
        try log.append([.grant(kept), .grantAnsweredAgain(again, at: t + 1), .grant(grant("g2", requestId: "r2"))])
        try log.append([.grant(grant("g3", requestId: "r3"))], durable: false)
        // As `LicenseService.truncate`: cut at once, then the store.
        log.answers.cutting(after: 1)
        XCTAssertEqual(try log.answers.answer(for: key("r1")), .granted(kept), "rows above the cut are not read")
        XCTAssertNil(try log.answers.answer(for: key("r3")), "an answer not yet durable is dropped")
        try log.flush()
        try log.store.truncate(after: 1)
        log.answers.cutDone()
        XCTAssertEqual(try log.answers.answer(for: key("r1")), .granted(kept))
        XCTAssertNil(try log.answers.answer(for: key("r2")))
        XCTAssertNil(try log.answers.answer(for: key("r3")))
    }

    /// A batch appended before a truncation becomes durable after it: the
    /// entries appended since, at the same LSNs, are not taken for durable.
    func testABatchFromBeforeACutDoesNotMakeLaterEntriesDurable() throws {
        let log = try Log(store: try LicenseStore(directory: directory))
        try log.append([.grant(grant("g1", requestId: "r1"))])
        try log.append([.grant(grant("g2", requestId: "r2")), .grant(grant("g3", requestId: "r3"))], durable: false)
        log.answers.cutting(after: 1)
        // As the store's writer does: the old batch, then the truncation; the
        // old batch's completion reaches the loop after new entries came.
        let oldBatch = try log.write()
        try log.store.truncate(after: 1)
        log.lastLsn = 1
        let first = grant("g4", requestId: "r4", attempt: 1)
        var again = first
        again.attempt = 2
        try log.append([.grant(first), .grant(grant("g5", requestId: "r5"))], durable: false)
        log.answers.durable(throughSequence: oldBatch)
        log.answers.cutDone()
        XCTAssertEqual(log.answers.unwrittenCount, 2)
        XCTAssertEqual(try log.answers.answer(for: key("r4")), .granted(first))
        try log.append([.grantAnsweredAgain(again, at: t + 1)], durable: false)
        XCTAssertEqual(try log.answers.answer(for: key("r4")), .granted(again), "answered again on top of an answer not yet durable")
        try log.flush()
        XCTAssertEqual(try log.answers.answer(for: key("r4")), .granted(again))
        XCTAssertNil(try log.answers.answer(for: key("r2")))
    }

    func testAnExpiryForgetsByTheLatestForgetTime() throws {
        let log = try Log(store: try LicenseStore(directory: directory))
        let day = UTCTime.secondsPerDay, retention = RequestBook.retentionSeconds
        let old = grant("g1", requestId: "r1", attempt: 1, at: t)
        let young = grant("g2", requestId: "r2", attempt: 1, at: t + 2 * day)
        // A reconciled answer carries the other node's (older) time; it is forgotten no earlier than the one it replaced.
        let reconciled = RequestRefusal(clientUUID: "c1", requestId: "r2", attempt: 2, error: .quotaExhausted("scans"), at: t - day)
        try log.append([.grant(old), .grant(young), .refusal(reconciled)])
        XCTAssertFalse(log.answers.needsExpiry(now: t + retention))
        XCTAssertTrue(log.answers.needsExpiry(now: t + retention + 1))
        try log.append([.expire(at: t + retention + 1)])
        XCTAssertFalse(log.answers.needsExpiry(now: t + retention + 1), "nothing left to forget at that time")
        XCTAssertNil(try log.answers.answer(for: key("r1")))
        XCTAssertEqual(try log.answers.answer(for: key("r2")), .refused(reconciled))
        try log.append([.expire(at: t + 2 * day + retention + 1)])
        XCTAssertNil(try log.answers.answer(for: key("r2")))
        XCTAssertEqual(try log.store.writer.query("SELECT count(*) FROM requests").first?.first?.integer, 0)
    }

    func testLocatorForgetsWholeSegmentsOnceEveryAnswerInThemIsForgotten() {
        var locator = RequestLocator()
        let perSegment = RequestLocator.firstSegmentSlots / 8 * 7
        for lsn in 1...UInt64(perSegment) { locator.insert(key("a\(lsn)"), lsn: lsn, forgetAt: t) }
        locator.insert(key("b"), lsn: UInt64(perSegment) + 1, forgetAt: t + 100)
        XCTAssertEqual(locator.slotBytes, 3 * RequestLocator.firstSegmentSlots * 8, "a full segment, then one twice its size")
        XCTAssertEqual(locator.candidates(for: key("a7")), [7])
        XCTAssertTrue(locator.holdsAnswers(before: t + 1))
        locator.forget(before: t + 1)
        XCTAssertEqual(locator.candidates(for: key("a7")), [], "every answer of the first segment is forgotten")
        XCTAssertEqual(locator.candidates(for: key("b")), [UInt64(perSegment) + 1])
        XCTAssertFalse(locator.holdsAnswers(before: t + 1))
        // The second segment holds an answer still remembered at this cutoff: it stays whole.
        locator.insert(key("c"), lsn: UInt64(perSegment) + 2, forgetAt: t + 10)
        locator.forget(before: t + 50)
        XCTAssertEqual(locator.candidates(for: key("c")), [UInt64(perSegment) + 2], "a pair may outlive its answer")
        XCTAssertEqual(locator.count, 2)
    }

    func testLocatorGivesEveryPairOfARequestNewestFirstAcrossSegments() {
        var locator = RequestLocator()
        locator.insert(key("r"), lsn: 5, forgetAt: t)
        for lsn in UInt64(6)...5_000 { locator.insert(key("x\(lsn)"), lsn: lsn, forgetAt: t) }
        locator.insert(key("r"), lsn: 5_001, forgetAt: t)
        XCTAssertEqual(locator.candidates(for: key("r")), [5_001, 5])
        XCTAssertEqual(locator.candidates(for: key("x4321")), [4_321])
        XCTAssertEqual(locator.count, 4_997)
        // Segments: 5...900 (1,024 slots), 901...2,692 (2,048), 2,693...5,001 (4,096).
        locator.cut(after: 2_999)
        XCTAssertEqual(locator.count, 4_997, "the last segment begins below the cut: it stays")
        locator.insert(key("r"), lsn: 3_000, forgetAt: t)
        XCTAssertEqual(locator.candidates(for: key("r")), [5_001, 3_000, 5], "a pair above the cut outlives its row")
        locator.cut(after: 2_000)
        XCTAssertEqual(locator.candidates(for: key("r")), [5], "the last segment lay wholly above the cut")
        XCTAssertEqual(locator.candidates(for: key("x4321")), [])
        XCTAssertEqual(locator.slotBytes, 3 * RequestLocator.firstSegmentSlots * 8)
        let misses = (0..<10_000).filter { !locator.candidates(for: key("new-\($0)")).isEmpty }.count
        XCTAssertLessThan(misses, 3, "a 32-bit fingerprint lets nearly every new request ID by")
    }

    /// Request IDs that count up differ only in their last characters,
    /// where FNV-1a leaves the high bits nearly alike: slots come from the
    /// mixed hash, which spreads them as random keys would be.
    func testLocatorSlotsOfCountingRequestIdsSpread() {
        let keys = (1...1_000).map { key("wrk-1a2b3c4d-1-\($0)", client: "wrk-1a2b3c4d-1") }
        let rawTops = Set(keys.map { UInt64(bitPattern: LicenseStore.keyHash($0)) >> 54 })
        let mixedTops = Set(keys.map { RequestLocator.slotHash(LicenseStore.keyHash($0)) >> 54 })
        XCTAssertLessThan(rawTops.count, 100, "the unmixed hash, as a check of the premise")
        XCTAssertGreaterThan(mixedTops.count, 550, "about 632 of 1,024 for random keys")
    }

    /// A pair left by a truncated answer points at the LSN a later record
    /// of another request took: the row names its request, so it answers
    /// nothing for this one.
    func testAStaleLocatorPairReadsNoAnswerOfAnotherRequest() throws {
        let log = try Log(store: try LicenseStore(directory: directory))
        try log.append([.grant(grant("g0", requestId: "r0")), .grant(grant("g1", requestId: "r1"))])
        log.answers.cutting(after: 1)
        try log.store.truncate(after: 1)
        log.answers.cutDone()
        log.lastLsn = 1
        let other = grant("g2", requestId: "r2")
        try log.append([.grant(other)])
        XCTAssertEqual(log.answers.locator.candidates(for: key("r1")), [2])
        XCTAssertNil(try log.answers.answer(for: key("r1")))
        XCTAssertEqual(try log.answers.answer(for: key("r2")), .granted(other))
    }

    /// A store of schema 4 held its answers in the checkpoint's state
    /// (snapshot version 3 or older) and in the log after it.
    func testMigrationMovesAnswersOutOfTheCheckpoint() throws {
        let inCheckpoint = grant("g1", requestId: "r1", attempt: 1)
        var answeredAgain = inCheckpoint
        answeredAgain.attempt = 2
        let inLog = grant("g3", requestId: "r3")
        var store = try LicenseStore(directory: directory)
        let log = try Log(store: store)
        try log.append([.grant(inCheckpoint), .grant(grant("g2", requestId: nil)), .expire(at: t)])
        var history = TermHistory()
        for lsn in UInt64(1)...3 { history.append(lsn: lsn, term: 1) }
        // Version 1: no licenses, items, handshakes or leases; one remembered request; no password; one grant in total.
        var old = BinaryWriter()
        old.unsigned(1)
        for _ in 0..<4 { old.unsigned(0) }
        old.unsigned(1)
        old.data(LogRecordCodec.encode(.grant(inCheckpoint)))
        old.bool(false)
        old.signed(1)
        try store.write(StoredCheckpoint(lsn: 3, compactedLsn: 3, history: history, state: old.bytes))
        try log.append([.grantAnsweredAgain(answeredAgain, at: t + 1), .grant(inLog)])
        try store.writer.execute("DROP TABLE requests; DROP TABLE regrants; PRAGMA user_version = 4;")
        store.close()

        store = try LicenseStore(directory: directory)
        XCTAssertEqual(try store.writer.query("PRAGMA user_version").first?.first?.integer, Int64(LicenseStore.schemaVersion))
        let migrated = try Log(store: store)
        XCTAssertEqual(try migrated.answers.answer(for: key("r1")), .granted(answeredAgain))
        XCTAssertEqual(try migrated.answers.answer(for: key("r3")), .granted(inLog))
        XCTAssertEqual(try store.writer.query("SELECT lsn FROM requests ORDER BY lsn").compactMap { $0[0].integer }, [3, 4, 5],
                       "the checkpoint's answer under the LSN just below it, later ones under their own")
    }

    /// A store of schema 6 found answers through an index on their hash;
    /// schema 7 drops it and finds them by LSN.
    func testMigrationToSchema7DropsTheHashIndex() throws {
        var store = try LicenseStore(directory: directory)
        let answered = grant("g1", requestId: "r1", attempt: 1)
        try Log(store: store).append([.grant(answered)])
        try store.writer.execute("CREATE INDEX requests_by_key_hash ON requests(key_hash); PRAGMA user_version = 6;")
        store.close()

        store = try LicenseStore(directory: directory)
        XCTAssertEqual(try store.writer.query("PRAGMA user_version").first?.first?.integer, 7)
        XCTAssertEqual(try store.writer.query("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'requests'")
            .first?.first?.integer, 0)
        XCTAssertEqual(try Log(store: store).answers.answer(for: key("r1")), .granted(answered))
    }
}
