import Foundation
import LicenseState
import Platform
import Transport

/// The usage alert routes: `GET /dls/api/admin/alerts` (settings, every
/// watched threshold, the last 50 emails), `PUT …/alerts/settings` and
/// `POST …/alerts/test` (a test email, answered once the mail server took
/// it or refused it).
///
/// Invariant: settings are checked whole before anything is logged (a bad
/// field changes nothing), and the SMTP password leaves this API only as
/// `passwordSet`.
final class AlertsAPI {
    static let recipientsMax = 100
    static let emailsShown = 50

    private let service: LicenseService
    private let admin: AdminAPI
    private let monitor: AlertMonitor
    private let box: SecretBox
    private let configuration: () -> AlertConfiguration

    init(service: LicenseService, admin: AdminAPI, monitor: AlertMonitor, box: SecretBox,
         configuration: @escaping () -> AlertConfiguration) {
        self.service = service
        self.admin = admin
        self.monitor = monitor
        self.box = box
        self.configuration = configuration
    }

    var routes: [RouteSpec] {
        [
            ("GET", "/api/admin/alerts", HTTPServer.Route { [unowned self] in self.overview($0) }),
            ("PUT", "/api/admin/alerts/settings", HTTPServer.Route(bodyLimitBytes: 64 * 1024) { [unowned self] in self.saveSettings($0) }),
            ("POST", "/api/admin/alerts/test", HTTPServer.Route(bodyLimitBytes: 4096) { [unowned self] in self.sendTest($0) }),
        ]
    }

    // MARK: Reading

    private func overview(_ request: HTTPRequest) {
        guard admin.authorized(request) else { return }
        let now = WallClock.nowSeconds()
        let state = service.state
        let settings = configuration()
        let conditions = AlertRules.conditions(state, cluster: monitor.clusterFacts, standbyLagMinutes: settings.standbyLagMinutes, now: now)
        request.respondJSON([
            "settings": describe(settings),
            "source": settings.source.rawValue,
            "conditions": conditions.map { condition -> [String: Any] in
                ["key": condition.key, "text": condition.text, "crossed": condition.crossed,
                 "alertedAt": state.alerts.alerted[condition.key].map { $0 as Any } ?? NSNull()]
            },
            "emails": state.alerts.emails.suffix(Self.emailsShown).reversed().map(describe),
            "lastCheckAt": monitor.lastCheckAt.map { $0 as Any } ?? NSNull(),
            "nextCheckAt": monitor.nextCheckAt.map { $0 as Any } ?? NSNull(),
        ])
    }

    private func describe(_ settings: AlertConfiguration) -> [String: Any] {
        var object: [String: Any] = [
            "recipients": settings.recipients, "checkMinutes": Double(settings.checkMilliseconds) / 60_000,
            "standbyLagMinutes": settings.standbyLagMinutes,
            "smtp": settings.mailServer.map { server -> Any in
                ["host": server.host, "port": server.port, "security": server.security,
                 "username": server.username.map { $0 as Any } ?? NSNull(), "passwordSet": settings.passwordSet,
                 "from": server.from.map { $0 as Any } ?? NSNull()]
            } ?? NSNull(),
        ]
        if case .failure(let error) = settings.smtp { object["smtpProblem"] = error.description }
        return object
    }

    private func describe(_ email: AlertEmail) -> [String: Any] {
        let status: String
        switch email.status {
        case .pending: status = "pending"
        case .sent: status = "sent"
        case .failed: status = "failed"
        }
        return ["id": email.id, "at": email.at, "subject": email.subject, "recipients": email.recipients, "status": status,
                "attempts": email.attempts, "error": email.lastError.map { $0 as Any } ?? NSNull(), "lines": email.lines,
                "test": email.isTest, "nextAttemptAt": email.nextAttemptAt.map { $0 as Any } ?? NSNull()]
    }

    // MARK: Settings

    private func saveSettings(_ request: HTTPRequest) {
        guard admin.authorized(request) else { return }
        request.handling(onRefusal: { self.admin.audit(.alertSettings, request, refusal: $0) }) {
            let settings = try parseSettings(request)
            service.commit(.setAlertSettings(settings, at: WallClock.nowSeconds()), request: request) { [weak self] _ in
                guard let self else { return }
                self.monitor.settingsChanged()
                request.respondJSON(self.describe(self.configuration()))
            }
            admin.audit(.alertSettings, request, object: settings.recipients.joined(separator: ", "))
        }
    }

    /// The settings a PUT body describes, checked whole.
    private func parseSettings(_ request: HTTPRequest) throws -> AlertSettings {
        var body = try request.jsonObject()
        let recipients = try Self.recipients(body.take("recipients"))
        let minimumMinutes = Double(AlertSettings.checkMillisecondsMin) / 60_000
        let checkMinutes = try body.number("checkMinutes", in: minimumMinutes...10_080)
        let lag = try body.integer("standbyLagMinutes", in: 1...10_080)
        let smtpValue = body.take("smtp")
        try body.rejectUnknownKeys()

        var server: AlertSettings.MailServer?
        if let object = smtpValue, !(object is NSNull) {
            guard let fields = object as? [String: Any] else { throw Self.unacceptable("\"smtp\" must be an object or null.") }
            server = try mailServer(fields)
        }
        return AlertSettings(recipients: recipients,
                             checkMilliseconds: checkMinutes.map { Int64(($0 * 60_000).rounded()) } ?? AlertSettings.defaultCheckMilliseconds,
                             standbyLagMinutes: Int64(lag ?? Int(AlertSettings.defaultStandbyLagMinutes)), mailServer: server)
    }

    private func mailServer(_ fields: [String: Any]) throws -> AlertSettings.MailServer {
        var reader = JSONObjectReader(fields, path: "smtp")
        let host = try reader.required("host", maxBytes: 253)
        let security = try reader.string("security") ?? "starttls"
        let port = try reader.integer("port", in: 1...65535)
        let username = try reader.optional("username", maxBytes: 256)
        let password = try reader.string("password")
        let clearPassword = try reader.bool("clearPassword") ?? false
        let from = try reader.optional("from", maxBytes: MailAddress.bytesMax)
        try reader.rejectUnknownKeys()
        guard (password?.utf8.count ?? 0) <= 256 else { throw Self.unacceptable("The SMTP password is longer than 256 bytes.") }
        if let from, let problem = MailAddress.problem(from) { throw Self.unacceptable("The from address \"\(from)\" \(problem).") }

        // The password in effect stays (for a user name) unless a new one is typed or it is cleared.
        var effectivePassword: String?
        if clearPassword {
            effectivePassword = nil
        } else if let password, !password.isEmpty {
            effectivePassword = password
        } else if username != nil, case .success(let smtp) = configuration().smtp {
            effectivePassword = smtp.password
        }
        let settings: SMTPSettings
        do {
            settings = try AlertConfiguration.smtpSettings(host: host, port: port ?? SMTPSettings.defaultPort(for: SMTPSecurity(rawValue: security) ?? .starttls),
                                                           security: security, username: username, password: effectivePassword, from: from,
                                                           caFile: nil)
        } catch let error as SMTPError {
            throw Self.unacceptable(error.description)
        }
        return AlertSettings.MailServer(host: settings.host, port: Int64(settings.port), security: settings.security.rawValue, username: username,
                                        sealedPassword: effectivePassword.map { box.seal(Array($0.utf8)) }, from: from)
    }

    /// Recipients as a list, or as one text separated by `;` or `,`.
    static func recipients(_ value: Any?) throws -> [String] {
        let parts: [String]
        switch value {
        case nil, is NSNull: parts = []
        case let text as String: parts = text.split(whereSeparator: { $0 == ";" || $0 == "," }).map(String.init)
        case let list as [Any]:
            guard let strings = list as? [String] else { throw unacceptable("\"recipients\" must be a text or a list of addresses.") }
            parts = strings
        default: throw unacceptable("\"recipients\" must be a text or a list of addresses.")
        }
        let addresses = parts.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        guard addresses.count <= recipientsMax else { throw unacceptable("At most \(recipientsMax) recipients.") }
        for address in addresses {
            if let problem = MailAddress.problem(address) { throw unacceptable("The recipient \"\(address)\" \(problem).") }
        }
        var seen = Set<String>()
        return addresses.filter { seen.insert($0.lowercased()).inserted }
    }

    static func unacceptable(_ message: String) -> APIError {
        APIError(status: 422, code: -20500, message: "The alert settings are not acceptable: \(message)")
    }

    // MARK: Test email

    private func sendTest(_ request: HTTPRequest) {
        guard admin.authorized(request) else { return }
        request.handling(onRefusal: { self.admin.audit(.alertTest, request, refusal: $0) }) {
            let body = try request.jsonObject()
            try body.rejectUnknownKeys()
            let settings = configuration()
            guard let smtp = settings.smtp, !settings.recipients.isEmpty else {
                throw APIError(status: 409, code: -20501, message: "Set the recipients and a mail server first, then send a test email.")
            }
            if case .failure(let error) = smtp { throw APIError(status: 409, code: -20501, message: error.description) }
            let email = AlertUpdate.Email(subject: "[lts] Test email", lines: [], recipients: settings.recipients, isTest: true)
            let emailId = service.state.alerts.nextEmailId
            let mailer = monitor.mailer
            admin.audit(.alertTest, request, object: settings.recipients.joined(separator: ", "))
            service.commit(.alerts(AlertUpdate(raised: [], cleared: [], email: email), at: WallClock.nowSeconds()), request: request) { _ in
                mailer.whenAttempted(emailId) { sent in
                    switch sent.status {
                    case .sent:
                        request.respondJSON(["sent": true, "recipients": sent.recipients, "id": sent.id])
                    case .failed:
                        request.respond(error: APIError(status: 502, code: -20502, message: "The mail server did not take the test email: \(sent.lastError ?? "no reason given")"))
                    case .pending:
                        request.respond(error: APIError.unavailable("This node stopped being primary before the test email was sent; the new primary sends it."))
                    }
                }
                mailer.release(upTo: emailId)
            }
        }
    }
}
