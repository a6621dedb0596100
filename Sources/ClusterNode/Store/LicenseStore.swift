import Foundation
import LicenseState
import Platform
import Replication
import Transport

/// One log entry as stored: its position and its record.
struct LogEntry: Equatable {
    var lsn: UInt64
    var term: UInt64
    var record: LogRecord
}

/// A grant as the admin API lists it, read from the `grants` table.
struct GrantRow: Equatable {
    var grantId: String
    var requestId: String?
    var handshakeCode: String
    var clientUUID: String
    var itemId: String
    var amount: Int64
    var grace: Bool
    var at: Int64
    var lsn: UInt64
    var term: UInt64
}

/// The node's SQLite database (WAL mode): the log table `wal`, the
/// `grants` fact table, the remembered answers to request IDs
/// (`requests`) and the `checkpoint` of the state, written in one
/// transaction per batch.
///
/// Invariant: `wal` holds contiguous LSNs from the checkpoint's
/// `compacted_lsn + 1` or earlier (from 1 without a checkpoint; rows through
/// `compacted_lsn` are removed a slice at a time), each row's CRC-32C
/// covers its term, kind and payload; the checkpoint's state is the replay
/// of the log through its `lsn`; a grant is in `grants` exactly when its
/// record is in the log or behind the checkpoint, with `voided_lsn` the LSN
/// of the record that voided it, if one did and no later grant record of it
/// (reconciliation's re-grant) made it live again; `regrants` holds, per
/// such re-grant, its LSN and the grant's `voided_lsn` before it, so a
/// truncation puts back what it cuts; `requests` holds the answer
/// of every record after the checkpoint that gave one
/// (`StoredAnswer.after`), and those before it not yet forgotten. The writer connection is
/// used by one thread at a time; the reader connection only on the loop
/// thread.
final class LicenseStore {
    /// The schema this code writes; older databases are migrated on open.
    static let schemaVersion = 7
    /// The first schema whose store applies a grant record of a grant it
    /// holds (a re-grant, `regrants`); an older one fails on it.
    static let regrantsSchemaVersion: UInt64 = 6
    static let fileName = "lts.sqlite"

    private(set) var writer: SQLiteDatabase
    private(set) var reader: SQLiteDatabase
    /// Copies SQLite's WAL file into the database file beside the writer
    /// (`checkpointSQLiteWAL`), so that no append waits for that copy.
    private(set) var walCheckpointer: SQLiteDatabase
    let path: String

    /// Opens (creating or migrating) the database in `directory`.
    convenience init(directory: String) throws {
        try self.init(file: directory + "/" + Self.fileName)
    }

    /// Opens (creating or migrating) the database file at `file`.
    init(file: String) throws {
        path = file
        (writer, reader, walCheckpointer) = try Self.connections(path)
    }

    /// Closes the connections, the writer last: closing, it checkpoints
    /// the WAL into the database file.
    func close() {
        reader.close()
        walCheckpointer.close()
        writer.close()
    }

    /// The writer (set up and migrated), reader and WAL-checkpointer
    /// connections of `path`. The writer never checkpoints SQLite's WAL
    /// itself: a commit that did held every answer behind it for as long
    /// as the copy took (up to 250 ms with millions of remembered requests).
    static func connections(_ path: String) throws -> (writer: SQLiteDatabase, reader: SQLiteDatabase, walCheckpointer: SQLiteDatabase) {
        let writer = try SQLiteDatabase(path: path)
        try writer.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=0;")
        try migrate(writer, path: path)
        let walCheckpointer = try SQLiteDatabase(path: path)
        try walCheckpointer.execute("PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0;")
        return (writer, try SQLiteDatabase(path: path, readOnly: true), walCheckpointer)
    }

    /// Frames (pages) the WAL file may hold before the writer finishes a
    /// checkpoint so that it starts over: 64 MiB.
    static let walFramesBeforeRestart: Int64 = 16_384

    /// Copies what it can of SQLite's WAL file into the database file
    /// without waiting for the writer or readers (a passive checkpoint).
    /// One pool job at a time, never while the store is replaced
    /// (`LogWriter`).
    /// - Returns: whether the WAL file holds more than
    ///   `walFramesBeforeRestart` frames (`finishSQLiteWALCheckpoint` is due).
    func checkpointSQLiteWAL() throws -> Bool {
        let frames = try walCheckpointer.query("PRAGMA wal_checkpoint(PASSIVE)").first?[1].integer ?? 0
        return frames > Self.walFramesBeforeRestart
    }

    /// Copies the rest of SQLite's WAL file, what was committed while
    /// `checkpointSQLiteWAL` ran, between two commits of the writer: a
    /// checkpoint that copied every frame lets the next commit start the
    /// WAL file over, where one beside a busy writer never does and the
    /// file grows without end. Writer connection.
    func finishSQLiteWALCheckpoint() throws {
        try writer.execute("PRAGMA wal_checkpoint(PASSIVE)")
    }

    private static func migrate(_ db: SQLiteDatabase, path: String) throws {
        let version = try db.query("PRAGMA user_version").first?.first?.integer ?? 0
        guard version <= Int64(schemaVersion) else {
            throw StoreFailure("\(path) has schema version \(version), newer than this lts (\(schemaVersion)); run the newer lts or restore a backup")
        }
        if version < 1 {
            try db.transaction {
                try db.execute("""
                CREATE TABLE wal(lsn INTEGER PRIMARY KEY, term INTEGER NOT NULL, kind TEXT NOT NULL, payload BLOB NOT NULL, crc INTEGER NOT NULL);
                CREATE TABLE grants(grant_id TEXT PRIMARY KEY, lsn INTEGER NOT NULL, term INTEGER NOT NULL, request_id TEXT,
                    handshake_code TEXT NOT NULL, client_uuid TEXT NOT NULL, item_id TEXT NOT NULL, amount INTEGER NOT NULL,
                    grace INTEGER NOT NULL, at INTEGER NOT NULL);
                CREATE INDEX grants_by_lsn ON grants(lsn);
                CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                PRAGMA user_version = 1;
                """)
            }
        }
        if version < 2 {
            // Records a node had after the point where its log left the
            // primary's: kept until the primary holds them again.
            try db.transaction {
                try db.execute("""
                CREATE TABLE reconcile_queue(id INTEGER PRIMARY KEY AUTOINCREMENT, lsn INTEGER NOT NULL, term INTEGER NOT NULL,
                    kind TEXT NOT NULL, payload BLOB NOT NULL, crc INTEGER NOT NULL);
                PRAGMA user_version = 2;
                """)
            }
        }
        if version < 3 {
            // The state as of `lsn`, so the log behind it can go.
            try db.transaction {
                try db.execute("""
                CREATE TABLE checkpoint(id INTEGER PRIMARY KEY CHECK (id = 1), lsn INTEGER NOT NULL, compacted_lsn INTEGER NOT NULL,
                    history BLOB NOT NULL, state BLOB NOT NULL, crc INTEGER NOT NULL);
                PRAGMA user_version = 3;
                """)
            }
        }
        if version < 4 {
            // Grants reconciliation took back: listed no more, still known.
            try db.transaction {
                try db.execute("ALTER TABLE grants ADD COLUMN voided_lsn INTEGER; PRAGMA user_version = 4;")
            }
        }
        if version < 5 {
            // Answers to request IDs, out of the state and its checkpoints.
            try db.transaction {
                try db.execute(createRequestsTable)
                try moveRequestsOutOfState(db)
                try db.execute("PRAGMA user_version = 5;")
            }
        }
        if version < 6 {
            // Grants a void took back and reconciliation made live again.
            try db.transaction {
                try db.execute("""
                CREATE TABLE regrants(lsn INTEGER PRIMARY KEY, grant_id TEXT NOT NULL, voided_lsn INTEGER);
                PRAGMA user_version = 6;
                """)
            }
        }
        if version < 7 {
            // Answers are found by LSN through the node's RequestLocator, not by an index on their hash.
            try db.transaction {
                try db.execute("DROP INDEX IF EXISTS requests_by_key_hash; PRAGMA user_version = 7;")
            }
        }
    }

    /// Replaces this store's file with `file` (prepared by `adopt`) and
    /// opens it. No other work may use the store meanwhile.
    func replace(with file: String) throws {
        // Everything committed goes into the old file first, so nothing of
        // it lives only in the log file removed below.
        try writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        close()
        // A log file left by the old database would be applied to the new one.
        DurableFile.remove(path + "-wal")
        DurableFile.remove(path + "-shm")
        do {
            try DurableFile.move(file, to: path)
        } catch {
            throw StoreFailure("cannot move the snapshot \(file) to \(path): \(error)")
        }
        (writer, reader, walCheckpointer) = try Self.connections(path)
    }

    // MARK: Log

    /// The checksum stored with a record: CRC-32C over term, kind and payload.
    static func checksum(term: UInt64, kind: String, payload: [UInt8]) -> UInt32 {
        var termBytes = [UInt8](repeating: 0, count: 8)
        for index in 0..<8 { termBytes[index] = UInt8(truncatingIfNeeded: term >> UInt64(56 - 8 * index)) }
        let crc = CRC32C.update(CRC32C.update(CRC32C.initial, termBytes), kind.utf8)
        return CRC32C.finish(CRC32C.update(crc, payload))
    }

    /// Reads the log after `lsn` in order, checking every row before it is used.
    /// - Throws: `StoreFailure` naming the file and the damaged LSN.
    func readLog(after lsn: UInt64 = 0, _ each: (LogEntry) throws -> Void) throws {
        var expected: UInt64 = lsn + 1
        try writer.each("SELECT lsn, term, kind, payload, crc FROM wal WHERE lsn > ? ORDER BY lsn", [.integer(Int64(lsn))]) { row in
            guard let lsn = row[0].integer, let term = row[1].integer, let kind = row[2].text, let payload = row[3].blob,
                  let crc = row[4].integer else {
                throw damaged("a log row has a wrong type", lsn: expected)
            }
            guard UInt64(lsn) == expected else { throw damaged("the log skips from \(expected - 1) to \(lsn)", lsn: expected) }
            guard UInt32(truncatingIfNeeded: crc) == Self.checksum(term: UInt64(term), kind: kind, payload: payload) else {
                throw damaged("the checksum does not match", lsn: expected)
            }
            guard let record = try? LogRecordCodec.decode(payload), record.kind == kind else {
                throw damaged("the record cannot be decoded", lsn: expected)
            }
            try each(LogEntry(lsn: UInt64(lsn), term: UInt64(term), record: record))
            expected += 1
        }
    }

    func damaged(_ what: String, lsn: UInt64) -> StoreFailure {
        StoreFailure("\(path) is damaged at log record \(lsn): \(what). Stop lts, restore the data directory from a backup (or, on a standby, move it away so the node rejoins from its peer), then start again.")
    }

    /// Appends entries (each with its record encoded, and the answer it
    /// leaves its request, if it changes one), their grants and answers in
    /// one transaction. Called on a pool thread, one batch at a time.
    func append(_ entries: [(entry: LogEntry, payload: [UInt8], answer: StoredAnswer?)]) throws {
        try writer.transaction {
            for (entry, payload, answer) in entries {
                let kind = entry.record.kind
                let crc = Self.checksum(term: entry.term, kind: kind, payload: payload)
                try writer.query("INSERT INTO wal(lsn, term, kind, payload, crc) VALUES (?, ?, ?, ?, ?)",
                                 [.integer(Int64(entry.lsn)), .integer(Int64(entry.term)), .text(kind), .blob(payload), .integer(Int64(crc))])
                if let answer { try insert(answer, of: entry, payload: payload) }
                if case .expire(let at) = entry.record { try forgetAnswers(before: at - RequestBook.retentionSeconds) }
                if case .voidGrant(let grant, _) = entry.record {
                    try writer.query("UPDATE grants SET voided_lsn = ? WHERE grant_id = ? AND voided_lsn IS NULL",
                                     [.integer(Int64(entry.lsn)), .text(grant.grantId)])
                }
                if case .grant(let grant) = entry.record {
                    let inserted = try writer.query("""
                        INSERT INTO grants(grant_id, lsn, term, request_id, handshake_code, client_uuid, item_id, amount, grace, at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(grant_id) DO NOTHING RETURNING 1
                        """, [.text(grant.grantId), .integer(Int64(entry.lsn)), .integer(Int64(entry.term)),
                              grant.requestId.map { .text($0) } ?? .null, .text(grant.handshakeCode), .text(grant.clientUUID),
                              .text(grant.itemId), .integer(grant.amount), .integer(grant.grace ? 1 : 0), .integer(grant.at)])
                    if inserted.isEmpty { try regrant(grant.grantId, lsn: entry.lsn) }
                }
            }
        }
    }

    /// A grant record of a grant the log holds: reconciliation made a voided
    /// grant live again (`LicenseState.reconciliation`). Its row stays, with
    /// its first record's LSN; `regrants` keeps what a truncation of this
    /// record puts back.
    private func regrant(_ grantId: String, lsn: UInt64) throws {
        try writer.query("INSERT INTO regrants(lsn, grant_id, voided_lsn) SELECT ?, grant_id, voided_lsn FROM grants WHERE grant_id = ?",
                         [.integer(Int64(lsn)), .text(grantId)])
        try writer.query("UPDATE grants SET voided_lsn = NULL WHERE grant_id = ?", [.text(grantId)])
    }

    // MARK: Replication (writer: one pool job at a time)

    /// Moves the log after `lsn` into the reconciliation queue and removes
    /// it (and its grants) from the log, in one transaction.
    func truncate(after lsn: UInt64) throws {
        try writer.transaction {
            try writer.query("INSERT INTO reconcile_queue(lsn, term, kind, payload, crc) SELECT lsn, term, kind, payload, crc FROM wal WHERE lsn > ? ORDER BY lsn",
                             [.integer(Int64(lsn))])
            try writer.query("DELETE FROM grants WHERE lsn > ?", [.integer(Int64(lsn))])
            try writer.query("DELETE FROM requests WHERE lsn > ?", [.integer(Int64(lsn))])
            try writer.query("UPDATE grants SET voided_lsn = NULL WHERE voided_lsn > ?", [.integer(Int64(lsn))])
            // A re-grant cut: the grant is as it was before the first one cut.
            try writer.query("""
                UPDATE grants SET voided_lsn = (SELECT CASE WHEN r.voided_lsn <= ?1 THEN r.voided_lsn END FROM regrants r
                    WHERE r.grant_id = grants.grant_id AND r.lsn > ?1 ORDER BY r.lsn LIMIT 1)
                WHERE grant_id IN (SELECT grant_id FROM regrants WHERE lsn > ?1)
                """, [.integer(Int64(lsn))])
            try writer.query("DELETE FROM regrants WHERE lsn > ?", [.integer(Int64(lsn))])
            try writer.query("DELETE FROM wal WHERE lsn > ?", [.integer(Int64(lsn))])
        }
    }

    /// Removes the queued records with IDs at or below `throughId` (all when nil).
    func clearReconcileQueue(throughId: Int64?) throws {
        try writer.query("DELETE FROM reconcile_queue WHERE id <= ?", [.integer(throughId ?? .max)])
    }

    // MARK: Replication (reader: loop thread)

    /// The records waiting in the reconciliation queue, oldest first, at
    /// most `limit`, with their queue IDs.
    func reconcileQueue(limit: Int = .max) throws -> [(id: Int64, entry: LogEntry)] {
        try reader.query("SELECT lsn, term, kind, payload, crc, id FROM reconcile_queue ORDER BY id LIMIT ?",
                         [.integer(Int64(limit))]).map { row in
            (row[5].integer ?? 0, try checkedEntry(row, table: "reconcile_queue"))
        }
    }

    /// Durable log entries `(after, through]`, as stored, for streaming:
    /// each row's checksum is checked, its payload is not decoded (the
    /// standby decodes every record it receives before it applies it).
    /// Decoding and encoding again each old record had been most of the
    /// primary's work while a standby caught up.
    func replicatedEntries(after: UInt64, through: UInt64) throws -> [ReplicatedEntry] {
        var entries: [ReplicatedEntry] = []
        entries.reserveCapacity(Int(min(through - min(after, through), 65_536)))
        try reader.each("SELECT lsn, term, kind, payload, crc FROM wal WHERE lsn > ? AND lsn <= ? ORDER BY lsn",
                        [.integer(Int64(after)), .integer(Int64(through))]) { row in
            let checked = try checkedRow(row, table: "wal")
            guard checked.lsn >= 1, checked.term >= 1 else {
                throw StoreFailure("\(path) is damaged in wal: a row holds an LSN or term below 1. Stop lts and restore the data directory from a backup.")
            }
            entries.append(ReplicatedEntry(lsn: checked.lsn, term: checked.term, payload: checked.payload))
        }
        return entries
    }

    /// The LSNs of the grant records that made a voided grant live again.
    func regrantLsns() throws -> [UInt64] {
        try reader.query("SELECT lsn FROM regrants").compactMap { $0[0].integer.map(UInt64.init) }
    }

    /// Whether a grant with this ID is in the log, and whether a void of it.
    func grantStanding(_ grantId: String) throws -> GrantStanding {
        guard let row = try reader.query("SELECT voided_lsn FROM grants WHERE grant_id = ?", [.text(grantId)]).first else {
            return .absent
        }
        return row[0].integer == nil ? .held : .voided
    }

    private func checkedEntry(_ row: [SQLiteValue], table: String) throws -> LogEntry {
        let checked = try checkedRow(row, table: table)
        guard let record = try? LogRecordCodec.decode(checked.payload), record.kind == checked.kind else {
            throw StoreFailure("\(path) is damaged in \(table): a row cannot be decoded. Stop lts and restore the data directory from a backup.")
        }
        return LogEntry(lsn: checked.lsn, term: checked.term, record: record)
    }

    /// A log row (lsn, term, kind, payload, crc) whose checksum matches, not decoded.
    private func checkedRow(_ row: [SQLiteValue], table: String) throws -> (lsn: UInt64, term: UInt64, kind: String, payload: [UInt8]) {
        guard let lsn = row[0].integer, let term = row[1].integer, let kind = row[2].text, let payload = row[3].blob,
              let crc = row[4].integer, UInt32(truncatingIfNeeded: crc) == Self.checksum(term: UInt64(term), kind: kind, payload: payload) else {
            throw StoreFailure("\(path) is damaged in \(table): a row fails its checksum. Stop lts and restore the data directory from a backup.")
        }
        return (UInt64(lsn), UInt64(term), kind, payload)
    }

    // MARK: Meta

    func meta(_ key: String) throws -> String? {
        try writer.query("SELECT value FROM meta WHERE key = ?", [.text(key)]).first?.first?.text
    }

    func setMeta(_ key: String, _ value: String) throws {
        try writer.query("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                         [.text(key), .text(value)])
    }

    // MARK: Queries (a `StoreReader`'s pool thread)

    /// Grants with `lsn > since` and not voided, oldest first, at most `limit`, read
    /// through `database` (a read-only connection of the store).
    static func grants(in database: SQLiteDatabase, since: UInt64, limit: Int) throws -> [GrantRow] {
        // SQLite holds LSNs as signed 64-bit integers, so none exceeds Int64.max:
        // a larger `since` (a caller's) asks for nothing, and must not trap.
        try database.query("""
            SELECT grant_id, request_id, handshake_code, client_uuid, item_id, amount, grace, at, lsn, term
            FROM grants WHERE lsn > ? AND voided_lsn IS NULL ORDER BY lsn LIMIT ?
            """, [.integer(Int64(clamping: since)), .integer(Int64(limit))]).map { row in
            GrantRow(grantId: row[0].text ?? "", requestId: row[1].text, handshakeCode: row[2].text ?? "",
                     clientUUID: row[3].text ?? "", itemId: row[4].text ?? "", amount: row[5].integer ?? 0,
                     grace: row[6].integer == 1, at: row[7].integer ?? 0, lsn: UInt64(row[8].integer ?? 0),
                     term: UInt64(row[9].integer ?? 0))
        }
    }
}

/// The store cannot be used (damage, a newer schema, a full disk); the
/// message says which file and what to do.
struct StoreFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
