import Foundation
import LicenseState
import Logging
import Platform
import Transport

/// Applies an operator's admin password reset: watches for
/// `DATADIR/admin-password.reset` (written by `lts admin reset-password`)
/// and, once this node can write (standalone, or primary), logs the usual
/// `setAdminPassword` record, so that replication carries the new password
/// to the standby like any change, and its audit entry (actor `operator`);
/// ends every admin session; and deletes the file once the record is
/// acknowledged.
///
/// Why a file and not the command writing the log itself: the log of a pair
/// is written by its primary only, and a record written beside it would
/// never reach the other node (or would fork the log).
///
/// Invariants: everything runs on the loop thread; at most one reset record
/// is awaiting its acknowledgement; the file is deleted only when it still
/// holds the bytes that record came from (a newer reset waits for the next
/// check); a check costs one `stat` while no file is there.
public final class PendingPasswordReset {
    /// How often the file is looked for.
    public static let checkIntervalMs: UInt64 = 2_000

    private let loop: EventLoop
    private let service: LicenseService
    private let logger: Logger
    private let path: String
    private let canWrite: () -> Bool
    private let endSessions: () -> Int
    private let trail: AuditTrail
    private var timer: LoopTimer?
    /// The attempt whose record awaits its acknowledgement, if any.
    private var inFlight: UInt64?
    private var attempts: UInt64 = 0
    /// True once "waiting until primary" was logged for the file there now.
    private var reportedWaiting = false
    /// The file last found malformed (its inode, size and change time), so
    /// that it is reported once, not every check.
    private var reportedMalformed: [Int]?

    /// Starts checking at once, then every `checkIntervalMs`.
    /// - Parameters:
    ///   - canWrite: true when this node may log a record now.
    ///   - endSessions: ends every admin session; returns how many there were.
    init(loop: EventLoop, service: LicenseService, dataDirectory: String, logger: Logger, trail: AuditTrail, canWrite: @escaping () -> Bool,
         endSessions: @escaping () -> Int) {
        self.trail = trail
        self.loop = loop
        self.service = service
        self.logger = logger
        path = PasswordResetFile.path(dataDirectory: dataDirectory)
        self.canWrite = canWrite
        self.endSessions = endSessions
        timer = LoopTimer(loop: loop, delayMs: 0, repeatMs: Self.checkIntervalMs) { [weak self] in self?.check() }
    }

    func cancel() {
        timer?.cancel()
    }

    /// Looks for the file and logs its password when this node can write.
    func check() {
        loop.assertInLoop()
        var info = stat()
        guard stat(path, &info) == 0 else {
            reportedWaiting = false
            return
        }
        guard canWrite() else {
            // A record awaiting acknowledgement when this node stopped being
            // primary is refused without a callback; the new primary holds it
            // or not, and this node applies the file again when it is primary.
            inFlight = nil
            if !reportedWaiting {
                reportedWaiting = true
                logger.notice("an admin password reset waits in \(path); it takes effect when this node is primary")
            }
            return
        }
        guard inFlight == nil else { return }
        let identity = [Int(info.st_ino), Int(info.st_size), Int(info.st_ctim.tv_sec), Int(info.st_ctim.tv_nsec)]
        guard let bytes = FileManager.default.contents(atPath: path) else { return }
        let hash: PasswordHash
        do {
            hash = try PasswordResetFile.decode(bytes)
        } catch {
            if reportedMalformed != identity {
                reportedMalformed = identity
                logger.error("ignoring the admin password reset \(path): \(error); write it again with lts admin reset-password")
            }
            return
        }
        attempts += 1
        let attempt = attempts
        inFlight = attempt
        service.commit(.setAdminPassword(hash, at: WallClock.nowSeconds()), request: nil) { [weak self] entry in
            guard let self else { return }
            if self.inFlight == attempt { self.inFlight = nil }
            if FileManager.default.contents(atPath: self.path) == bytes { DurableFile.remove(self.path) }
            self.logger.notice("the admin password reset from \(self.path) is logged at lsn \(entry.lsn) in term \(entry.term); the file is deleted")
        }
        trail.record(.passwordReset, actor: "operator", address: "", object: PasswordResetFile.fileName)
        // Ended as the new password applies, not when acknowledged: no
        // session opened under the old one may act meanwhile.
        let ended = endSessions()
        logger.notice("applying the admin password reset from \(path): the new password replaces the old one; \(ended) admin session(s) ended")
    }
}
