/// Why mail was not sent, as one sentence an operator can act on.
///
/// Invariant: `description` is one sentence; for every cause met while
/// talking to a server it names the server as `host:port`, and when the
/// server refused something it quotes the server's reply (code and text).
public struct SMTPError: Error, CustomStringConvertible, Equatable {
    /// What went wrong, for callers that react differently (retry or not).
    public enum Cause: Equatable {
        /// The SMTP settings are unusable; nothing was sent.
        case invalidSettings
        /// The message would be malformed or unsafe (header injection); nothing was sent.
        case invalidMessage
        /// The server's host name did not resolve.
        case cannotResolve
        /// No TCP connection (refused, unreachable).
        case cannotConnect
        /// The connection or the whole exchange took longer than allowed.
        case timeout
        /// The server does not offer STARTTLS, and mail is never sent in clear instead.
        case tlsUnavailable
        /// The TLS handshake failed for another reason than trust.
        case tlsHandshake
        /// The server's certificate is not trusted or not for this host.
        case tlsVerification
        /// The server refused the user name or password.
        case authentication
        /// The server refused the envelope sender (MAIL FROM).
        case senderRefused
        /// The server refused a recipient (RCPT TO).
        case recipientRefused
        /// The server refused the message itself (DATA).
        case messageRefused
        /// Anything else (connection lost, an odd reply); the description says what.
        case other
    }

    public let cause: Cause
    /// The server's last SMTP reply code (535 for a refused login, 550 for a
    /// refused recipient, 220 after STARTTLS when TLS then failed), 0 when
    /// none was received or nothing was sent.
    public let responseCode: Int
    public let description: String

    public init(_ cause: Cause, responseCode: Int = 0, _ description: String) {
        self.cause = cause
        self.responseCode = responseCode
        self.description = description
    }
}
