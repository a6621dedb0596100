import LicenseState
import WireFormat
import XCTest

/// The audit log in the state: `audit` records are kept in order with
/// consecutive IDs, within the entry bound and the retention by record
/// time, paged newest first, and carried whole by snapshots (a version 5
/// snapshot decodes with an empty log).
final class AuditLogTests: XCTestCase {
    static let day: Int64 = 86_400

    func entry(_ at: Int64, _ action: AuditEntry.Action = .login, actor: String = "admin session 0a1b2c3d", object: String = "",
               refusalCode: Int? = nil) -> LogRecord {
        .audit(AuditEntry(at: at, actor: actor, address: "192.0.2.7", action: action, object: object, refusalCode: refusalCode))
    }

    func testRecordsAreKeptInOrderWithConsecutiveIds() {
        var state = LicenseState()
        state.apply(entry(Fixture.now, .login, refusalCode: -20201))
        state.apply(entry(Fixture.now + 1, .login))
        state.apply(entry(Fixture.now + 2, .licenseImport, object: "L-1"))
        XCTAssertEqual(state.audit.entries.map(\.action), [.login, .login, .licenseImport])
        XCTAssertEqual(state.audit.entries.map(\.result), ["refused -20201", "ok", "ok"])
        XCTAssertEqual(state.audit.appendedTotal, 3)
        let page = state.audit.page(since: nil, beforeId: nil, limit: 10)
        XCTAssertEqual(page.map(\.id), [3, 2, 1], "newest first")
        XCTAssertEqual(page.first?.entry.object, "L-1")
    }

    func testPagesFilterBySinceBeforeAndMatch() {
        var state = LicenseState()
        for second in Int64(0)..<10 { state.apply(entry(Fixture.now + second, second % 2 == 0 ? .login : .logout)) }
        XCTAssertEqual(state.audit.page(since: nil, beforeId: nil, limit: 3).map(\.id), [10, 9, 8])
        XCTAssertEqual(state.audit.page(since: nil, beforeId: 8, limit: 3).map(\.id), [7, 6, 5], "older than the last row shown")
        XCTAssertEqual(state.audit.page(since: nil, beforeId: 1, limit: 3).map(\.id), [])
        XCTAssertEqual(state.audit.page(since: nil, beforeId: 1_000, limit: 2).map(\.id), [10, 9])
        XCTAssertEqual(state.audit.page(since: Fixture.now + 7, beforeId: nil, limit: 10).map(\.id), [10, 9, 8])
        XCTAssertEqual(state.audit.page(since: nil, beforeId: nil, limit: 10) { $0.action == .login }.map(\.id), [9, 7, 5, 3, 1])
    }

    func testEntriesPastTheBoundGoOldestFirst() {
        var state = LicenseState()
        let total = AuditLog.entriesMax + 5
        for index in 0..<total { state.apply(entry(Fixture.now + Int64(index / 1000), object: "o\(index)")) }
        XCTAssertEqual(state.audit.entries.count, AuditLog.entriesMax)
        XCTAssertEqual(state.audit.entries.first?.object, "o5")
        XCTAssertEqual(state.audit.entries.last?.object, "o\(total - 1)")
        XCTAssertEqual(state.audit.appendedTotal, Int64(total))
        XCTAssertEqual(state.audit.page(since: nil, beforeId: nil, limit: 1).first?.id, Int64(total))
        XCTAssertEqual(state.audit.page(since: nil, beforeId: 7, limit: 5).map(\.id), [6], "entries 1 to 5 are gone")
    }

    func testEntriesExpireByRecordTimeAfterTheRetention() {
        var state = LicenseState()
        let start = Fixture.now
        state.apply(entry(start, object: "old"))
        state.apply(entry(start + 10 * Self.day, object: "newer"))
        let kept = start + AuditLog.retentionSeconds
        XCTAssertFalse(state.needsExpiry(now: kept), "an entry is kept its whole retention")
        XCTAssertTrue(state.needsExpiry(now: kept + 1))
        XCTAssertGreaterThanOrEqual(AuditLog.retentionSeconds, 400 * Self.day)

        var expired = state
        expired.apply(.expire(at: kept + 1))
        XCTAssertEqual(expired.audit.entries.map(\.object), ["newer"])
        XCTAssertFalse(expired.needsExpiry(now: kept + 1))

        // A new entry also ages out those older than the retention at its time.
        var appended = state
        appended.apply(entry(start + 20 * Self.day + AuditLog.retentionSeconds, object: "late"))
        XCTAssertEqual(appended.audit.entries.map(\.object), ["late"])
        XCTAssertEqual(appended.audit.appendedTotal, 3)
    }

    func testLongFieldsAreCutAtACharacterBoundary() {
        let long = String(repeating: "ü", count: 200)
        let cut = AuditEntry(at: 0, actor: long, address: long, action: .login, object: long, refusalCode: nil)
        XCTAssertEqual(cut.actor.utf8.count, AuditEntry.actorBytesMax)
        XCTAssertEqual(cut.address.utf8.count, AuditEntry.addressBytesMax)
        XCTAssertEqual(cut.object.utf8.count, AuditEntry.objectBytesMax)
        XCTAssertTrue(cut.object.allSatisfy { $0 == "ü" })
        XCTAssertEqual(AuditEntry(at: 0, actor: "a" + long, address: "", action: .login, object: "", refusalCode: nil).actor.utf8.count,
                       AuditEntry.actorBytesMax - 1, "a 2-byte character that would pass the bound is left out")
    }

    func testCodecRefusesWhatEncodeNeverWrites() {
        func bytes(action: String = "login", actor: String = "a", code: Int64? = nil) -> [UInt8] {
            var writer = BinaryWriter()
            writer.unsigned(19)
            writer.signed(0)
            writer.string(actor)
            writer.string("")
            writer.string(action)
            writer.string("")
            writer.bool(code != nil)
            if let code { writer.signed(code) }
            return writer.bytes
        }
        XCTAssertNoThrow(try LogRecordCodec.decode(bytes()), "the control decodes")
        XCTAssertNoThrow(try LogRecordCodec.decode(bytes(code: -20201)))
        XCTAssertThrowsError(try LogRecordCodec.decode(bytes(action: "reboot")), "an unknown action")
        XCTAssertThrowsError(try LogRecordCodec.decode(bytes(actor: String(repeating: "a", count: AuditEntry.actorBytesMax + 1))),
                             "an actor past its bound")
        XCTAssertThrowsError(try LogRecordCodec.decode(bytes(code: 0)), "a refusal code that is not negative")
        XCTAssertThrowsError(try LogRecordCodec.decode(bytes(code: Int64(Int32.min) - 1)), "a refusal code out of range")
    }

    // MARK: Snapshots

    func testSnapshotCarriesTheAuditLog() throws {
        var state = LicenseState()
        for index in Int64(0)..<5 { state.apply(entry(Fixture.now + index, .handshakeUpdate, object: "acme-\(index)")) }
        state.apply(.expire(at: Fixture.now + 2 + AuditLog.retentionSeconds + 1))
        XCTAssertEqual(state.audit.entries.count, 2)
        let bytes = StateSnapshotCodec.encode(state)
        let restored = try StateSnapshotCodec.decode(bytes)
        XCTAssertEqual(restored.audit, state.audit)
        XCTAssertEqual(restored.digest, state.digest)
        XCTAssertEqual(restored.audit.page(since: nil, beforeId: nil, limit: 5).map(\.id), [5, 4], "IDs survive the snapshot")
        var changed = state
        changed.apply(entry(Fixture.now + 9))
        XCTAssertNotEqual(changed.digest, state.digest, "the digest covers the audit log")
    }

    /// A version 5 snapshot (before the audit log) decodes with an empty
    /// one; the same state written as version 6 gains only the empty audit
    /// section and the empty per-code usage section after it, at its end.
    func testVersion5SnapshotDecodesWithAnEmptyAuditLog() throws {
        var state = LicenseState()
        state.apply(.setAdminPassword(Fixture.password(2), at: Fixture.now))
        state.apply(.clusterIdentity(uuid: "0a1b2c3d-0000-4000-8000-000000000000", at: Fixture.now))
        let current = StateSnapshotCodec.encode(state)
        XCTAssertEqual(current.first, 6)
        XCTAssertEqual(Array(current.suffix(4)), [0, 0, 0, 0], "no entries, none ever appended; then no drills, no item's use split by code")
        let version5 = [5] + current.dropFirst().dropLast(4)
        let decoded = try StateSnapshotCodec.decode(Array(version5))
        XCTAssertEqual(decoded, state)
        XCTAssertEqual(decoded.audit, AuditLog())
        XCTAssertThrowsError(try StateSnapshotCodec.decode(Array(version5) + [0, 0, 0, 0]), "a version 5 snapshot has no audit section")
        XCTAssertThrowsError(try StateSnapshotCodec.decode(Array(current.dropLast(4)) + [0, 0]), "a version 6 snapshot has one")
    }

    func testSnapshotRefusesAnAuditSectionEncodeNeverWrites() {
        // The state before the audit section; the drills and per-code usage sections (empty) after it.
        let empty = Array(StateSnapshotCodec.encode(LicenseState()).dropLast(4))
        let after: [UInt8] = [0, 0]
        var tooMany = BinaryWriter()
        tooMany.unsigned(UInt64(AuditLog.entriesMax + 1))
        XCTAssertThrowsError(try StateSnapshotCodec.decode(empty + tooMany.bytes + after), "more entries than the bound")
        let oneEntry = [1] + Array(LogRecordCodec.encode(entry(Fixture.now)).dropFirst())
        XCTAssertNoThrow(try StateSnapshotCodec.decode(empty + oneEntry + [2] + after), "the control: one entry, one appended")
        XCTAssertThrowsError(try StateSnapshotCodec.decode(empty + oneEntry + [0] + after), "a total below the entries kept")
    }
}
