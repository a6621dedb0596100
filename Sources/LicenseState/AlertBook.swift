/// Which alert conditions were already alerted, and the recent alert
/// emails with their delivery state. Part of the replicated state, so a
/// failover neither repeats an alert nor drops a pending email.
///
/// Invariant: email IDs increase in `emails` (oldest first) and are below
/// `nextEmailId`; at most `emailsKept` finished emails are kept, while a
/// pending one is never dropped.
public struct AlertBook: Equatable {
    public static let emailsKept = 50

    /// Alerted condition keys and when they were alerted.
    public private(set) var alerted: [String: Int64] = [:]
    public private(set) var emails: [AlertEmail] = []
    public private(set) var nextEmailId: Int64 = 1

    public init() {}

    init(alerted: [String: Int64], emails: [AlertEmail], nextEmailId: Int64) {
        self.alerted = alerted
        self.emails = emails
        self.nextEmailId = nextEmailId
    }

    /// The email with `id`, if it is still kept.
    public func email(_ id: Int64) -> AlertEmail? { emails.first { $0.id == id } }

    /// The pending email to try first at `now`, if one is due.
    public func dueEmail(now: Int64) -> AlertEmail? {
        emails.filter { ($0.nextAttemptAt ?? .max) <= now }.min { $0.nextAttemptAt! < $1.nextAttemptAt! }
    }

    /// When the next pending email falls due, if any is pending.
    public var nextDueAt: Int64? { emails.compactMap(\.nextAttemptAt).min() }

    mutating func apply(_ update: AlertUpdate, at: Int64) {
        for key in update.cleared { alerted[key] = nil }
        for key in update.raised { alerted[key] = at }
        guard let email = update.email else { return }
        emails.append(AlertEmail(id: nextEmailId, at: at, subject: email.subject, lines: email.lines, recipients: email.recipients,
                                 isTest: email.isTest))
        nextEmailId += 1
        trim()
    }

    mutating func delivered(emailId: Int64, error: String?, at: Int64) {
        guard let index = emails.firstIndex(where: { $0.id == emailId }) else { return }
        emails[index].delivered(error: error, at: at)
        trim()
    }

    private mutating func trim() {
        var finished = emails.filter { $0.status != .pending }.count
        guard finished > Self.emailsKept else { return }
        emails.removeAll { email in
            guard finished > Self.emailsKept, email.status != .pending else { return false }
            finished -= 1
            return true
        }
    }
}
