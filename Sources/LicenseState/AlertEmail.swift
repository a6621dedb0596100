/// One alert email and how its delivery went: an entry of the `AlertBook`.
///
/// Invariant: `attempts` counts failed deliveries; a `sent` email is never
/// sent again and a `failed` one is given up; only a `pending` one is due.
public struct AlertEmail: Equatable {
    public enum Status: UInt8, Equatable {
        case pending = 0, sent = 1, failed = 2
    }

    /// Failed attempts after which an alert email is given up.
    public static let attemptsMax: Int64 = 8
    /// The wait after the first failure; it doubles after each, up to `retryDelayMaxSeconds`.
    public static let retryDelaySeconds: Int64 = 30
    public static let retryDelayMaxSeconds: Int64 = 30 * 60

    public var id: Int64
    /// When the email was made (the check that crossed its conditions).
    public var at: Int64
    public var subject: String
    public var lines: [String]
    public var recipients: [String]
    /// A test email from the portal or `lts alerts test`: tried once.
    public var isTest: Bool
    public var status: Status = .pending
    public var attempts: Int64 = 0
    public var lastError: String?
    public var lastAttemptAt: Int64?

    public init(id: Int64, at: Int64, subject: String, lines: [String], recipients: [String], isTest: Bool) {
        self.id = id
        self.at = at
        self.subject = subject
        self.lines = lines
        self.recipients = recipients
        self.isTest = isTest
    }

    /// When a pending email should be tried (next), or nil when it is done.
    public var nextAttemptAt: Int64? {
        guard status == .pending else { return nil }
        guard let last = lastAttemptAt, attempts > 0 else { return at }
        let doublings = min(attempts - 1, 16)
        return last + min(Self.retryDelaySeconds << doublings, Self.retryDelayMaxSeconds)
    }

    /// Notes one delivery attempt: sent when `error` is nil, else failed
    /// (given up after `attemptsMax`, or at once for a test email).
    mutating func delivered(error: String?, at time: Int64) {
        guard status == .pending else { return }
        lastAttemptAt = time
        guard let error else {
            status = .sent
            lastError = nil
            return
        }
        attempts += 1
        lastError = error
        if isTest || attempts >= Self.attemptsMax { status = .failed }
    }
}
