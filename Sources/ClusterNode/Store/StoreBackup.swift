import Foundation
import LicenseState
import Platform
import Transport

/// A consistent copy of a running node's store, made beside the writer
/// without stopping it, and read back to say what it holds.
///
/// Invariant: the copy is one moment of the store (SQLite's online backup
/// through a read-only connection of its own, a read transaction that
/// never waits for the writer nor holds it up); its summary is read from
/// the copy. Thread-pool work: nothing here may run on the loop.
enum StoreBackup {
    /// Copies the store at `source` to `file` (mode 0600) and describes it.
    /// - Throws: `StoreFailure` when the copy cannot be made or read back.
    static func make(from source: String, to file: String, nodeUUID: String, role: String, now: Int64) throws -> BackupSummary {
        do {
            let database = try SQLiteDatabase(path: source, readOnly: true)
            try database.backup(to: file)
            database.close()
            chmod(file, 0o600)
            let (loaded, schema) = try read(file)
            let (bytes, sha256) = try hash(file)
            return BackupSummary(formatVersion: BackupFile.formatVersion, ltsVersion: Version.current, schemaVersion: schema,
                                 snapshotFormat: Int(StateSnapshotCodec.formatVersion), clusterUuid: loaded.state.clusterUUID,
                                 nodeUuid: nodeUUID, role: role, createdAt: UTCTime.format(now), lsn: loaded.history.lastLsn,
                                 term: loaded.history.lastTerm, stateDigest: BackupSummary.digestText(loaded.state.digest),
                                 databaseBytes: bytes, databaseSha256: Crypto.hex(sha256))
        } catch let failure as StoreFailure {
            throw failure
        } catch {
            throw StoreFailure("cannot back up \(source) to \(file): \(error)")
        }
    }

    /// Opens the database at `file` as a store (migrating an older schema),
    /// replays it and closes it again.
    /// - Returns: what it holds, and the schema it had before it was opened.
    static func read(_ file: String) throws -> (LoadedState, schema: Int) {
        let probe = try SQLiteDatabase(path: file, readOnly: true)
        let schema = Int(try probe.query("PRAGMA user_version").first?.first?.integer ?? 0)
        probe.close()
        let store = try LicenseStore(file: file)
        defer { store.close() }
        return (try store.loadState(), schema)
    }

    /// The size and SHA-256 of `file`, read a megabyte at a time.
    static func hash(_ file: String) throws -> (bytes: UInt64, sha256: [UInt8]) {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw StoreFailure("cannot read \(file)") }
        defer { try? handle.close() }
        let hasher = SHA256Stream()
        var bytes: UInt64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(chunk)
            bytes += UInt64(chunk.count)
        }
        return (bytes, hasher.finish())
    }
}
