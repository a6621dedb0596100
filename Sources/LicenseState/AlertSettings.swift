/// Usage alert settings as the admin saved them in the portal: who gets the
/// emails, how often the primary checks, and the mail server. Replicated as
/// a `setAlertSettings` record; they take precedence over `lts.json`.
///
/// Invariant: `checkMilliseconds ≥ checkMillisecondsMin`,
/// `standbyLagMinutes ≥ 1`; the mail server's password is only ever held
/// sealed (encrypted by the node), never in clear.
public struct AlertSettings: Equatable {
    /// The shortest check interval (0.05 minutes, for tests and drills).
    public static let checkMillisecondsMin: Int64 = 3_000
    public static let defaultCheckMilliseconds: Int64 = 10 * 60_000
    public static let defaultStandbyLagMinutes: Int64 = 5

    /// An SMTP server.
    public struct MailServer: Equatable {
        public var host: String
        public var port: Int64
        /// `starttls`, `tls` or `none`.
        public var security: String
        public var username: String?
        /// The password as sealed by the node's secret box.
        public var sealedPassword: [UInt8]?
        public var from: String?

        public init(host: String, port: Int64, security: String, username: String?, sealedPassword: [UInt8]?, from: String?) {
            self.host = host
            self.port = port
            self.security = security
            self.username = username
            self.sealedPassword = sealedPassword
            self.from = from
        }
    }

    public var recipients: [String]
    public var checkMilliseconds: Int64
    public var standbyLagMinutes: Int64
    public var mailServer: MailServer?

    public init(recipients: [String], checkMilliseconds: Int64 = defaultCheckMilliseconds,
                standbyLagMinutes: Int64 = defaultStandbyLagMinutes, mailServer: MailServer?) {
        precondition(checkMilliseconds >= Self.checkMillisecondsMin && standbyLagMinutes >= 1, "alert settings out of range")
        self.recipients = recipients
        self.checkMilliseconds = checkMilliseconds
        self.standbyLagMinutes = standbyLagMinutes
        self.mailServer = mailServer
    }
}
