/// What one alert check (or a test email) changes in the `AlertBook`: the
/// conditions it alerts, those that no longer hold, and the email that
/// tells about it. The payload of an `alerts` record.
///
/// Invariant: `raised` and `cleared` share no key.
public struct AlertUpdate: Equatable {
    /// The email an update queues.
    public struct Email: Equatable {
        public var subject: String
        public var lines: [String]
        public var recipients: [String]
        public var isTest: Bool

        public init(subject: String, lines: [String], recipients: [String], isTest: Bool) {
            self.subject = subject
            self.lines = lines
            self.recipients = recipients
            self.isTest = isTest
        }
    }

    public var raised: [String]
    public var cleared: [String]
    public var email: Email?

    public init(raised: [String], cleared: [String], email: Email?) {
        precondition(Set(raised).isDisjoint(with: cleared), "a condition both raised and cleared")
        self.raised = raised
        self.cleared = cleared
        self.email = email
    }
}
