import Foundation
import LicenseState
import Platform
import Transport

/// The client routes: authorize, report, heartbeat, release
/// (`/dls/api/v1/…`). Each answer leaves only after its record is durable.
///
/// Invariant: a call with a known (clientUUID, requestId) consumes nothing
/// and gets the first answer again.
final class ClientAPI {
    /// Largest client request body.
    static let bodyLimitBytes = 16 * 1024
    /// How long a verified session password is remembered per handshake code.
    static let sessionPasswordCacheMs: UInt64 = 10 * 60 * 1000

    private let loop: EventLoop
    private let service: LicenseService
    private let tokens: GrantToken
    /// Authorize and report calls by outcome: `granted`, `repeated`, or the refusal's code.
    private(set) var outcomes: [Grant.Kind: [String: UInt64]] = [:]
    /// Refusals since the last alert check took them (`takeTally`).
    private var tally = CallTally()
    /// Handshake code → (SHA-256 of a password that verified, the hash it matched, when).
    private var verifiedSessionPasswords: [String: (digest: [UInt8], against: PasswordHash, atMs: UInt64)] = [:]

    /// Where session passwords of earlier versions (PBKDF2) are checked.
    private let passwords: PasswordWork
    /// The key of keyed session password hashes.
    private let sessionPasswordKey: [UInt8]
    /// What opens the drill code (`DrillItem`).
    private let drillPass: DrillPass
    /// Wrong session passwords: 20 a minute from one address, 5 a minute
    /// from one address for one code.
    private var guessesByAddress = LoginRateLimiter(failuresMax: 20)
    private var guessesByCode = LoginRateLimiter(failuresMax: 5)

    init(loop: EventLoop, service: LicenseService, tokens: GrantToken, passwords: PasswordWork, sessionPasswordKey: [UInt8],
         drillPass: DrillPass) {
        self.loop = loop
        self.drillPass = drillPass
        self.passwords = passwords
        self.sessionPasswordKey = sessionPasswordKey
        self.service = service
        self.tokens = tokens
    }

    var routes: [RouteSpec] {
        [
            ("POST", "/api/v1/authorize", HTTPServer.Route(bodyLimitBytes: Self.bodyLimitBytes) { [unowned self] in self.call($0, kind: .authorize) }),
            ("POST", "/api/v1/report", HTTPServer.Route(bodyLimitBytes: Self.bodyLimitBytes) { [unowned self] in self.call($0, kind: .report) }),
            ("POST", "/api/v1/heartbeat", HTTPServer.Route(bodyLimitBytes: Self.bodyLimitBytes) { [unowned self] in self.heartbeat($0) }),
            ("POST", "/api/v1/release", HTTPServer.Route(bodyLimitBytes: Self.bodyLimitBytes) { [unowned self] in self.release($0) }),
        ]
    }

    // MARK: Authorize and report

    private func call(_ request: HTTPRequest, kind: Grant.Kind) {
        request.handling {
            let body = try ClientCallBody.read(request.body, kind: kind)
            let call = try CrossOrigin.call(body.call, origin: request.header("origin"))
            let password = body.sessionPassword
            try checkSessionPassword(call.handshakeCode, password, from: request.clientAddress, for: request) { [weak self] ok in
                guard let self else { return }
                guard ok else {
                    self.outcomes[kind, default: [:]][String(LicenseError.badSessionPassword().code), default: 0] += 1
                    self.countRefusal(call, forQuota: false, now: WallClock.nowSeconds())
                    return request.respond(licenseError: .badSessionPassword())
                }
                self.decide(call, kind: kind, request: request)
            }
        }
    }

    private func decide(_ call: ClientCall, kind: Grant.Kind, request: HTTPRequest) {
        // Time-ordered: the store's index on grant IDs then takes each
        // batch's grants on its last page instead of one random page each.
        let grantId = Crypto.timeOrderedUUID(unixMs: WallClock.nowMs())
        let remembered: RememberedAnswer?
        do {
            remembered = try service.rememberedAnswer(for: call.requestKey)
        } catch {
            return request.respond(error: .unavailable("This node cannot read its store; ask the other node."))
        }
        let outcome = service.state.decide(call, kind: kind, grantId: grantId, now: WallClock.nowSeconds(), remembered: remembered)
        outcomes[kind, default: [:]][outcome.metricLabel, default: 0] += 1
        switch outcome {
        case .refused(let error):
            countRefusal(call, forQuota: error.code == LicenseError.quotaExhausted("").code, now: WallClock.nowSeconds())
            request.respond(licenseError: error)
        case .refusedRetry(let refusal):
            countRefusal(call, forQuota: refusal.error.code == LicenseError.quotaExhausted("").code, now: WallClock.nowSeconds())
            service.commit(.refusal(refusal), request: request) { _ in request.respond(licenseError: refusal.error) }
        case .repeated(let grant):
            service.afterPending(request: request) { [weak self] in
                guard let self else { return }
                self.respond(request, grant: grant, term: self.service.term)
            }
        case .repeatedToLaterAttempt(let grant):
            service.commit(.grantAnsweredAgain(grant, at: WallClock.nowSeconds()), request: request) { [weak self] entry in
                self?.respond(request, grant: grant, term: entry.term)
            }
        case .grant(let grant):
            service.commit(.grant(grant), request: request) { [weak self] entry in
                self?.respond(request, grant: grant, term: entry.term)
            }
        }
    }

    /// Counts a refused call for the failure-rate and overuse alerts; calls
    /// under codes that do not exist are not counted (anyone can invent them).
    private func countRefusal(_ call: ClientCall, forQuota: Bool, now: Int64) {
        let state = service.state
        guard state.handshakes[call.handshakeCode] != nil else { return }
        tally.refusedByCode[call.handshakeCode, default: 0] += 1
        guard forQuota else { return }
        for itemId in state.fullConcurrentItems(for: call, now: now) { tally.overuseByItem[itemId, default: 0] += 1 }
    }

    /// The refusals counted since the last call, for the alert check to log.
    func takeTally() -> CallTally {
        defer { tally = CallTally() }
        return tally
    }

    private func respond(_ request: HTTPRequest, grant: Grant, term: UInt64) {
        let leaseSeconds = grant.leaseExpiresAt.map { $0 - grant.at } ?? 0
        let body = "{\"grace\":\(grant.grace),\"grantId\":\(JSONText.quote(grant.grantId)),\"itemId\":\(JSONText.quote(grant.itemId))"
            + ",\"leaseSeconds\":\(leaseSeconds),\"term\":\(term),\"token\":\(JSONText.quote(tokens.make(grant, term: term)))}"
        request.respond(status: 200, headers: [("content-type", "application/json")], body: Data(body.utf8))
    }

    /// Calls `then(true)` when the handshake needs no session password or
    /// `password` matches it; the drill code needs a valid drill pass. A keyed hash is checked at once; one of an
    /// earlier version (PBKDF2) on the password thread on a cache miss
    /// (throws 503 at once when too many checks wait there). Wrong guesses
    /// are limited per address, and per code and address (throws 429). A
    /// check whose request is gone before its turn is dropped.
    private func checkSessionPassword(_ code: String, _ password: String?, from address: String, for request: HTTPRequest,
                                      then: @escaping (Bool) -> Void) throws {
        let isDrill = code == DrillItem.handshakeCode
        let stored = service.state.handshakes[code]?.sessionPassword
        guard isDrill || stored != nil else { return then(true) }
        let nowMs = loop.nowMs
        let pairKey = code + " " + address
        guard guessesByAddress.allows(address, nowMs: nowMs), guessesByCode.allows(pairKey, nowMs: nowMs) else {
            throw LicenseError.tooManySessionPasswordGuesses()
        }
        let counted = { [weak self] (ok: Bool) in
            if !ok, let self {
                self.guessesByAddress.recordFailure(address, nowMs: self.loop.nowMs)
                self.guessesByCode.recordFailure(pairKey, nowMs: self.loop.nowMs)
            }
            then(ok)
        }
        if isDrill { return counted(drillPass.opens(password, now: WallClock.nowSeconds())) }
        guard let password, let stored else { return counted(false) }
        if stored.isKeyed { return counted(PasswordHasher.verifyKeyed(password, against: stored, key: sessionPasswordKey)) }
        let digest = Crypto.sha256(Array(password.utf8))
        if let cached = verifiedSessionPasswords[code], cached.against == stored,
           cached.atMs + Self.sessionPasswordCacheMs > nowMs, Crypto.constantTimeEqual(cached.digest, digest) {
            return then(true)
        }
        let accepted = passwords.submit({ PasswordHasher.verify(password, against: stored) }, isWanted: { !request.isFinished },
                                        completion: { [weak self] ok in
            if ok { self?.verifiedSessionPasswords[code] = (digest, stored, nowMs) }
            counted(ok)
        })
        if !accepted { throw PasswordWork.busy }
    }

    // MARK: Leases

    private func heartbeat(_ request: HTTPRequest) {
        request.handling {
            let grantId = try leaseGrantId(request)
            switch service.state.decideHeartbeat(grantId: grantId, now: WallClock.nowSeconds()) {
            case .failure(let error):
                request.respond(licenseError: error)
            case .success(let record):
                service.commit(record, request: request) { entry in
                    guard case .renewLease(_, let expiresAt, let at) = entry.record else { return }
                    request.respondJSON(["grantId": grantId, "leaseSeconds": expiresAt - at, "expiresAt": UTCTime.format(expiresAt),
                                         "term": entry.term])
                }
            }
        }
    }

    private func release(_ request: HTTPRequest) {
        request.handling {
            let grantId = try leaseGrantId(request)
            switch service.state.decideRelease(grantId: grantId, now: WallClock.nowSeconds()) {
            case .failure(let error):
                request.respond(licenseError: error)
            case .success(let record):
                service.commit(record, request: request) { entry in
                    request.respondJSON(["grantId": grantId, "released": true, "term": entry.term])
                }
            }
        }
    }

    private func leaseGrantId(_ request: HTTPRequest) throws -> String {
        var body = try request.jsonObject()
        let grantId = try body.required("grantId", maxBytes: 128)
        _ = try body.optional("clientUUID", maxBytes: 128)
        _ = try body.optional("handshakeCode", maxBytes: Handshake.codeLengthMax)
        try body.rejectUnknownKeys()
        return grantId
    }
}

extension CallOutcome {
    /// The `result` label of the client call metrics.
    var metricLabel: String {
        switch self {
        case .grant: return "granted"
        case .repeated, .repeatedToLaterAttempt: return "repeated"
        case .refused(let error): return String(error.code)
        case .refusedRetry(let refusal): return String(refusal.error.code)
        }
    }
}
