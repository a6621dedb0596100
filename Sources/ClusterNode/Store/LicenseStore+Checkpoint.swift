import Foundation
import Platform
import LicenseState
import Replication
import Transport

/// A stored checkpoint: the state as of `lsn` (encoded), the terms of the
/// log through it, and how far the log behind it is removed.
///
/// Invariant: `compactedLsn <= lsn == history.lastLsn`.
struct StoredCheckpoint: Equatable {
    var lsn: UInt64
    var compactedLsn: UInt64
    var history: TermHistory
    var state: [UInt8]
}

/// What a store holds, read back: the state and term history of its whole
/// log (checkpoint and replay), where its checkpoint and log start, and
/// where its remembered answers are.
struct LoadedState {
    var state: LicenseState
    var history: TermHistory
    var checkpointLsn: UInt64
    var compactedLsn: UInt64
    var requestLocator: RequestLocator
}

/// Checkpoints, the emptied log of a node that diverged behind its
/// checkpoint, and snapshots (SQLite online backups) that make one store
/// the copy of another. Writer-connection work: one pool job at a time.
extension LicenseStore {
    /// The checkpoint, checked against its CRC; nil when there is none.
    func checkpoint() throws -> StoredCheckpoint? {
        guard let row = try writer.query("SELECT lsn, compacted_lsn, history, state, crc FROM checkpoint WHERE id = 1").first else {
            return nil
        }
        guard let lsn = row[0].integer, let compacted = row[1].integer, let historyBytes = row[2].blob, let state = row[3].blob,
              let crc = row[4].integer, UInt32(truncatingIfNeeded: crc) == CRC32C.checksum(historyBytes + state) else {
            throw StoreFailure("\(path) is damaged: the checkpoint fails its checksum. Stop lts and restore the data directory from a backup (on a standby: move it away, the node then rejoins from its peer).")
        }
        var reader = BinaryReader(historyBytes)
        guard let history = try? ReplicationMessageCodec.readHistory(&reader), reader.isAtEnd, history.lastLsn == UInt64(lsn),
              compacted >= 0, UInt64(compacted) <= UInt64(lsn) else {
            throw StoreFailure("\(path) is damaged: the checkpoint's term history does not decode. Stop lts and restore the data directory from a backup.")
        }
        return StoredCheckpoint(lsn: UInt64(lsn), compactedLsn: UInt64(compacted), history: history, state: state)
    }

    /// Stores `checkpoint`. The log through its `compactedLsn` may go
    /// from then on: `compactLog` removes it a slice at a time, so that no
    /// one transaction holds up the appends behind it.
    func write(_ checkpoint: StoredCheckpoint) throws {
        var history = BinaryWriter()
        ReplicationMessageCodec.write(checkpoint.history, into: &history)
        let crc = CRC32C.checksum(history.bytes + checkpoint.state)
        try writer.transaction {
            try writer.query("""
                INSERT INTO checkpoint(id, lsn, compacted_lsn, history, state, crc) VALUES (1, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET lsn = excluded.lsn, compacted_lsn = excluded.compacted_lsn,
                    history = excluded.history, state = excluded.state, crc = excluded.crc
                """, [.integer(Int64(checkpoint.lsn)), .integer(Int64(checkpoint.compactedLsn)), .blob(history.bytes),
                      .blob(checkpoint.state), .integer(Int64(crc))])
        }
    }

    /// Removes the oldest log rows through `lsn`, at most `limit` of them;
    /// returns whether rows through `lsn` remain. The caller passes at most
    /// the stored checkpoint's `compactedLsn`.
    func compactLog(through lsn: UInt64, limit: Int) throws -> Bool {
        guard let first = try writer.query("SELECT min(lsn) FROM wal").first?.first?.integer, UInt64(first) <= lsn else { return false }
        let last = min(lsn, UInt64(first) + UInt64(limit) - 1)
        try writer.query("DELETE FROM wal WHERE lsn <= ?", [.integer(Int64(last))])
        return last < lsn
    }

    /// The state and term history of the whole log: the checkpoint's, then
    /// the log after it replayed.
    func loadState() throws -> LoadedState {
        var loaded = LoadedState(state: LicenseState(), history: TermHistory(), checkpointLsn: 0, compactedLsn: 0,
                                 requestLocator: try Self.requestLocator(in: writer))
        if let checkpoint = try checkpoint() {
            guard let state = try? StateSnapshotCodec.decode(checkpoint.state) else {
                throw StoreFailure("\(path) is damaged: the checkpoint's state does not decode. Stop lts and restore the data directory from a backup.")
            }
            loaded.state = state
            loaded.history = checkpoint.history
            loaded.checkpointLsn = checkpoint.lsn
            loaded.compactedLsn = checkpoint.compactedLsn
        }
        try readLog(after: loaded.checkpointLsn) { entry in
            guard entry.term >= loaded.history.lastTerm else { throw damaged("its term goes back", lsn: entry.lsn) }
            loaded.state.apply(entry.record)
            loaded.history.append(lsn: entry.lsn, term: entry.term)
        }
        return loaded
    }

    /// Moves the log after `lsn` into the reconciliation queue and removes
    /// the rest of the log, the grants and the checkpoint, in one
    /// transaction: the store is empty but for its term and queue.
    func discard(queueAfter lsn: UInt64) throws {
        try writer.transaction {
            try writer.query("INSERT INTO reconcile_queue(lsn, term, kind, payload, crc) SELECT lsn, term, kind, payload, crc FROM wal WHERE lsn > ? ORDER BY lsn",
                             [.integer(Int64(lsn))])
            try writer.execute("DELETE FROM grants; DELETE FROM regrants; DELETE FROM requests; DELETE FROM wal; DELETE FROM checkpoint;")
        }
    }

    // MARK: Snapshots

    /// Copies the store, as it is durable now, to `file`; returns its size.
    func backup(to file: String) throws -> UInt64 {
        try writer.backup(to: file)
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        return (attributes[.size] as? NSNumber)?.uint64Value ?? 0
    }

    /// Makes the snapshot at `file` ready to replace this store: checks its
    /// size and contents, syncs it to disk, gives it this store's
    /// reconciliation queue (same IDs: the rounds already sent name them)
    /// and `term` (when higher), and reads its state back.
    /// - Throws: `StoreFailure` when the file is no sound store.
    func adopt(snapshot file: String, totalBytes: UInt64, term: UInt64) throws -> LoadedState {
        let candidate: LicenseStore
        do {
            let size: UInt64
            do {
                size = try DurableFile.sync(file)
            } catch {
                throw StoreFailure("\(error)")
            }
            guard size == totalBytes else { throw StoreFailure("it has \(size) bytes of the \(totalBytes) announced") }
            let check = try SQLiteDatabase(path: file)
            let verdict = try check.query("PRAGMA quick_check").first?.first?.text
            check.close()
            guard verdict == "ok" else { throw StoreFailure("quick_check says \(verdict ?? "nothing")") }
            candidate = try LicenseStore(file: file)
        } catch {
            throw StoreFailure("the snapshot from the primary is no sound store (\(error)); asking for it again")
        }
        defer { candidate.close() }
        let queue = try writer.query("SELECT id, lsn, term, kind, payload, crc FROM reconcile_queue ORDER BY id")
        try candidate.writer.transaction {
            try candidate.writer.execute("DELETE FROM reconcile_queue")
            for row in queue {
                try candidate.writer.query("INSERT INTO reconcile_queue(id, lsn, term, kind, payload, crc) VALUES (?, ?, ?, ?, ?, ?)", row)
            }
            let theirs = try candidate.meta("term").flatMap(UInt64.init) ?? 0
            try candidate.setMeta("term", String(max(theirs, term)))
        }
        return try candidate.loadState()
    }
}
