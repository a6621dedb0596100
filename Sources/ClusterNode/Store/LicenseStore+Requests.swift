import LicenseState
import Transport

/// A remembered answer as the store holds it.
///
/// Invariant: `forgetAt` is at least `answer.at` and at least the forget
/// time of the answer it replaced, so forgetting by time never leaves an
/// older answer of the same request in its place.
struct StoredAnswer: Equatable {
    var answer: RememberedAnswer
    /// From `forgetAt + RequestBook.retentionSeconds` on, a repeat is a new request.
    var forgetAt: Int64

    /// What `record` leaves as its request's answer when `current` was
    /// stored before (`RememberedAnswer.after`); nil when it changes nothing.
    static func after(_ record: LogRecord, replacing current: StoredAnswer?) -> StoredAnswer? {
        guard let answer = RememberedAnswer.after(record, replacing: current?.answer) else { return nil }
        return StoredAnswer(answer: answer, forgetAt: max(answer.at, current?.forgetAt ?? answer.at))
    }
}

/// The `requests` table: every answer to a request ID the log gave, by the
/// LSN of the record that gave it (so truncating the log truncates them
/// too), the newest per request being its answer, with a 64-bit hash of
/// the request (`keyHash`). Rows are found by LSN through the node's
/// `RequestLocator` (the answer names its request, so a row of another
/// request is told apart). Answers live here, not in the state, so the
/// state and its checkpoints stay small however many requests a node
/// remembers. No index on the hash: its random key had put each grant's
/// entry on a page of its own, one more page written per grant.
extension LicenseStore {
    static let createRequestsTable = """
        CREATE TABLE requests(lsn INTEGER PRIMARY KEY, key_hash INTEGER NOT NULL, forget_at INTEGER NOT NULL, answer BLOB NOT NULL);
        """

    /// FNV-1a (64 bits) of the client UUID, a zero byte and the request ID:
    /// the same in every process, so it is stored.
    static func keyHash(_ key: LicenseState.RequestKey) -> Int64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func add(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        for byte in key.clientUUID.utf8 { add(byte) }
        add(0)
        for byte in key.requestId.utf8 { add(byte) }
        return Int64(bitPattern: hash)
    }

    /// The answer stored for `key` among the rows at `candidates` (newest
    /// first, from the locator), read on the loop through the reader
    /// connection.
    func storedAnswer(for key: LicenseState.RequestKey, candidates: [UInt64]) throws -> StoredAnswer? {
        for lsn in candidates {
            guard let row = try reader.query("SELECT answer, forget_at FROM requests WHERE lsn = ?", [.integer(Int64(lsn))]).first else {
                continue
            }
            guard let bytes = row[0].blob, let forgetAt = row[1].integer, let record = try? LogRecordCodec.decode(bytes),
                  let answer = RememberedAnswer.after(record, replacing: nil) else {
                throw StoreFailure("\(path) is damaged in requests: an answer does not decode. Stop lts and restore the data directory from a backup.")
            }
            if answer.key == key { return StoredAnswer(answer: answer, forgetAt: forgetAt) }
        }
        return nil
    }

    /// Stores `stored`, the answer `entry` (encoded as `payload`) gave.
    /// Writer connection, inside `append`'s transaction.
    func insert(_ stored: StoredAnswer, of entry: LogEntry, payload: [UInt8]) throws {
        // A grant or refusal is its own answer; a grant answered again is stored as the grant it now is.
        let answer: [UInt8]
        if case .grantAnsweredAgain = entry.record { answer = LogRecordCodec.encode(stored.answer.record) } else { answer = payload }
        try Self.insert(stored, lsn: entry.lsn, encoded: answer, into: writer)
    }

    /// Writes the row of `stored` (its record encoded as `encoded`) under `lsn` through `database`.
    private static func insert(_ stored: StoredAnswer, lsn: UInt64, encoded: [UInt8], into database: SQLiteDatabase) throws {
        try database.query("INSERT INTO requests(lsn, key_hash, forget_at, answer) VALUES (?, ?, ?, ?)",
                           [.integer(Int64(lsn)), .integer(keyHash(stored.answer.key)), .integer(stored.forgetAt), .blob(encoded)])
    }

    /// Forgets, in LSN order, the answers with a forget time before
    /// `cutoff` up to the first one still remembered; one behind it (a
    /// reconciled answer, which carries the other node's older time) goes
    /// with a later expiry, as in `RequestBook`. Writer connection.
    func forgetAnswers(before cutoff: Int64) throws {
        if let kept = try writer.query("SELECT lsn FROM requests WHERE forget_at >= ? ORDER BY lsn LIMIT 1",
                                       [.integer(cutoff)]).first?.first?.integer {
            try writer.query("DELETE FROM requests WHERE lsn < ?", [.integer(kept)])
        } else {
            try writer.query("DELETE FROM requests")
        }
    }

    /// Where every stored answer is, read through `database` in LSN order.
    static func requestLocator(in database: SQLiteDatabase) throws -> RequestLocator {
        var locator = RequestLocator()
        try database.each("SELECT lsn, key_hash, forget_at FROM requests ORDER BY lsn", []) { row in
            guard let lsn = row[0].integer, lsn >= 0, let keyHash = row[1].integer, let forgetAt = row[2].integer else {
                throw StoreFailure("a row of requests has a wrong type")
            }
            locator.insert(keyHash: keyHash, lsn: UInt64(lsn), forgetAt: forgetAt)
        }
        return locator
    }

    /// Schema 5: fills the new `requests` table from what held the answers
    /// before, the checkpoint's state and the log after it. Answers from
    /// the checkpoint get the LSNs just below it, in answer order (their
    /// own records are gone); each later record's answer gets its LSN.
    /// Nothing is forgotten here: the node's next expiry does that.
    static func moveRequestsOutOfState(_ db: SQLiteDatabase) throws {
        var current: [LicenseState.RequestKey: StoredAnswer] = [:]
        func store(_ stored: StoredAnswer, lsn: UInt64) throws {
            current[stored.answer.key] = stored
            try insert(stored, lsn: lsn, encoded: LogRecordCodec.encode(stored.answer.record), into: db)
        }
        var checkpointLsn: UInt64 = 0
        if let row = try db.query("SELECT lsn, state FROM checkpoint WHERE id = 1").first, let lsn = row[0].integer, let bytes = row[1].blob,
           let old = try? StateSnapshotCodec.decodeWithRequests(bytes) {
            checkpointLsn = UInt64(lsn)
            guard old.requests.count <= Int(checkpointLsn) else { throw StoreFailure("the checkpoint holds more answers than records") }
            for (index, answer) in old.requests.enumerated() {
                try store(StoredAnswer(answer: answer, forgetAt: answer.at), lsn: checkpointLsn - UInt64(old.requests.count - index) + 1)
            }
        }
        try db.each("SELECT lsn, payload FROM wal WHERE lsn > ? ORDER BY lsn", [.integer(Int64(checkpointLsn))]) { row in
            guard let lsn = row[0].integer, let payload = row[1].blob, let record = try? LogRecordCodec.decode(payload) else {
                throw StoreFailure("a log record does not decode")
            }
            guard let key = record.answeredRequest, let stored = StoredAnswer.after(record, replacing: current[key]) else { return }
            try store(stored, lsn: UInt64(lsn))
        }
    }
}
