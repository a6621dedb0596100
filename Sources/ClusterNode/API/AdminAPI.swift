import Foundation
import LicenseState
import Logging
import Platform
import Transport

/// The admin routes (`/dls/api/admin/…`): password, login, license import,
/// items, handshake codes and the grants list.
///
/// Invariant: every route except setting the first password and logging in
/// needs a live session; a state-changing call authenticated by the session
/// cookie also carries the session's CSRF token; a session lives only while
/// the password it was opened under is the current one; a refused change
/// logs nothing but its audit entry. Every authentication event (a login,
/// a failed one with its address, a lockout, the password set or changed)
/// and every license import leaves a line in the node's log; these and
/// every handshake code change are recorded by the `AuditTrail`, refusals
/// of a logged-in admin's changes included.
public final class AdminAPI {
    /// Largest license file upload.
    static let licenseBodyLimitBytes = LicenseFile.fileBytesMax
    /// Most grants one page of `GET grants` returns.
    public static let grantsPageMax = 10_000

    private let loop: EventLoop
    private let service: LicenseService
    private let issuers: TrustedIssuers
    private let nodeUUID: String
    private let secureCookie: Bool
    private let logger: Logger
    private var sessions: AdminSessions
    private var limiter = LoginRateLimiter()
    /// Actions and addresses whose refusal was logged in the last minute.
    private var refusalsLogged = LoginRateLimiter(failuresMax: 1)
    /// The admin password the open sessions were opened under. When the
    /// log's password differs (a change or a reset, here or replicated from
    /// the primary), every session ends.
    private var sessionsPassword: PasswordHash?
    /// Runs the grants list off the loop.
    private let reader: StoreReader
    /// Where password hashes run.
    private let passwords: PasswordWork
    /// Guards the first password against outsiders.
    private let setupToken: SetupToken
    /// The key of keyed session password hashes.
    private let sessionPasswordKey: [UInt8]
    /// Where admin actions are recorded (this API's and the others' that pass through `authorized`).
    let trail: AuditTrail

    init(loop: EventLoop, service: LicenseService, issuers: TrustedIssuers, nodeUUID: String, secureCookie: Bool, passwords: PasswordWork,
         setupToken: SetupToken, sessionPasswordKey: [UInt8], trail: AuditTrail, logger: Logger) {
        self.loop = loop
        self.trail = trail
        self.logger = logger
        self.setupToken = setupToken
        self.sessionPasswordKey = sessionPasswordKey
        self.passwords = passwords
        self.service = service
        self.issuers = issuers
        self.nodeUUID = nodeUUID
        self.secureCookie = secureCookie
        sessions = AdminSessions(nodeUUID: nodeUUID)
        sessionsPassword = service.state.adminPassword
        reader = StoreReader(loop: loop, path: service.store.path)
    }

    var routes: [RouteSpec] {
        [
            ("POST", "/api/admin/password", HTTPServer.Route(bodyLimitBytes: 4096) { [unowned self] in self.setFirstPassword($0) }),
            ("POST", "/api/admin/login", HTTPServer.Route(bodyLimitBytes: 4096) { [unowned self] in self.login($0) }),
            ("POST", "/api/admin/logout", HTTPServer.Route(bodyLimitBytes: 4096) { [unowned self] in self.logout($0) }),
            ("GET", "/api/admin/session", HTTPServer.Route { [unowned self] in self.session($0) }),
            ("POST", "/api/admin/password/change", HTTPServer.Route(bodyLimitBytes: 4096) { [unowned self] in self.changePassword($0) }),
            ("POST", "/api/admin/licenses", HTTPServer.Route(bodyLimitBytes: Self.licenseBodyLimitBytes) { [unowned self] in self.importLicense($0) }),
            ("GET", "/api/admin/items", HTTPServer.Route { [unowned self] in self.items($0) }),
            ("GET", "/api/admin/handshakes", HTTPServer.Route { [unowned self] in self.listHandshakes($0) }),
            ("POST", "/api/admin/handshakes", HTTPServer.Route(bodyLimitBytes: 64 * 1024) { [unowned self] in self.putHandshake($0, code: nil) }),
            ("PUT", "/api/admin/handshakes/{code}", HTTPServer.Route(bodyLimitBytes: 64 * 1024) { [unowned self] in
                self.putHandshake($0, code: $0.parameters["code"])
            }),
            ("DELETE", "/api/admin/handshakes/{code}", HTTPServer.Route { [unowned self] in self.deleteHandshake($0) }),
            ("GET", "/api/admin/grants", HTTPServer.Route { [unowned self] in self.grants($0) }),
        ]
    }

    // MARK: Errors

    static func notLoggedIn() -> APIError {
        APIError(status: 401, code: -20200, message: "Log in first: send the session token as \"Authorization: Bearer TOKEN\" or the session cookie.")
    }
    static func wrongPassword() -> APIError { APIError(status: 401, code: -20201, message: "The password is wrong.") }
    static func tooManyAttempts() -> APIError {
        APIError(status: 429, code: -20202, message: "Too many failed logins from this address; wait a minute.")
    }
    static func passwordAlreadySet() -> APIError {
        APIError(status: 409, code: -20203, message: "The admin password is set already; log in, or change it with the old one.")
    }
    static func weakPassword() -> APIError {
        APIError(status: 400, code: -20204, message: "The password needs at least \(PasswordHasher.adminPasswordLengthMin) characters, not all of them spaces.")
    }
    static func setupTokenNeeded(path: String) -> APIError {
        APIError(status: 403, code: -20207, message: "From another machine the first password needs the setup token, which lts serve logged at its start and keeps in \(path); or set it from the server itself.")
    }
    static func noPasswordYet(status: Int = 409) -> APIError {
        APIError(status: status, code: -20205, message: "No admin password is set yet; set it first (POST /dls/api/admin/password).")
    }
    static func csrfTokenMissing() -> APIError {
        APIError(status: 403, code: -20206, message: "The request lacks this session's CSRF token (header X-CSRF-Token); reload the portal.")
    }

    /// The request header that carries a session's CSRF token.
    static let csrfHeader = "x-csrf-token"

    // MARK: Password and sessions

    private func setFirstPassword(_ request: HTTPRequest) {
        request.handling {
            var body = try request.jsonObject()
            let password = try body.required("password", maxBytes: PasswordHasher.passwordLengthMax)
            let token = try body.optional("setupToken", maxBytes: 64)
            try body.rejectUnknownKeys()
            guard service.state.adminPassword == nil else { throw Self.passwordAlreadySet() }
            guard setupToken.accepts(token, from: request.clientAddress, forwardedByUntrustedPeer: request.isForwardedByUntrustedPeer) else {
                logger.warning("first admin password from \(request.clientAddress) refused: \(token == nil ? "no" : "a wrong") setup token")
                let refusal = Self.setupTokenNeeded(path: setupToken.path)
                trail.record(.passwordSet, actor: AuditTrail.anonymous, address: request.clientAddress, refusalCode: refusal.code, isFailure: true)
                throw refusal
            }
            guard PasswordHasher.isAcceptable(password) else { throw Self.weakPassword() }
            try hashing(for: request, { PasswordHasher.hash(password, iterations: PasswordHash.adminIterations) }) { [weak self] hash in
                guard let self else { return }
                // Another first-password call may have won while this one hashed.
                guard self.service.state.adminPassword == nil else { return request.respond(error: Self.passwordAlreadySet()) }
                self.service.commit(.setAdminPassword(hash, at: WallClock.nowSeconds()), request: request) { [logger, setupToken] _ in
                    setupToken.used()
                    logger.notice("admin password set (the first one) from \(request.clientAddress)")
                    request.respondJSON(status: 201, ["passwordSet": true])
                }
                self.trail.record(.passwordSet, actor: "setup", address: request.clientAddress)
            }
        }
    }

    private func login(_ request: HTTPRequest) {
        request.handling {
            var body = try request.jsonObject()
            let password = try body.required("password", maxBytes: PasswordHasher.passwordLengthMax)
            try body.rejectUnknownKeys()
            let address = request.clientAddress
            try checkLimit(address, action: "login", actor: AuditTrail.anonymous)
            guard let stored = service.state.adminPassword else { throw Self.noPasswordYet() }
            // Counted as a failure until it verifies, so parallel guesses cannot pass the limit.
            limiter.recordFailure(address, nowMs: loop.nowMs)
            try hashing(for: request, { PasswordHasher.verify(password, against: stored) }) { [weak self] ok in
                guard let self else { return }
                guard ok else {
                    self.logger.warning("admin login failed from \(address): wrong password")
                    self.trail.record(.login, actor: AuditTrail.anonymous, address: address, refusalCode: Self.wrongPassword().code, isFailure: true)
                    return request.respond(error: Self.wrongPassword())
                }
                self.limiter.recordSuccess(address)
                self.logger.notice("admin login from \(address)")
                self.endSessionsIfPasswordChanged()
                // The password may have been changed or reset while this one was checked.
                guard self.sessionsPassword == stored else { return request.respond(error: Self.wrongPassword()) }
                let session = self.sessions.open(nowMs: self.loop.nowMs)
                self.trail.record(.login, actor: AdminSessions.actor(token: session.token), address: address)
                request.respondJSON(["token": session.token, "csrf": session.csrf],
                                    headers: [("set-cookie", self.cookie(session.token, maxAgeSeconds: nil))])
            }
        }
    }

    private func logout(_ request: HTTPRequest) {
        guard authorized(request) else { return }
        if let token = sessions.token(of: request) {
            audit(.logout, request)
            sessions.close(token)
        }
        request.respondJSON(["loggedOut": true], headers: [("set-cookie", cookie("", maxAgeSeconds: 0))])
    }

    /// `GET session`: the portal's question "am I logged in, and with which
    /// CSRF token?". Before any password is set it answers -20205 (with 401,
    /// like every other "not logged in"), so the portal knows to offer the
    /// first-password form.
    private func session(_ request: HTTPRequest) {
        guard service.state.adminPassword != nil else { return request.respond(error: Self.noPasswordYet(status: 401)) }
        guard let csrf = liveSession(request) else { return request.respond(error: Self.notLoggedIn()) }
        request.respondJSON(["csrf": csrf, "idleTimeoutMinutes": AdminSessions.idleTimeoutMs / 60_000])
    }

    private func changePassword(_ request: HTTPRequest) {
        guard authorized(request) else { return }
        request.handling {
            var body = try request.jsonObject()
            let old = try body.required("old", maxBytes: PasswordHasher.passwordLengthMax)
            let new = try body.required("new", maxBytes: PasswordHasher.passwordLengthMax)
            try body.rejectUnknownKeys()
            guard PasswordHasher.isAcceptable(new) else { throw Self.weakPassword() }
            guard let stored = service.state.adminPassword else { throw Self.noPasswordYet() }
            let address = request.clientAddress
            try checkLimit(address, action: "password change", actor: actor(of: request))
            // As for a login: a failure until the old password verifies.
            limiter.recordFailure(address, nowMs: loop.nowMs)
            let token = sessions.token(of: request)
            let actor = actor(of: request)
            try hashing(for: request, { () -> PasswordHash? in
                PasswordHasher.verify(old, against: stored) ? PasswordHasher.hash(new, iterations: PasswordHash.adminIterations) : nil
            }) { [weak self] hash in
                guard let self else { return }
                guard let hash else {
                    self.logger.warning("admin password change from \(address) refused: wrong old password")
                    self.trail.record(.passwordChange, actor: actor, address: address, refusalCode: Self.wrongPassword().code, isFailure: true)
                    return request.respond(error: Self.wrongPassword())
                }
                self.limiter.recordSuccess(address)
                self.logger.notice("admin password changed from \(address); the other admin sessions end")
                // The password checked may have been replaced (reset) meanwhile.
                guard self.service.state.adminPassword == stored else { return request.respond(error: Self.wrongPassword()) }
                self.service.commit(.setAdminPassword(hash, at: WallClock.nowSeconds()), request: request) { _ in
                    request.respondJSON(["passwordChanged": true])
                }
                self.trail.record(.passwordChange, actor: actor, address: address)
                // Ended as the change applies (not when acknowledged), so no
                // other session is used under the new password meanwhile.
                self.sessions.closeAll(keeping: token)
                self.sessionsPassword = hash
            }
        }
    }

    /// The session cookie. A live one has no Max-Age: it lasts while the
    /// browser runs, and the server ends the session after 30 idle minutes
    /// (a Max-Age would end it 30 minutes after login, however busy).
    private func cookie(_ token: String, maxAgeSeconds: UInt64?) -> String {
        "\(sessions.cookieName)=\(token); HttpOnly;\(secureCookie ? " Secure;" : "") SameSite=Strict; Path=/"
            + (maxAgeSeconds.map { "; Max-Age=\($0)" } ?? "")
    }

    /// True when the request carries a live session and, when it changes
    /// state (any method but GET and HEAD) and came with the session cookie,
    /// that session's CSRF token in `X-CSRF-Token`; otherwise answers 401 or
    /// 403. Every admin route but the first password and login (here and in
    /// `ClusterAPI`) passes through this, so none can miss the CSRF check.
    ///
    /// A Bearer token needs no CSRF token: a browser never sends that header
    /// on its own, so a forged cross-site request cannot carry it.
    func authorized(_ request: HTTPRequest) -> Bool {
        guard let csrf = liveSession(request), let credential = sessions.credential(of: request) else {
            request.respond(error: Self.notLoggedIn())
            return false
        }
        guard credential.source == .cookie, !Self.safeMethods.contains(request.method) else { return true }
        guard let sent = request.header(Self.csrfHeader), Crypto.constantTimeEqual(Array(sent.utf8), Array(csrf.utf8)) else {
            request.respond(error: Self.csrfTokenMissing())
            return false
        }
        return true
    }

    /// Methods that change nothing, so need no CSRF token.
    private static let safeMethods: Set<String> = ["GET", "HEAD"]

    /// The CSRF token of the live session the request names (refreshing
    /// it), or nil.
    private func liveSession(_ request: HTTPRequest) -> String? {
        endSessionsIfPasswordChanged()
        guard let token = sessions.token(of: request) else { return nil }
        return sessions.validate(token, nowMs: loop.nowMs)
    }

    /// Ends every session when the log's admin password is no longer the
    /// one they were opened under (changed elsewhere, reset, or replicated).
    private func endSessionsIfPasswordChanged() {
        guard service.state.adminPassword != sessionsPassword else { return }
        sessions.closeAll(keeping: nil)
        sessionsPassword = service.state.adminPassword
    }

    /// Ends every session (an operator reset the password).
    /// - Returns: how many sessions there were.
    @discardableResult
    func endAllSessions() -> Int {
        let ended = sessions.count
        sessions.closeAll(keeping: nil)
        sessionsPassword = service.state.adminPassword
        return ended
    }

    // MARK: Audit

    /// Who sent `request`: its session (`AdminSessions.actor`), else `anonymous`.
    func actor(of request: HTTPRequest) -> String {
        sessions.token(of: request).map(AdminSessions.actor(token:)) ?? AuditTrail.anonymous
    }

    /// Records `action` by the request's session from its address (`AuditTrail`).
    /// - Parameter refusal: the code it was refused with; nil when it was done.
    func audit(_ action: AuditEntry.Action, _ request: HTTPRequest, object: String = "", refusal: Int? = nil) {
        trail.record(action, actor: actor(of: request), address: request.clientAddress, object: object, refusalCode: refusal)
    }

    // MARK: Licenses and items

    private func importLicense(_ request: HTTPRequest) {
        guard authorized(request) else { return }
        var licenseId = ""
        request.handling(onRefusal: { self.audit(.licenseImport, request, object: licenseId, refusal: $0) }) {
            let bytes = Array(request.body)
            let file = try LicenseFile.parse(bytes)
            licenseId = file.licenseId
            try issuers.verify(file)
            let record = try service.state.decideImport(file, bytes: bytes, nodeUUID: nodeUUID, now: WallClock.nowSeconds()).get()
            guard case .importLicense(_, let code, _) = record else { return }
            service.commit(record, request: request) { [weak self] _ in
                guard let self else { return }
                self.logger.notice("license \(file.licenseId) imported from \(request.clientAddress): \(file.items.count) item(s), handshake code \(code)")
                let now = WallClock.nowSeconds()
                request.respondJSON(status: 201, ["licenseId": file.licenseId, "handshakeCode": code,
                                                  "items": file.items.map { self.describe($0.itemId, now: now) }])
            }
            audit(.licenseImport, request, object: file.licenseId)
        }
    }

    private func items(_ request: HTTPRequest) {
        guard authorized(request) else { return }
        let now = WallClock.nowSeconds()
        request.respondJSON(service.state.items.keys.sorted().map { describe($0, now: now) })
    }

    /// An item as the admin API shows it, with its usage at `now`.
    private func describe(_ itemId: String, now: Int64) -> [String: Any] {
        let usage = service.state.items[itemId]!
        let item = usage.item
        let used = service.state.used(itemId, now: now)
        let graceState: String
        if now > item.expiresAt + LicenseItem.graceSeconds {
            graceState = "expired"
        } else if now > item.expiresAt {
            graceState = "expiry"
        } else if used > item.quantity {
            graceState = "quota"
        } else {
            graceState = "none"
        }
        var object: [String: Any] = [
            "itemId": item.itemId, "displayName": item.displayName, "product": item.product, "chargeWay": item.chargeWay.rawValue, "quantity": item.quantity,
            "used": used, "remaining": max(0, item.quantity - used), "startsAt": UTCTime.format(item.startsAt),
            "expiresAt": UTCTime.format(item.expiresAt), "graceState": graceState, "licenseId": usage.licenseId,
            "alias": service.state.licenses[usage.licenseId]?.alias ?? "",
        ]
        if let edition = item.edition { object["edition"] = edition }
        if let window = item.activeWindow { object["activeWindow"] = window.rawValue }
        if item.chargeWay.isConcurrent { object["leaseSeconds"] = item.leaseSeconds }
        return object
    }

    // MARK: Handshake codes

    private func listHandshakes(_ request: HTTPRequest) {
        guard authorized(request) else { return }
        let now = WallClock.nowSeconds()
        // Each item's split once, however many codes share the item (a concurrent item's walks its leases).
        var splits: [String: CodeUsage.Split] = [:]
        let split = { [service] (itemId: String) -> CodeUsage.Split in
            if let known = splits[itemId] { return known }
            let computed = service.state.usedByCode(itemId, now: now)
            splits[itemId] = computed
            return computed
        }
        request.respondJSON(service.state.handshakes.values.filter { !$0.deleted }.sorted { $0.code < $1.code }.map { describe($0, split: split) })
    }

    /// A handshake code as the admin API shows it, with the use of each of
    /// its items that is imported (`split` gives it), in the code's order:
    /// what this code brought (`usedByThisCode`), the item's whole use over
    /// every code (`used`), and the part of it no code is known for
    /// (`usedUnattributed`: counted before an upgrade to per-code counting).
    private func describe(_ handshake: Handshake, split: (String) -> CodeUsage.Split) -> [String: Any] {
        let itemUsage: [[String: Any]] = handshake.items.filter { service.state.items[$0] != nil }.map { itemId in
            let split = split(itemId)
            return ["itemId": itemId, "usedByThisCode": split.byCode[handshake.code] ?? 0, "used": split.total,
                    "usedUnattributed": split.unattributed]
        }
        return ["code": handshake.code, "organizationId": handshake.organizationId, "items": handshake.items,
                "explicitOrder": handshake.explicitOrder, "hasSessionPassword": handshake.sessionPassword != nil,
                "validation": ["domains": handshake.validation.domains, "appIds": handshake.validation.appIds,
                               "processes": handshake.validation.processes],
                "itemUsage": itemUsage]
    }

    private func putHandshake(_ request: HTTPRequest, code pathCode: String?) {
        guard authorized(request) else { return }
        let action: AuditEntry.Action = pathCode == nil ? .handshakeCreate : .handshakeUpdate
        var object = pathCode ?? ""
        request.handling(onRefusal: { self.audit(action, request, object: object, refusal: $0) }) {
            var body = try request.jsonObject()
            let bodyCode = try body.optional("code", maxBytes: Handshake.codeLengthMax)
            guard let code = pathCode ?? bodyCode, bodyCode == nil || bodyCode == code else {
                throw APIError.badRequest(pathCode == nil ? "The field \"code\" is required." : "The code in the body differs from the path.")
            }
            object = code
            guard let items = try body.stringArray("items") else { throw JSONFieldError(key: "items", reason: "is required") }
            let explicitOrder = try body.bool("explicitOrder") ?? false
            var validation = ValidationRules()
            if var rules = try body.object("validation") {
                validation = ValidationRules(domains: try rules.stringArray("domains") ?? [], appIds: try rules.stringArray("appIds") ?? [],
                                             processes: try rules.stringArray("processes") ?? [])
                try rules.rejectUnknownKeys()
            }
            let password = try body.string("sessionPassword")
            try body.rejectUnknownKeys()
            guard let organization = organization(of: code) else {
                throw LicenseError.badHandshake("A handshake code starts with the organization ID of an imported license and a '-'.")
            }
            let existing = service.state.handshakes[code]
            let draft = Handshake(code: code, organizationId: organization, items: items, explicitOrder: explicitOrder,
                                  validation: validation, sessionPassword: existing?.deleted == false ? existing?.sessionPassword : nil)
            // Check before hashing, so a bad request costs no PBKDF2.
            _ = try service.state.decidePutHandshake(draft, creating: pathCode == nil, now: WallClock.nowSeconds()).get()
            try hashSessionPassword(password) { [weak self] hash in
                guard let self else { return }
                var handshake = draft
                if let password { handshake.sessionPassword = password.isEmpty ? nil : hash }
                request.handling(onRefusal: { self.audit(action, request, object: code, refusal: $0) }) {
                    let record = try self.service.state.decidePutHandshake(handshake, creating: pathCode == nil, now: WallClock.nowSeconds()).get()
                    self.service.commit(record, request: request) { _ in
                        request.respondJSON(status: pathCode == nil ? 201 : 200, self.describe(handshake) { [service = self.service] in
                            service.state.usedByCode($0, now: WallClock.nowSeconds())
                        })
                    }
                    self.audit(action, request, object: code)
                }
            }
        }
    }

    /// A keyed hash (`PasswordHash.keyedIterations`): no PBKDF2, so it runs here.
    private func hashSessionPassword(_ password: String?, then: @escaping (PasswordHash?) -> Void) throws {
        guard let password, !password.isEmpty else { return then(nil) }
        then(PasswordHasher.keyedHash(password, key: sessionPasswordKey))
    }

    /// Throws 429 (and logs and audits the lockout) when `address` failed too often in the last minute.
    private func checkLimit(_ address: String, action: String, actor: String) throws {
        guard limiter.allows(address, nowMs: loop.nowMs) else {
            // One line per action and address a minute: a flood of refusals is no flood of lines.
            let logKey = action + " " + address
            guard refusalsLogged.allows(logKey, nowMs: loop.nowMs) else { throw Self.tooManyAttempts() }
            refusalsLogged.recordFailure(logKey, nowMs: loop.nowMs)
            logger.warning("admin \(action) from \(address) refused: \(LoginRateLimiter.failuresPerMinuteMax) failures within a minute (locked out for up to a minute)")
            trail.record(.lockout, actor: actor, address: address, object: action, refusalCode: Self.tooManyAttempts().code, isFailure: true)
            throw Self.tooManyAttempts()
        }
    }

    /// Runs a password hash for `request` on the node's password thread
    /// (`PasswordWork`), unless the request is gone by its turn; throws 503
    /// at once when too many wait.
    private func hashing<Result>(for request: HTTPRequest, _ work: @escaping () -> Result, then: @escaping (Result) -> Void) throws {
        guard passwords.submit(work, isWanted: { !request.isFinished }, completion: then) else { throw PasswordWork.busy }
    }

    /// The organization whose ID prefixes `code` (the longest, if several do).
    private func organization(of code: String) -> String? {
        Set(service.state.licenses.values.map(\.organizationId)).filter { code.hasPrefix($0 + "-") }.max { $0.count < $1.count }
    }

    private func deleteHandshake(_ request: HTTPRequest) {
        guard authorized(request) else { return }
        let code = request.parameters["code"] ?? ""
        request.handling(onRefusal: { self.audit(.handshakeDelete, request, object: code, refusal: $0) }) {
            let record = try service.state.decideDeleteHandshake(code: code, now: WallClock.nowSeconds()).get()
            service.commit(record, request: request) { _ in request.respondJSON(["code": code, "deleted": true]) }
            audit(.handshakeDelete, request, object: code)
        }
    }

    // MARK: Grants

    private func grants(_ request: HTTPRequest) {
        guard authorized(request) else { return }
        request.handling {
            let query = request.query
            guard let since = UInt64(query["since"] ?? "0"), let limit = Int(query["limit"] ?? "100"), (1...Self.grantsPageMax).contains(limit) else {
                throw APIError.badRequest("since must be a log position and limit a number from 1 to \(Self.grantsPageMax).")
            }
            // Thousands of rows take long to read and encode: off the loop.
            let started = reader.read({ database -> Data in
                let rows = try LicenseStore.grants(in: database, since: since, limit: limit)
                return try JSONSerialization.data(withJSONObject: rows.map { row -> [String: Any] in
                    var object: [String: Any] = ["grantId": row.grantId, "handshakeCode": row.handshakeCode, "clientUUID": row.clientUUID,
                                                 "itemId": row.itemId, "amount": row.amount, "grace": row.grace,
                                                 "at": UTCTime.format(row.at), "lsn": row.lsn, "term": row.term]
                    object["requestId"] = row.requestId ?? NSNull()
                    return object
                }, options: [.sortedKeys, .withoutEscapingSlashes])
            }, done: { result in
                request.handling {
                    request.respond(status: 200, headers: [("content-type", "application/json")], body: try result.get())
                }
            })
            guard started else { throw APIError.unavailable("Too many large reads are under way; retry in a moment.") }
        }
    }
}
