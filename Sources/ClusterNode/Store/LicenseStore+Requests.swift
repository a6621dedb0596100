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
/// too), the newest per request being its answer. Answers live here, not
/// in the state, so the state and its checkpoints stay small however many
/// requests a node remembers.
extension LicenseStore {
    static let createRequestsTable = """
        CREATE TABLE requests(lsn INTEGER PRIMARY KEY, client_uuid TEXT NOT NULL, request_id TEXT NOT NULL,
            forget_at INTEGER NOT NULL, answer BLOB NOT NULL);
        CREATE INDEX requests_by_key ON requests(client_uuid, request_id);
        CREATE INDEX requests_by_forget_at ON requests(forget_at);
        """

    /// The answer stored for `key` by the records through `lsn`, read on
    /// the loop through the reader connection.
    func storedAnswer(for key: LicenseState.RequestKey, through lsn: UInt64) throws -> StoredAnswer? {
        guard let row = try reader.query("""
            SELECT answer, forget_at FROM requests WHERE client_uuid = ? AND request_id = ? AND lsn <= ? ORDER BY lsn DESC LIMIT 1
            """, [.text(key.clientUUID), .text(key.requestId), .integer(Int64(lsn))]).first else { return nil }
        guard let bytes = row[0].blob, let forgetAt = row[1].integer, let record = try? LogRecordCodec.decode(bytes),
              let answer = RememberedAnswer.after(record, replacing: nil), answer.key == key else {
            throw StoreFailure("\(path) is damaged in requests: the answer to request \(key.requestId) does not decode. Stop lts and restore the data directory from a backup.")
        }
        return StoredAnswer(answer: answer, forgetAt: forgetAt)
    }

    /// Stores `stored`, the answer `entry` (encoded as `payload`) gave.
    /// Writer connection, inside `append`'s transaction.
    func insert(_ stored: StoredAnswer, of entry: LogEntry, payload: [UInt8]) throws {
        let key = stored.answer.key
        // A grant or refusal is its own answer; a grant answered again is stored as the grant it now is.
        let answer: [UInt8]
        if case .grantAnsweredAgain = entry.record { answer = LogRecordCodec.encode(stored.answer.record) } else { answer = payload }
        try writer.query("INSERT INTO requests(lsn, client_uuid, request_id, forget_at, answer) VALUES (?, ?, ?, ?, ?)",
                         [.integer(Int64(entry.lsn)), .text(key.clientUUID), .text(key.requestId), .integer(stored.forgetAt),
                          .blob(answer)])
    }

    /// Forgets the answers with a forget time before `cutoff`. Writer connection.
    func forgetAnswers(before cutoff: Int64) throws {
        try writer.query("DELETE FROM requests WHERE forget_at < ?", [.integer(cutoff)])
    }

    /// The fingerprints of every stored answer, read through `database`.
    static func fingerprints(in database: SQLiteDatabase) throws -> RequestFingerprints {
        var fingerprints = RequestFingerprints()
        try database.each("SELECT client_uuid, request_id, forget_at FROM requests", []) { row in
            guard let clientUUID = row[0].text, let requestId = row[1].text, let forgetAt = row[2].integer else {
                throw StoreFailure("a row of requests has a wrong type")
            }
            fingerprints.insert(LicenseState.RequestKey(clientUUID: clientUUID, requestId: requestId), forgetAt: forgetAt)
        }
        return fingerprints
    }

    /// Schema 5: fills the new `requests` table from what held the answers
    /// before, the checkpoint's state and the log after it. Answers from
    /// the checkpoint get the LSNs just below it, in answer order (their
    /// own records are gone); each later record's answer gets its LSN.
    static func moveRequestsOutOfState(_ db: SQLiteDatabase) throws {
        var current: [LicenseState.RequestKey: StoredAnswer] = [:]
        func store(_ stored: StoredAnswer, lsn: UInt64) throws {
            let key = stored.answer.key
            current[key] = stored
            try db.query("INSERT INTO requests(lsn, client_uuid, request_id, forget_at, answer) VALUES (?, ?, ?, ?, ?)",
                         [.integer(Int64(lsn)), .text(key.clientUUID), .text(key.requestId), .integer(stored.forgetAt),
                          .blob(LogRecordCodec.encode(stored.answer.record))])
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
            if case .expire(let at) = record {
                let cutoff = at - RequestBook.retentionSeconds
                current = current.filter { $0.value.forgetAt >= cutoff }
                try db.query("DELETE FROM requests WHERE forget_at < ?", [.integer(cutoff)])
            }
            guard let key = record.answeredRequest, let stored = StoredAnswer.after(record, replacing: current[key]) else { return }
            try store(stored, lsn: UInt64(lsn))
        }
    }
}
