import LicenseState
import Logging
import Platform
import Transport

/// Records admin actions for the audit log: every action leaves an
/// `audit: …` line in the node's log (with the entry's fields as metadata,
/// for the JSON log format), and on a node that writes the log (standalone,
/// or a pair's primary) an `audit` log record, which replication carries to
/// the standby. A node that cannot write (a standby, a full disk, a
/// backlogged store) keeps the line only: a login on a standby is in that
/// node's log lines, not in the pair's audit log.
///
/// Invariant: loop-only. Failures (`isFailure`: refused logins and password
/// changes, lockouts, refused first passwords), which outsiders can cause,
/// become records at most `failuresPerMinuteMax` times a minute across all
/// addresses, on top of the per-address `LoginRateLimiter`; past that they
/// are lines only (and one line a minute says so). So a flood of guesses
/// grows the replicated log by at most that many records a minute, and the
/// audit log stays within `AuditLog.entriesMax` whatever comes.
final class AuditTrail {
    /// The actor of a request without a session.
    static let anonymous = "anonymous"
    /// Failure records a minute, across all addresses.
    static let failuresPerMinuteMax = 20

    private let loop: EventLoop
    private let service: LicenseService
    private let logger: Logger
    private let canWrite: () -> Bool
    /// Failure records of the last minute (one key for all addresses).
    private var failureBudget = LoginRateLimiter(failuresMax: AuditTrail.failuresPerMinuteMax)
    /// The "not recorded" line of the last minute.
    private var overBudgetLogged = LoginRateLimiter(failuresMax: 1)

    /// - Parameter canWrite: true when this node may log a record now.
    init(loop: EventLoop, service: LicenseService, logger: Logger, canWrite: @escaping () -> Bool) {
        self.loop = loop
        self.service = service
        self.logger = logger
        self.canWrite = canWrite
    }

    /// Records an action: a line, and a log record when this node writes
    /// the log (and, for a failure, the minute's budget allows).
    /// - Parameters:
    ///   - address: the client address (`HTTPRequest.clientAddress`), or "" without a request.
    ///   - refusalCode: nil when the action was done, else the code it was refused with.
    ///   - isFailure: an outsider may have caused it (see the type's invariant).
    func record(_ action: AuditEntry.Action, actor: String, address: String, object: String = "", refusalCode: Int? = nil,
                isFailure: Bool = false) {
        loop.assertInLoop()
        let entry = AuditEntry(at: WallClock.nowSeconds(), actor: actor, address: address, action: action, object: object,
                               refusalCode: refusalCode)
        var recorded = canWrite()
        if recorded, isFailure {
            recorded = failureBudget.allows("failures", nowMs: loop.nowMs)
            if recorded {
                failureBudget.recordFailure("failures", nowMs: loop.nowMs)
            } else if overBudgetLogged.allows("over", nowMs: loop.nowMs) {
                overBudgetLogged.recordFailure("over", nowMs: loop.nowMs)
                logger.warning("more than \(Self.failuresPerMinuteMax) failed admin logins or password changes within a minute: the rest of this minute's are in the node's log lines only, not in the audit log")
            }
        }
        var line = "audit: \(action.rawValue) \(entry.result) by \(entry.actor) from \(address.isEmpty ? "-" : address)"
        if !entry.object.isEmpty { line += " on \(entry.object)" }
        if !recorded { line += " (not in the audit log: \(canWrite() ? "too many failures this minute" : "this node does not write the log"))" }
        logger.log(level: refusalCode == nil ? .notice : .warning, "\(line)",
                   metadata: ["audit.action": "\(action.rawValue)", "audit.actor": "\(entry.actor)", "audit.address": "\(address)",
                              "audit.object": "\(entry.object)", "audit.result": "\(entry.result)", "audit.recorded": "\(recorded)"])
        if recorded { service.commit(.audit(entry), request: nil) { _ in } }
    }
}
