import Foundation

/// What a backup holds, as the node that made it states it: the header of
/// a backup file (`BackupFile`), which `lts restore` checks the copy
/// against before it uses it.
///
/// Invariant: `lsn`, `term`, `clusterUuid` and `stateDigest` are those of
/// the state and log read back from the copied database itself (not of the
/// running node, which moves on); `databaseSha256` covers exactly
/// `databaseBytes` bytes of that database.
public struct BackupSummary: Codable, Equatable {
    /// The backup file format (`BackupFile.formatVersion`).
    public var formatVersion: Int
    /// The lts version of the node that made it.
    public var ltsVersion: String
    /// The store schema of the database (`LicenseStore.schemaVersion`).
    public var schemaVersion: Int
    /// The state snapshot format of the node that made it: the digest is
    /// compared only by a binary that writes the same format.
    public var snapshotFormat: Int
    public var clusterUuid: String?
    /// The node the copy was made on, and its role then.
    public var nodeUuid: String
    public var role: String
    /// When the copy was made (UTC, ISO 8601).
    public var createdAt: String
    /// The last record of the copied log, and its term.
    public var lsn: UInt64
    public var term: UInt64
    /// `LicenseState.digest` of the copied state, 16 hex digits.
    public var stateDigest: String
    public var databaseBytes: UInt64
    /// SHA-256 of the database bytes, hex.
    public var databaseSha256: String

    static func digestText(_ digest: UInt64) -> String {
        let hex = String(digest, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
