import Foundation
import LicenseState
import Platform
import Transport

/// The usage alert settings in effect on this node: those saved in the
/// portal (a log record, the same on both nodes) once there are any, else
/// those of `lts.json`; with the mail server's password opened.
///
/// Invariant: `smtp` is nil exactly when no mail server is set; its
/// failure says in one sentence why the settings cannot send.
struct AlertConfiguration {
    enum Source: String { case portal, config, none }

    var source: Source
    var recipients: [String]
    var checkMilliseconds: Int64
    var standbyLagMinutes: Int64
    /// The mail server as the admin set it; its password is only ever shown as `passwordSet`.
    var mailServer: AlertSettings.MailServer?
    var passwordSet: Bool
    var smtp: Result<SMTPSettings, SMTPError>?

    /// True when a check may raise alerts: someone to tell and a way to tell them.
    var canSend: Bool {
        guard case .success = smtp else { return false }
        return !recipients.isEmpty
    }

    static func resolve(state: LicenseState, config: Config, box: SecretBox) -> AlertConfiguration {
        let caFile = config.smtp?.caFile
        let timeoutMs = (config.smtp?.timeoutSeconds ?? 15) * 1000
        if let saved = state.alertSettings {
            return AlertConfiguration(
                source: .portal, recipients: saved.recipients, checkMilliseconds: saved.checkMilliseconds,
                standbyLagMinutes: saved.standbyLagMinutes, mailServer: saved.mailServer, passwordSet: saved.mailServer?.sealedPassword != nil,
                smtp: saved.mailServer.map { server in
                    checked {
                        var password: String?
                        if let sealed = server.sealedPassword {
                            guard let opened = box.open(sealed) else {
                                throw SMTPError(.invalidSettings, "The saved SMTP password cannot be decrypted on this node (was the cluster secret changed?); save it again on the Usage Alerts page.")
                            }
                            password = String(decoding: opened, as: UTF8.self)
                        }
                        return try smtpSettings(host: server.host, port: Int(server.port), security: server.security, username: server.username,
                                                password: password, from: server.from, caFile: caFile, timeoutMs: timeoutMs)
                    }
                })
        }
        let alerts = config.alerts
        let smtp = config.smtp
        return AlertConfiguration(
            source: alerts == nil && smtp == nil ? .none : .config,
            recipients: alerts?.recipients ?? [],
            checkMilliseconds: alerts?.checkMilliseconds ?? AlertSettings.defaultCheckMilliseconds,
            standbyLagMinutes: alerts?.standbyLagMinutes ?? AlertSettings.defaultStandbyLagMinutes,
            mailServer: smtp.map {
                AlertSettings.MailServer(host: $0.host, port: Int64($0.port), security: $0.security, username: $0.username,
                                         sealedPassword: nil, from: $0.from)
            },
            passwordSet: smtp?.password != nil,
            smtp: smtp.map { smtp in
                checked {
                    try smtpSettings(host: smtp.host, port: smtp.port, security: smtp.security, username: smtp.username,
                                     password: smtp.password, from: smtp.from, caFile: smtp.caFile, timeoutMs: timeoutMs)
                }
            })
    }

    /// The settings `make` builds, or the `SMTPError` saying why there are none.
    private static func checked(_ make: () throws -> SMTPSettings) -> Result<SMTPSettings, SMTPError> {
        Result { try make() }.mapError { $0 as? SMTPError ?? SMTPError(.invalidSettings, "\($0)") }
    }

    /// Settings for the SMTP client; without a `from`, the username when it
    /// is an address, else `lts@` the host name.
    /// - Parameter timeoutMs: bounds an attempt, connecting included.
    static func smtpSettings(host: String, port: Int, security: String, username: String?, password: String?, from: String?,
                             caFile: String?, timeoutMs: Int = 15_000) throws -> SMTPSettings {
        guard let security = SMTPSecurity(rawValue: security) else {
            throw SMTPError(.invalidSettings, "The SMTP security must be starttls, tls or none, not \"\(security)\".")
        }
        let sender = from ?? username.flatMap { MailAddress.isValid($0) ? $0 : nil } ?? "lts@\(ProcessInfo.processInfo.hostName)"
        return try SMTPSettings(host: host, port: port, security: security, username: username, password: password, from: sender,
                                caFile: caFile, timeoutMs: timeoutMs, connectTimeoutMs: timeoutMs)
    }
}
