@testable import ClusterNode
import Foundation
import LicenseState
import XCTest

/// Where a grant stands in the store's `grants` table: held, voided, live
/// again after reconciliation's re-grant, and put back as it was by a
/// truncation that cuts a void or a re-grant.
final class GrantStandingStoreTests: XCTestCase {
    private let t: Int64 = 1_780_000_000
    private var directory = ""
    private var store: LicenseStore!
    private var lastLsn: UInt64 = 0

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "lts-standing-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try LicenseStore(directory: directory)
    }

    override func tearDownWithError() throws {
        store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func grant(_ grantId: String, attempt: Int) -> Grant {
        Grant(grantId: grantId, kind: .report, requestId: "r1", handshakeCode: "acme-1", clientUUID: "c1", itemId: "scan-1",
              amount: 1, domain: nil, leaseExpiresAt: nil, grace: false, at: t, attempt: attempt)
    }

    private func append(_ records: LogRecord...) throws {
        var entries: [(entry: LogEntry, payload: [UInt8], answer: StoredAnswer?)] = []
        for record in records {
            lastLsn += 1
            entries.append((LogEntry(lsn: lastLsn, term: 1, record: record), LogRecordCodec.encode(record), nil))
        }
        try store.append(entries)
    }

    private func truncate(after lsn: UInt64) throws {
        try store.truncate(after: lsn)
        lastLsn = lsn
    }

    func testAVoidedGrantLoggedAgainIsLiveAndATruncationPutsItsVoidBack() throws {
        let x = grant("g-x", attempt: 1)
        let y = grant("g-y", attempt: 2)
        try append(.grant(x))
        XCTAssertEqual(try store.grantStanding("g-x"), .held)
        XCTAssertEqual(try store.grantStanding("g-none"), .absent)
        try append(.voidGrant(x, at: t), .grant(y))
        XCTAssertEqual(try store.grantStanding("g-x"), .voided)
        var xAgain = x
        xAgain.attempt = 5
        try append(.voidGrant(y, at: t), .grant(xAgain))
        XCTAssertEqual(try store.grantStanding("g-x"), .held, "the re-grant made it live")
        XCTAssertEqual(try store.grantStanding("g-y"), .voided)
        XCTAssertEqual(try LicenseStore.grants(in: store.reader, since: 0, limit: 10).map(\.grantId), ["g-x"], "a live grant is listed")
        // Cut the re-grant only: X is voided again, by its first void; Y stays voided.
        try truncate(after: 4)
        XCTAssertEqual(try store.grantStanding("g-x"), .voided)
        XCTAssertEqual(try store.grantStanding("g-y"), .voided)
        // Cut from the first void on: X is held, as it was; Y is gone.
        try truncate(after: 1)
        XCTAssertEqual(try store.grantStanding("g-x"), .held)
        XCTAssertEqual(try store.grantStanding("g-y"), .absent)
    }

    func testATruncationThroughTheVoidBeforeARegrantLeavesTheGrantHeld() throws {
        let x = grant("g-x", attempt: 1)
        var xAgain = x
        xAgain.attempt = 3
        try append(.grant(x), .voidGrant(x, at: t), .grant(xAgain))
        XCTAssertEqual(try store.grantStanding("g-x"), .held)
        try truncate(after: 1)
        XCTAssertEqual(try store.grantStanding("g-x"), .held, "the void and the re-grant are both cut")
        try append(.voidGrant(x, at: t))
        XCTAssertEqual(try store.grantStanding("g-x"), .voided, "a later void is recorded again")
    }
}
