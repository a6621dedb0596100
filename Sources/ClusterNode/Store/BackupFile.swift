import Foundation
import Platform

/// The file `lts backup` writes and `lts restore` reads:
///
///     lts-backup 1\n
///     {header: a BackupSummary as JSON}\n
///     the database, `databaseBytes` bytes
///     sha256 HEX\n          (the trailer: SHA-256 of every byte before it)
///
/// Invariant: a file this type accepts is complete and unchanged since it
/// was written: its header parses within `headerBytesMax`, its length is
/// exactly what the header announces, and both the header's database hash
/// and the trailer's hash of the whole file match.
public enum BackupFile {
    public static let formatVersion = 1
    static let magic = "lts-backup \(formatVersion)\n"
    static let headerBytesMax = 64 * 1024
    static let trailerPrefix = "sha256 "
    /// "sha256 " + 64 hex digits + "\n".
    static let trailerBytes = 7 + 64 + 1

    /// The first two lines of a backup file holding `summary`.
    static func head(_ summary: BackupSummary) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Data(magic.utf8) + (try encoder.encode(summary)) + Data("\n".utf8)
    }

    /// The last line of a backup file whose bytes before it hash to `sha256`.
    static func trailer(_ sha256: [UInt8]) -> Data {
        Data((trailerPrefix + Crypto.hex(sha256) + "\n").utf8)
    }

    /// A backup file being written: the head, then the database in pieces,
    /// then the trailer, into a temporary file that becomes `path` only
    /// once it is complete and synced.
    ///
    /// Invariant: `path` never holds a partial file; without `replace` an
    /// existing `path` is never overwritten.
    public final class Writer {
        public let summary: BackupSummary
        private let path: String
        private let temporary: String
        private let handle: FileHandle
        private let whole = SHA256Stream()
        private let database = SHA256Stream()
        public private(set) var databaseWritten: UInt64 = 0

        /// Creates the temporary file (mode 0600) and writes the head.
        public init(path: String, summary: BackupSummary) throws {
            self.path = path
            self.summary = summary
            temporary = path + ".partial-\(getpid())"
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard descriptor >= 0 else { throw BackupFailure("cannot create \(temporary): \(String(cString: strerror(errno)))") }
            handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            do {
                try write(try head(summary), hashingAsDatabase: false)
            } catch {
                discard()
                throw error
            }
        }

        /// Appends database bytes.
        public func append(_ bytes: Data) throws {
            guard databaseWritten + UInt64(bytes.count) <= summary.databaseBytes else {
                throw BackupFailure("the node sent more than the \(summary.databaseBytes) bytes it announced")
            }
            try write(bytes, hashingAsDatabase: true)
            databaseWritten += UInt64(bytes.count)
        }

        /// Checks the database is complete and matches its hash, writes the
        /// trailer, syncs and puts the file at `path`.
        public func finish(replace: Bool) throws {
            do {
                guard databaseWritten == summary.databaseBytes else {
                    throw BackupFailure("the node sent \(databaseWritten) of \(summary.databaseBytes) bytes")
                }
                guard Crypto.hex(database.finish()) == summary.databaseSha256 else {
                    throw BackupFailure("the database received does not match the SHA-256 the node announced")
                }
                try handle.write(contentsOf: trailer(whole.finish()))
                try handle.synchronize()
                try handle.close()
                if replace {
                    try DurableFile.move(temporary, to: path)
                } else {
                    // link() fails when `path` exists: no window where a file there is overwritten.
                    guard link(temporary, path) == 0 else {
                        throw BackupFailure("cannot create \(path): \(String(cString: strerror(errno)))")
                    }
                    unlink(temporary)
                    DurableFile.syncDirectory(of: path)
                }
            } catch {
                discard()
                throw error
            }
        }

        /// Removes the temporary file.
        public func discard() {
            try? handle.close()
            unlink(temporary)
        }

        private func write(_ bytes: Data, hashingAsDatabase: Bool) throws {
            whole.update(bytes)
            if hashingAsDatabase { database.update(bytes) }
            do {
                try handle.write(contentsOf: bytes)
            } catch {
                throw BackupFailure("cannot write \(temporary): \(error.localizedDescription)")
            }
        }
    }

    /// Reads the backup at `path`, checks it whole, and copies its database
    /// to `database` (mode 0600, synced).
    /// - Returns: the header.
    /// - Throws: `BackupFailure` saying what is wrong; `database` is then removed.
    static func extract(_ path: String, to database: String, progress: (UInt64, UInt64) -> Void) throws -> BackupSummary {
        guard let input = FileHandle(forReadingAtPath: path) else { throw BackupFailure("cannot read \(path)") }
        defer { try? input.close() }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value ?? 0
        let start = try input.read(upToCount: magic.utf8.count + headerBytesMax + 1) ?? Data()
        guard start.starts(with: Data(magic.utf8)) else {
            throw BackupFailure("\(path) is not an lts backup of format \(formatVersion) (it does not start with \"lts-backup \(formatVersion)\")")
        }
        let afterMagic = start.index(start.startIndex, offsetBy: magic.utf8.count)
        guard let newline = start[afterMagic...].firstIndex(of: UInt8(ascii: "\n")) else {
            throw BackupFailure("\(path) has no complete header")
        }
        let summary: BackupSummary
        do {
            summary = try JSONDecoder().decode(BackupSummary.self, from: start[afterMagic..<newline])
        } catch {
            throw BackupFailure("\(path) has a header that does not parse: \(error)")
        }
        let headBytes = UInt64(start.distance(from: start.startIndex, to: newline) + 1)
        guard summary.formatVersion == formatVersion else {
            throw BackupFailure("\(path) is of backup format \(summary.formatVersion); this lts reads format \(formatVersion)")
        }
        guard size == headBytes + summary.databaseBytes + UInt64(trailerBytes) else {
            throw BackupFailure("\(path) has \(size) bytes, its header announces \(headBytes + summary.databaseBytes + UInt64(trailerBytes)): it is cut short or has bytes added")
        }
        let descriptor = open(database, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw BackupFailure("cannot create \(database): \(String(cString: strerror(errno)))") }
        let output = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            let whole = SHA256Stream()
            let hashed = SHA256Stream()
            whole.update(start.prefix(Int(headBytes)))
            try input.seek(toOffset: headBytes)
            var copied: UInt64 = 0
            while copied < summary.databaseBytes {
                let want = Int(min(UInt64(4 << 20), summary.databaseBytes - copied))
                guard let chunk = try input.read(upToCount: want), chunk.count == want else { throw BackupFailure("\(path) ends early") }
                whole.update(chunk)
                hashed.update(chunk)
                try output.write(contentsOf: chunk)
                copied += UInt64(want)
                progress(copied, summary.databaseBytes)
            }
            let trailerRead = try input.read(upToCount: trailerBytes) ?? Data()
            guard trailerRead == trailer(whole.finish()) else {
                throw BackupFailure("\(path) is damaged: its SHA-256 does not match its trailer")
            }
            guard Crypto.hex(hashed.finish()) == summary.databaseSha256 else {
                throw BackupFailure("\(path) is damaged: the database's SHA-256 does not match its header")
            }
            try output.synchronize()
            try output.close()
        } catch {
            try? output.close()
            unlink(database)
            throw error as? BackupFailure ?? BackupFailure("cannot copy the database out of \(path) to \(database): \(error.localizedDescription)")
        }
        return summary
    }
}

/// A backup could not be made, or a restore refused; the text says why
/// and changed nothing.
public struct BackupFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
