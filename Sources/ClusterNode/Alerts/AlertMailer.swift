import Foundation
import LicenseState
import Logging
import Platform
import Transport

/// Delivers alert emails: one at a time, the pending email due first, sent
/// with libcurl on the thread pool (never on the loop), each attempt logged
/// as an `alertDelivery` record so both nodes know what was sent.
///
/// Invariant: at most one delivery is in flight; an email is sent only once
/// its `alerts` record was acknowledged (`release`), or was already in the
/// log when this node became primary, so a failover cannot leave a sent
/// email the new primary does not know of.
final class AlertMailer {
    private let loop: EventLoop
    private let service: LicenseService
    private let logger: Logger
    private let configuration: () -> AlertConfiguration
    private let canWrite: () -> Bool
    private let serverName: String
    private var sendingId: Int64?
    /// Emails pending when the settings last changed: each is tried once
    /// more at once, whatever its back-off, since the settings that made it
    /// fail changed; one whose attempt was under way then (with the old
    /// settings) is tried again after it.
    private var backOffWaived: Set<Int64> = []
    /// Emails with IDs up to this one may be sent.
    private var releasedId: Int64 = 0
    private var wake: LoopTimer?
    private var waiters: [Int64: [(AlertEmail) -> Void]] = [:]
    private(set) var sentTotal = 0
    private(set) var failedAttemptsTotal = 0

    init(loop: EventLoop, service: LicenseService, logger: Logger, serverName: String, configuration: @escaping () -> AlertConfiguration,
         canWrite: @escaping () -> Bool) {
        self.loop = loop
        self.service = service
        self.logger = logger
        self.serverName = serverName
        self.configuration = configuration
        self.canWrite = canWrite
    }

    /// Lets every email in the log so far be sent (at start, and when this
    /// node becomes primary: those records are in its log already).
    func releaseAll() {
        release(upTo: service.state.alerts.nextEmailId - 1)
    }

    /// Lets emails up to `emailId` be sent: their record is acknowledged.
    func release(upTo emailId: Int64) {
        releasedId = max(releasedId, emailId)
        kick()
    }

    /// Calls `done` with the email once an attempt to send it was logged.
    func whenAttempted(_ emailId: Int64, done: @escaping (AlertEmail) -> Void) {
        waiters[emailId, default: []].append(done)
    }

    /// Sends the due email if none is on its way, else waits for the next
    /// one due. `skippingBackOff` tries every pending email once more at
    /// once, oldest first (the settings that made them fail changed).
    func kick(skippingBackOff: Bool = false) {
        wake?.cancel()
        wake = nil
        let alerts = service.state.alerts
        if skippingBackOff { backOffWaived = Set(alerts.emails.filter { $0.status == .pending }.map(\.id)) }
        guard sendingId == nil, canWrite() else { return }
        let now = WallClock.nowSeconds()
        let waived = alerts.emails.first { $0.status == .pending && backOffWaived.contains($0.id) }
        guard let email = waived ?? alerts.dueEmail(now: now), email.id <= releasedId else {
            if let next = alerts.nextDueAt, next > now {
                wake = LoopTimer(loop: loop, delayMs: UInt64(next - now) * 1000) { [weak self] in self?.kick() }
            }
            return
        }
        send(email)
    }

    private func send(_ email: AlertEmail) {
        sendingId = email.id
        backOffWaived.remove(email.id)
        let settings = configuration().smtp
        let message = MailMessage(from: (try? settings?.get().from) ?? "", to: email.recipients, subject: email.subject,
                                  bodyLines: body(of: email))
        ThreadPoolWork.submit(on: loop, work: { () -> String? in
            do {
                guard let settings else { return "No mail server is set." }
                try SMTPClient(settings: try settings.get()).send(message)
                return nil
            } catch {
                return "\(error)"
            }
        }, completion: { [weak self] error in
            self?.attempted(email, error: error)
        })
    }

    private func attempted(_ email: AlertEmail, error: String?) {
        if let error {
            failedAttemptsTotal += 1
            logger.warning("alert email \(email.id) (\(email.subject)) was not sent: \(error)")
        } else {
            sentTotal += 1
            logger.info("alert email \(email.id) (\(email.subject)) sent to \(email.recipients.joined(separator: ", "))")
        }
        guard canWrite() else {
            // The attempt goes unrecorded; the new primary tries the email again.
            sendingId = nil
            if let done = waiters.removeValue(forKey: email.id) { done.forEach { $0(email) } }
            return
        }
        service.commit(.alertDelivery(emailId: email.id, error: error, at: WallClock.nowSeconds()), request: nil) { [weak self] _ in
            guard let self else { return }
            self.sendingId = nil
            if let done = self.waiters.removeValue(forKey: email.id), let delivered = self.service.state.alerts.email(email.id) {
                done.forEach { $0(delivered) }
            }
            self.kick()
        }
    }

    /// The body: what the email is about, one line per condition, and where to look.
    private func body(of email: AlertEmail) -> [String] {
        let intro = email.isTest
            ? ["This is a test email from the license server \(serverName). Usage alerts will reach these recipients."]
            : ["The license server \(serverName) crossed these alert thresholds at \(UTCTime.format(email.at)):", ""]
        return intro + email.lines.map { "- \($0)" } + ["", "Usage Alerts page: \(serverName)page/#/alerts"]
    }
}
