import Foundation

/// The one place that makes files durable with POSIX calls: whole-file
/// writes that a crash leaves old or new (temporary file, `fsync`, `rename`,
/// `fsync` of the directory), moves made durable, syncs, removals and the
/// exclusive lock of a directory.
///
/// Invariant: every write and move returns only once the data and the
/// directory entry are on disk (or throws, leaving no temporary file behind).
public enum DurableFile {
    /// Writes `bytes` to `path` atomically with `mode`: a temporary file
    /// beside it (never following a symbolic link), synced, renamed over
    /// it, and the directory synced. With `owner`, the file gets that user
    /// and group as far as this process may give them (root may).
    public static func write(_ bytes: Data, to path: String, mode: mode_t = 0o600, owner: (user: uid_t, group: gid_t)? = nil) throws {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
        guard descriptor >= 0 else { throw Failure("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        if let owner { _ = fchown(descriptor, owner.user, owner.group) }
        // O_TRUNC keeps the mode of a file an earlier crashed run left: set it.
        let written = fchmod(descriptor, mode) == 0
            && bytes.withUnsafeBytes { buffer in Foundation.write(descriptor, buffer.baseAddress, buffer.count) == buffer.count }
            && fsync(descriptor) == 0
        let writeError = errno
        close(descriptor)
        guard written else {
            unlink(temporary)
            throw Failure("cannot write \(temporary): \(String(cString: strerror(writeError)))")
        }
        guard rename(temporary, path) == 0 else {
            let renameError = errno
            unlink(temporary)
            throw Failure("cannot rename \(temporary) to \(path): \(String(cString: strerror(renameError)))")
        }
        syncDirectory(of: path)
    }

    /// Renames `source` to `path` and syncs the directory of `path`.
    /// - Throws: `Failure` whose description is the system's reason.
    public static func move(_ source: String, to path: String) throws {
        guard rename(source, path) == 0 else { throw Failure(String(cString: strerror(errno))) }
        syncDirectory(of: path)
    }

    /// Syncs the file at `path` to disk.
    /// - Returns: its size in bytes.
    public static func sync(_ path: String) throws -> UInt64 {
        let descriptor = open(path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure("cannot open it: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, fsync(descriptor) == 0 else { throw Failure("cannot sync it: \(String(cString: strerror(errno)))") }
        return UInt64(info.st_size)
    }

    /// Removes the file at `path`, if there is one.
    public static func remove(_ path: String) {
        unlink(path)
    }

    /// Syncs the directory that holds `path`, so a new name in it survives a
    /// crash (best effort: a directory that cannot be opened is skipped).
    public static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    /// Why a file could not be written, moved or synced.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// An exclusive `flock` on a file (created with mode 0600), held until
    /// `release` or deinit.
    public final class Lock {
        private let descriptor: Int32

        /// Takes the lock without waiting.
        /// - Returns: nil when another process holds it.
        /// - Throws: `Failure` when the file cannot be opened.
        public init?(path: String) throws {
            let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw Failure("cannot open \(path): \(String(cString: strerror(errno)))") }
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
                close(descriptor)
                return nil
            }
            self.descriptor = descriptor
        }

        deinit {
            flock(descriptor, LOCK_UN)
            close(descriptor)
        }
    }
}
