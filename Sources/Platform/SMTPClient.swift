import CCurl
import CCurlShim
import Foundation

/// Sends mail with libcurl, blocking: run it on the thread pool
/// (`ThreadPoolWork`), never on the event loop.
///
/// Invariant: with `.starttls` or `.tls` nothing but EHLO and STARTTLS
/// crosses the network unencrypted, and the server's certificate and host
/// name are always verified (against `settings.caFile`, else the system
/// CAs); a send never takes longer than `settings.timeoutMs`.
public struct SMTPClient {
    public let settings: SMTPSettings

    public init(settings: SMTPSettings) {
        self.settings = settings
    }

    /// Sends one message: MAIL FROM `settings.from`, RCPT TO each of
    /// `message.to`, then the message. The message is checked (and refused)
    /// before any connection is made.
    /// - Throws: `SMTPError` saying which server failed and why.
    public func send(_ message: MailMessage) throws {
        if let problem = message.problem {
            throw SMTPError(.invalidMessage, "Mail via \(settings.server) was not sent: \(problem).")
        }
        let data = try message.rfc5322Data()  // Refuses only what `problem` would have.
        let scheme = settings.security == .tls ? "smtps" : "smtp"
        let url = "\(scheme)://\(settings.server)"
        let recipients = message.to.map { UnsafePointer(strdup($0)) }
        defer { recipients.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
        var result = lts_smtp_result_t()
        let code: Int32 = data.withUnsafeBytes { bytes in
            recipients.withUnsafeBufferPointer { list in
                lts_smtp_send(url, settings.security == .none ? 0 : 1, settings.username, settings.password, settings.from,
                              list.baseAddress, list.count, bytes.baseAddress?.assumingMemoryBound(to: CChar.self),
                              bytes.count, settings.caFile, settings.timeoutMs, settings.connectTimeoutMs, &result)
            }
        }
        guard code != 0 else { return }
        let reply = withUnsafeBytes(of: result.reply) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let curlText = withUnsafeBytes(of: result.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        throw failure(CURLcode(rawValue: UInt32(code)), responseCode: Int(result.response_code), reply: reply,
                      curlText: curlText)
    }

    /// Turns libcurl's result into one sentence. The SMTP step that failed
    /// is only in curl's message ("RCPT failed: 550"), so that is where the
    /// sender, recipient and message refusals are told apart.
    private func failure(_ code: CURLcode, responseCode: Int, reply: String, curlText: String) -> SMTPError {
        let answer = reply.isEmpty ? (responseCode > 0 ? "reply \(responseCode)" : curlText) : reply
        let (cause, what): (SMTPError.Cause, String)
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST:
            (cause, what) = (.cannotResolve, "the host name does not resolve (\(curlText))")
        case CURLE_COULDNT_CONNECT:
            (cause, what) = (.cannotConnect, "cannot connect (\(curlText))")
        case CURLE_OPERATION_TIMEDOUT:
            (cause, what) = (.timeout, "no answer in time (\(curlText))")
        case CURLE_USE_SSL_FAILED:
            (cause, what) = (.tlsUnavailable, "the server does not offer STARTTLS, and mail is never sent unencrypted")
        case CURLE_PEER_FAILED_VERIFICATION:
            (cause, what) = (.tlsVerification, "the server's certificate is not trusted (\(curlText))")
        case CURLE_SSL_CACERT_BADFILE:
            (cause, what) = (.invalidSettings, "the CA file \(settings.caFile ?? "") cannot be used (\(curlText))")
        case CURLE_SSL_CONNECT_ERROR:
            (cause, what) = (.tlsHandshake, "the TLS handshake failed (\(curlText))")
        case CURLE_LOGIN_DENIED:
            (cause, what) = (.authentication, "the server refused the login as \(settings.username ?? "") (\(answer))")
        case _ where curlText.hasPrefix("MAIL failed"):
            (cause, what) = (.senderRefused, "the server refused the sender \(settings.from) (\(answer))")
        case _ where curlText.hasPrefix("RCPT failed"):
            (cause, what) = (.recipientRefused, "the server refused a recipient (\(answer))")
        case _ where curlText.hasPrefix("DATA failed") || (code == CURLE_WEIRD_SERVER_REPLY && !reply.isEmpty):
            (cause, what) = (.messageRefused, "the server refused the message (\(answer))")
        default:
            (cause, what) = (.other, reply.isEmpty ? curlText : "\(curlText); the server said \(reply)")
        }
        return SMTPError(cause, responseCode: responseCode, "Mail via \(settings.server) failed: \(what).")
    }
}
