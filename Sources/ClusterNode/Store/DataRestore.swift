import Foundation
import LicenseState
import Platform
import Transport

/// `lts restore`: makes a data directory hold the store of a backup, for a
/// node that is not running.
///
/// Invariants: nothing in the data directory changes until the copied
/// database has passed every check (the file's hashes, SQLite's
/// `integrity_check`, a replay of its state whose LSN, term, cluster UUID
/// and digest are those its header states); a directory a running node
/// holds (its lock) is never touched; a directory that holds a store is
/// replaced only when asked (`force`). The log mark is set to the restored
/// log's end, so the node starts on it without `--accept-data-loss`. The
/// node's identity files there (node UUID, certificates, pinned peer
/// keys) stay; a new directory gets its own when the node first starts.
public struct DataRestore {
    public let backup: String
    public let dataDir: String
    public let force: Bool

    public init(backup: String, dataDir: String, force: Bool) {
        self.backup = backup
        self.dataDir = dataDir
        self.force = force
    }

    /// Restores, reporting bytes copied on `progress`.
    /// - Returns: the backup's header.
    /// - Throws: `BackupFailure`; the data directory is then as it was.
    public func run(progress: (UInt64, UInt64) -> Void) throws -> BackupSummary {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = files.fileExists(atPath: dataDir, isDirectory: &isDirectory)
        guard !exists || isDirectory.boolValue else { throw BackupFailure("\(dataDir) is a file, not a data directory") }
        // A new directory is made complete beside its place, then renamed there.
        let target = exists ? dataDir : dataDir.trimmingSuffix("/") + ".restoring-\(getpid())"
        if !exists {
            do {
                try files.createDirectory(atPath: target, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            } catch {
                throw BackupFailure("cannot create \(target): \(error.localizedDescription)")
            }
        }
        let lock: DurableFile.Lock
        do {
            guard let taken = try DurableFile.Lock(path: target + "/lock") else {
                let holder = (try? String(contentsOfFile: target + "/lts.pid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                throw BackupFailure("the data directory \(dataDir) is in use by a running lts\(holder.map { " (pid \($0))" } ?? ""); stop it first")
            }
            lock = taken
        } catch let failure as BackupFailure {
            throw failure
        } catch {
            if !exists { try? files.removeItem(atPath: target) }
            throw BackupFailure("\(error)")
        }
        let store = target + "/" + LicenseStore.fileName
        guard force || ![store, store + "-wal"].contains(where: files.fileExists(atPath:)) else {
            throw BackupFailure("\(dataDir) holds a store (\(LicenseStore.fileName)); restore over it only with --force")
        }
        let candidate = store + ".restoring"
        unlink(candidate)
        let summary: BackupSummary
        do {
            summary = try BackupFile.extract(backup, to: candidate, progress: progress)
            try Self.check(candidate, against: summary)
        } catch {
            unlink(candidate)
            for suffix in ["-wal", "-shm"] { unlink(candidate + suffix) }
            if !exists { try? files.removeItem(atPath: target) }
            throw error as? BackupFailure ?? BackupFailure("\(error)")
        }
        // The mark first: lowered under the old store, it can only miss a loss.
        LogMark.write(dataDir: target, lsn: summary.lsn)
        for suffix in ["-wal", "-shm"] { DurableFile.remove(store + suffix) }
        do {
            try DurableFile.move(candidate, to: store)
            if !exists { try DurableFile.move(target, to: dataDir) }
        } catch {
            throw BackupFailure("cannot move the checked copy into place (\(error)); \(exists ? candidate : target) holds it")
        }
        withExtendedLifetime(lock) {}
        return summary
    }

    /// Checks the database at `file` is sound and holds what `summary` says.
    static func check(_ file: String, against summary: BackupSummary) throws {
        let database = try SQLiteDatabase(path: file)
        let verdict = try database.query("PRAGMA integrity_check").first?.first?.text
        database.close()
        guard verdict == "ok" else { throw BackupFailure("the backup's database fails SQLite's integrity check: \(verdict ?? "no answer")") }
        let loaded: LoadedState
        do {
            (loaded, _) = try StoreBackup.read(file)
        } catch {
            throw BackupFailure("the backup's database cannot be read back as a store: \(error)")
        }
        guard loaded.history.lastLsn == summary.lsn, loaded.history.lastTerm == summary.term else {
            throw BackupFailure("the backup's log ends at lsn \(loaded.history.lastLsn) term \(loaded.history.lastTerm), its header says lsn \(summary.lsn) term \(summary.term)")
        }
        guard loaded.state.clusterUUID == summary.clusterUuid else {
            throw BackupFailure("the backup's cluster UUID is \(loaded.state.clusterUUID ?? "none"), its header says \(summary.clusterUuid ?? "none")")
        }
        // The digest covers what the snapshot format holds: another format's binary digests differently.
        guard summary.snapshotFormat != Int(StateSnapshotCodec.formatVersion)
                || BackupSummary.digestText(loaded.state.digest) == summary.stateDigest else {
            throw BackupFailure("the state replayed from the backup does not match the digest its header states")
        }
    }
}

private extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while text.count > 1, text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}
