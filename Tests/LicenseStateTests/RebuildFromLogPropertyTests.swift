import LicenseState
import XCTest
import LTSTestSupport

/// Property: the state is a deterministic function of its log. Random
/// operations (seeded, so every failure can be replayed from its seed) are
/// decided and applied to a live state; rebuilding a fresh state from the log
/// gives the same state and digest, and quota invariants hold at every step
/// (the split of each item's use by code among them).
final class RebuildFromLogPropertyTests: XCTestCase {
    static let seedCount: UInt64 = 200
    static let stepsPerSeed = 300

    func testRebuildFromLogEqualsLiveState() {
        for seed in 0..<Self.seedCount {
            let run = PropertyRun(seed: seed)
            run.execute(steps: Self.stepsPerSeed)
            // Stop at the first failing seed: its message says how to replay it.
            if run.failed { return }
        }
    }

    /// The operation mix reaches every kind of decision (guards against a
    /// generator that silently stops exercising something).
    func testOperationMixCoversTheDomain() {
        var totals = PropertyRun.Coverage()
        for seed in 0..<UInt64(20) {
            let run = PropertyRun(seed: 10_000 + seed)
            run.execute(steps: Self.stepsPerSeed)
            if run.failed { return }
            totals.add(run.coverage)
        }
        for chargeWay in ChargeWay.allCases {
            XCTAssertGreaterThan(totals.grantsByWay[chargeWay, default: 0], 0, "no grant on a \(chargeWay) item")
        }
        XCTAssertGreaterThan(totals.graceGrants, 0, "no grace grant")
        XCTAssertGreaterThan(totals.repeats, 0, "no repeated request")
        XCTAssertGreaterThan(totals.repeatsToLaterAttempts, 0, "no grant answered again to a later attempt")
        XCTAssertGreaterThan(totals.loggedRefusals, 0, "no refused retry logged")
        for code in [-20110, -20111, -20120, -20121, -20123, -20001] {
            XCTAssertGreaterThan(totals.refusals[code, default: 0], 0, "no refusal \(code)")
        }
        XCTAssertGreaterThan(totals.renewals, 0, "no heartbeat renewal")
        XCTAssertGreaterThan(totals.releases, 0, "no release")
        XCTAssertGreaterThan(totals.expiries, 0, "no expire record that changed something")
        XCTAssertGreaterThan(totals.prunedRequests, 0, "no request pruned")
        XCTAssertGreaterThan(totals.handshakePuts, 0, "no handshake put")
        XCTAssertGreaterThan(totals.handshakeDeletes, 0, "no handshake delete")
        XCTAssertGreaterThan(totals.imports, 0, "no import during a run")
        XCTAssertGreaterThan(totals.tallies, 0, "no refusal tally")
        XCTAssertGreaterThan(totals.alertsRaised, 0, "no alert raised")
        XCTAssertGreaterThan(totals.alertsCleared, 0, "no alert cleared")
        XCTAssertGreaterThan(totals.deliveries, 0, "no alert email delivered")
    }
}

/// One seeded run of random operations.
final class PropertyRun {
    struct Coverage {
        var grantsByWay: [ChargeWay: Int] = [:]
        var graceGrants = 0
        var repeats = 0
        var repeatsToLaterAttempts = 0
        var loggedRefusals = 0
        var refusals: [Int: Int] = [:]
        var renewals = 0
        var releases = 0
        var expiries = 0
        var prunedRequests = 0
        var handshakePuts = 0
        var handshakeDeletes = 0
        var imports = 0
        var tallies = 0
        var alertsRaised = 0
        var alertsCleared = 0
        var deliveries = 0

        mutating func add(_ other: Coverage) {
            grantsByWay.merge(other.grantsByWay, uniquingKeysWith: +)
            refusals.merge(other.refusals, uniquingKeysWith: +)
            graceGrants += other.graceGrants
            repeats += other.repeats
            repeatsToLaterAttempts += other.repeatsToLaterAttempts
            loggedRefusals += other.loggedRefusals
            renewals += other.renewals
            releases += other.releases
            expiries += other.expiries
            prunedRequests += other.prunedRequests
            handshakePuts += other.handshakePuts
            handshakeDeletes += other.handshakeDeletes
            imports += other.imports
            tallies += other.tallies
            alertsRaised += other.alertsRaised
            alertsCleared += other.alertsCleared
            deliveries += other.deliveries
        }
    }

    /// The license imported before the first step: one item of each charge way.
    static let primary = Fixture.licenseBytes(licenseId: "L-A", items: [
        Fixture.item("scan-a", product: "scanner", way: .scan, quantity: 20, expiresAt: "2026-01-25T00:00:00Z"),
        Fixture.item("scan-b", product: "scanner", way: .scan, quantity: 40, expiresAt: "2026-03-01T00:00:00Z", edition: "pro"),
        Fixture.item("dev-a", product: "reader", way: .device, quantity: 10, expiresAt: "2026-02-20T00:00:00Z", activeWindow: "day"),
        Fixture.item("inst-a", product: "viewer", way: .concurrentInstance, quantity: 2, expiresAt: "2026-02-10T00:00:00Z",
                     leaseSeconds: 60),
        Fixture.item("cdev-a", product: "editor", way: .concurrentDevice, quantity: 2, expiresAt: "2026-03-01T00:00:00Z"),
        Fixture.item("dom-a", product: "web", way: .domain, quantity: 3, expiresAt: "2026-12-01T00:00:00Z"),
    ])
    /// Licenses a run may import along the way (some refused: re-import, expired items).
    static let later: [[UInt8]] = [
        Fixture.licenseBytes(licenseId: "L-B", items: [
            Fixture.item("scan-c", product: "scanner", way: .scan, quantity: 10, startsAt: "2026-01-10T00:00:00Z",
                         expiresAt: "2026-02-15T00:00:00Z"),
            Fixture.item("dev-b", product: "reader", way: .device, quantity: 3, expiresAt: "2026-04-01T00:00:00Z", activeWindow: "month"),
            Fixture.item("inst-b", product: "viewer", way: .concurrentInstance, quantity: 1, expiresAt: "2026-12-01T00:00:00Z"),
        ]),
        Fixture.licenseBytes(licenseId: "L-G", organizationId: "globex", boundTo: Fixture.cluster.lowercased(), items: [
            Fixture.item("glx-scan", product: "scanner", way: .scan, quantity: 5, expiresAt: "2026-12-01T00:00:00Z"),
        ]),
        Fixture.licenseBytes(licenseId: "L-X", items: [
            Fixture.item("scan-x", product: "scanner", way: .scan, quantity: 5, expiresAt: "2026-01-05T00:00:00Z"),
        ]),
        PropertyRun.primary,
    ]
    static let allItemIds = ["scan-a", "scan-b", "dev-a", "inst-a", "cdev-a", "dom-a", "scan-c", "dev-b", "inst-b", "glx-scan", "scan-x"]
    static let products: [String?] = [nil, "scanner", "reader", "viewer", "editor", "web", "painter"]
    static let domains: [String?] = [nil, "a.example.com", "A.Example.com", "b.example.com", "c.test", "d.test", "e.test", "evil.com", ""]
    static let appIds: [String?] = [nil, "com.acme.app", "com.other.app"]
    static let rules: [ValidationRules] = [
        ValidationRules(), ValidationRules(), ValidationRules(domains: ["*.example.com"]),
        ValidationRules(domains: ["*.example.com", "*.test"], appIds: ["com.acme.*"]), ValidationRules(appIds: ["com.*"]),
    ]
    static let knownRefusals: Set<Int> = [-20001, -20110, -20111, -20120, -20121, -20122, -20123]

    let seed: UInt64
    var rng: SplitMix64
    var h = Harness()
    var now = utc("2026-01-01T01:00:00Z")
    var step = 0
    var operation = "setup"
    /// Grant IDs of every lease handed out, for heartbeats and releases.
    var leaseGrants: [String] = []
    var coverage = Coverage()
    /// Grant records applied so far.
    var grantRecords = 0
    var failed = false
    /// Refusals since the last alert check.
    var pendingTally = CallTally()
    /// Scans granted per scan item and code (runs log no voids): what the
    /// state's split by code must say.
    var scansByItemAndCode: [String: [String: Int64]] = [:]

    init(seed: UInt64) {
        self.seed = seed
        rng = SplitMix64(seed: seed)
    }

    /// Reports a failed property once per run, with what replays it.
    func check(_ condition: Bool, _ message: @autoclosure () -> String,
                        file: StaticString = #filePath, line: UInt = #line) {
        guard !condition, !failed else { return }
        failed = true
        XCTFail("seed \(seed), step \(step) (\(operation)), now \(UTCTime.format(now)): \(message())", file: file, line: line)
    }

    func execute(steps: Int) {
        do {
            _ = try h.importLicense(Self.primary, now: now)
        } catch {
            check(false, "the primary license does not import: \(error)")
            return
        }
        var midpoint: (state: LicenseState, logCount: Int)?
        for index in 1...steps where !failed {
            step = index
            advanceTime()
            randomOperation()
            checkInvariants()
            if index == steps / 2 { midpoint = (h.state, h.log.count) }
        }
        guard !failed else { return }

        // Rebuild from the whole log, directly and through the binary codec.
        operation = "rebuild"
        let rebuilt = h.rebuilt()
        check(rebuilt == h.state, "the state rebuilt from \(h.log.count) records differs from the live state")
        check(rebuilt.digest == h.state.digest, "digest \(rebuilt.digest) of the rebuilt state ≠ \(h.state.digest)")
        check(rebuilt.needsExpiry(now: now) == h.state.needsExpiry(now: now), "needsExpiry differs after rebuild")
        var rebuiltRequests = RequestBook()
        for record in h.log { rebuiltRequests.apply(record) }
        check(rebuiltRequests == h.requests, "the remembered answers rebuilt from the log differ")
        var decoded = LicenseState()
        for record in h.log {
            guard let copy = try? LogRecordCodec.decode(LogRecordCodec.encode(record)) else {
                check(false, "record does not decode: \(record)")
                return
            }
            check(copy == record, "codec changed \(record) into \(copy)")
            decoded.apply(copy)
        }
        check(decoded == h.state && decoded.digest == h.state.digest, "the state rebuilt through the codec differs")

        // A rebuild of a prefix of the log gives the state at that point.
        if let midpoint {
            var prefix = LicenseState()
            for record in h.log.prefix(midpoint.logCount) { prefix.apply(record) }
            check(prefix == midpoint.state && prefix.digest == midpoint.state.digest,
                  "the state rebuilt from the first \(midpoint.logCount) records differs from the state then")
        }
    }

    func advanceTime() {
        let roll = rng.below(100)
        let delta: Int
        switch roll {
        case 0..<60: delta = rng.below(61)
        case 60..<88: delta = rng.below(600)
        case 88..<98: delta = rng.below(86_400)
        default: delta = rng.below(5 * 86_400)
        }
        now += Int64(delta)
    }

    func randomOperation() {
        switch rng.below(100) {
        case 0..<38: clientCall(kind: .authorize)
        case 38..<52: clientCall(kind: .report)
        case 52..<63: heartbeat()
        case 63..<70: release()
        case 70..<79: expire()
        case 79..<87: putHandshake()
        case 87..<91: deleteHandshake()
        case 91..<96: importLicense()
        case 96..<98: alertCheck()
        default:
            switch rng.below(3) {
            case 0: deliverAlertEmail()
            case 1:
                operation = "alert settings"
                let server = AlertSettings.MailServer(host: "smtp.example.com", port: Int64(1 + rng.below(65535)), security: "starttls",
                                                      username: "lts", sealedPassword: [UInt8(rng.below(256))], from: nil)
                h.apply(.setAlertSettings(AlertSettings(recipients: ["ops@example.com"], checkMilliseconds: Int64(3_000 + rng.below(600_000)),
                                                        standbyLagMinutes: Int64(1 + rng.below(10)),
                                                        mailServer: rng.chance(perMille: 500) ? server : nil), at: now))
            default:
                operation = "password"
                h.apply(.setAdminPassword(Fixture.password(UInt8(truncatingIfNeeded: rng.below(256))), at: now))
                // Its audit entry (from the time: no draw, so the runs' other choices stay).
                h.apply(.audit(AuditEntry(at: now, actor: "admin session \(now % 7)", address: "192.0.2.\(now % 250)",
                                          action: .passwordChange, object: "", refusalCode: now % 3 == 0 ? -20201 : nil)))
                // The first node to write a log gives the cluster its identity
                // (from the time: no draw, so the runs' other choices stay).
                let uuid = String(format: "%08x-0000-4000-8000-000000000000", UInt32(truncatingIfNeeded: now))
                if let record = h.state.decideClusterIdentity(uuid: uuid, now: now) { h.apply(record) }
            }
        }
    }

    /// What an alert check on the primary writes: the refusals counted
    /// since the last check, then the alert book's update.
    func alertCheck() {
        operation = "alert check"
        if !pendingTally.isEmpty {
            h.apply(.tallyCalls(pendingTally, at: now))
            pendingTally = CallTally()
            coverage.tallies += 1
        }
        let cluster = rng.chance(perMille: 300) ? nil : AlertRules.ClusterFacts(
            takeoverTerm: rng.chance(perMille: 500) ? nil : Int64(2 + rng.below(3)), nodeUUID: "node-a", standbyOutOfSyncSince: rng.chance(perMille: 500) ? nil : now - Int64(rng.below(900)))
        let conditions = AlertRules.conditions(h.state, cluster: cluster, standbyLagMinutes: 5, now: now)
        check(Set(conditions.map(\.key)).count == conditions.count, "two conditions share a key")
        guard let update = AlertRules.update(h.state, conditions: conditions, recipients: ["ops@example.com"]) else {
            let unalerted = conditions.filter { $0.crossed && h.state.alerts.alerted[$0.key] == nil }
            return check(unalerted.isEmpty, "crossed conditions left unalerted: \(unalerted.map(\.key))")
        }
        let emailsBefore = h.state.alerts.nextEmailId
        h.apply(.alerts(update, at: now))
        coverage.alertsRaised += update.raised.count
        coverage.alertsCleared += update.cleared.count
        let crossed = Set(conditions.filter(\.crossed).map(\.key))
        check(Set(h.state.alerts.alerted.keys) == crossed, "after a check the alerted conditions are not the crossed ones")
        check((update.email != nil) == !update.raised.isEmpty && h.state.alerts.nextEmailId == emailsBefore + (update.email == nil ? 0 : 1),
              "an email queued without a raised condition, or the other way round")
        check(AlertRules.update(h.state, conditions: conditions, recipients: ["ops@example.com"]) == nil, "a second check at once changes something")
    }

    func deliverAlertEmail() {
        operation = "alert delivery"
        guard let email = h.state.alerts.dueEmail(now: now) ?? h.state.alerts.emails.last else { return }
        let error = rng.chance(perMille: 400) ? "451 try again later" : nil
        h.apply(.alertDelivery(emailId: email.id, error: error, at: now))
        coverage.deliveries += 1
        if let after = h.state.alerts.email(email.id) {
            check(email.status != .pending || (error == nil ? after.status == .sent : after.attempts == email.attempts + 1),
                  "a delivery attempt did not count: \(after)")
        }
    }

    /// Handshake codes in a fixed order (dictionary order changes between processes).
    var codes: [String] { h.state.handshakes.keys.sorted() }

    func clientCall(kind: Grant.Kind) {
        let code = rng.chance(perMille: 80) ? "acme-unknown" : rng.pick(codes)
        let client = "client-\(rng.below(14))"
        let product = kind == .report && rng.chance(perMille: 700) ? nil : rng.pick(Self.products)
        let requestId = rng.chance(perMille: 500) ? nil : "r\(rng.below(30))"
        let scans = Int64(1 + rng.below(3))
        let domain = rng.pick(Self.domains)
        let appId = rng.pick(Self.appIds)
        operation = "\(kind) \(code) \(client) \(product ?? "-") \(requestId ?? "-") scans=\(scans) \(domain ?? "-") \(appId ?? "-")"

        let attempt = requestId == nil || rng.chance(perMille: 300) ? nil : 1 + rng.below(4)
        let call = ClientCall(handshakeCode: code, clientUUID: client, product: product, requestId: requestId, scans: scans,
                              domain: domain, appId: appId, attempt: attempt)
        let grantId = "s\(seed)-\(step)"
        let remembered = requestId.flatMap { h.remembered(client: client, requestId: $0) }
        let outcome = h.state.decide(call, kind: kind, grantId: grantId, now: now, remembered: call.requestKey.flatMap(h.requests.answer(for:)))
        if let remembered {
            var later = remembered
            later.attempt = attempt
            let expected: CallOutcome = RememberedAnswer.granted(remembered).isSuperseded(byAttempt: attempt)
                ? .repeatedToLaterAttempt(later) : .repeated(remembered)
            check(outcome == expected, "a remembered request got \(outcome), not its first grant")
        }
        switch outcome {
        case .repeated(let first):
            coverage.repeats += 1
            check(remembered == first, "repeated \(first) for a request that is not remembered")
        case .repeatedToLaterAttempt(let first):
            coverage.repeatsToLaterAttempts += 1
            h.apply(.grantAnsweredAgain(first, at: now))
            check(h.remembered(client: client, requestId: requestId ?? "") == first, "the later attempt is not remembered")
        case .refusedRetry(let refusal):
            coverage.loggedRefusals += 1
            check(refusal.attempt == attempt && (attempt ?? 0) >= 2 && refusal.requestId == requestId, "a refusal logged for \(attempt ?? 0)")
            h.apply(.refusal(refusal))
            check(h.answer(client: client, requestId: requestId ?? "") == .refused(refusal), "the refusal is not remembered")
            check(h.state.decide(call, kind: kind, grantId: grantId + "-again", now: now,
                                 remembered: h.requests.answer(for: refusal.key)) == .refused(refusal.error),
                  "the same attempt again is not refused the same way")
        case .refused(let error):
            coverage.refusals[error.code, default: 0] += 1
            pendingTally.refusedByCode[code, default: 0] += 1
            for itemId in h.state.fullConcurrentItems(for: call, now: now) { pendingTally.overuseByItem[itemId, default: 0] += 1 }
            check(Self.knownRefusals.contains(error.code), "unexpected refusal \(error)")
        case .grant(let grant):
            guard let usage = h.state.items[grant.itemId] else {
                return check(false, "grant on an unknown item \(grant.itemId)")
            }
            let item = usage.item
            check(grant.grantId == grantId && grant.at == now && grant.kind == kind && grant.clientUUID == client
                      && grant.handshakeCode == code && grant.requestId == requestId, "grant fields do not match the call: \(grant)")
            check(h.state.handshakes[code]?.items.contains(grant.itemId) == true, "grant on an item outside the code: \(grant)")
            check(product == nil || item.product == product, "grant on product \(item.product) for a call asking \(product ?? "-")")
            check(kind == .authorize || item.chargeWay == .scan, "report drew on a \(item.chargeWay) item")
            check(grant.amount == (item.chargeWay == .scan ? scans : 1), "amount \(grant.amount) on a \(item.chargeWay) item")
            check((grant.leaseExpiresAt != nil) == item.chargeWay.isConcurrent, "lease on a \(item.chargeWay) item: \(grant)")
            check((grant.domain != nil) == (item.chargeWay == .domain), "domain on a \(item.chargeWay) item: \(grant)")
            check(now >= item.startsAt && now <= item.expiresAt + LicenseItem.graceSeconds, "grant outside the item's validity")
            if now > item.expiresAt { check(grant.grace, "grant after expiry not marked grace") }
            coverage.grantsByWay[item.chargeWay, default: 0] += 1
            if grant.grace { coverage.graceGrants += 1 }
            if grant.leaseExpiresAt != nil { leaseGrants.append(grant.grantId) }
            if item.chargeWay == .scan { scansByItemAndCode[grant.itemId, default: [:]][grant.handshakeCode, default: 0] += grant.amount }
            h.apply(.grant(grant))
            grantRecords += 1
            if let requestId {
                check(h.remembered(client: client, requestId: requestId) == grant,
                      "the grant is not remembered under its request ID")
            }
        }
    }

    func randomLeaseGrant() -> String {
        leaseGrants.isEmpty || rng.chance(perMille: 100) ? "ghost-\(rng.below(3))" : leaseGrants[leaseGrants.count - 1 - rng.below(min(8, leaseGrants.count))]
    }

    func heartbeat() {
        let grantId = randomLeaseGrant()
        operation = "heartbeat \(grantId)"
        let lease = h.state.leases[grantId]
        let result = h.state.decideHeartbeat(grantId: grantId, now: now)
        switch result {
        case .success(let record):
            guard let lease, let item = h.state.items[lease.itemId]?.item else {
                return check(false, "heartbeat of a grant without a lease succeeded")
            }
            check(lease.expiresAt > now, "heartbeat of an expired lease succeeded")
            check(record == .renewLease(grantId: grantId, expiresAt: now + item.leaseSeconds, at: now), "renewal \(record)")
            h.apply(record)
            coverage.renewals += 1
        case .failure(let error):
            check(error.code == -20130, "heartbeat failed with \(error)")
            check(lease == nil || lease!.expiresAt <= now, "heartbeat of an active lease failed")
        }
    }

    func release() {
        let grantId = randomLeaseGrant()
        operation = "release \(grantId)"
        let held = h.state.leases[grantId] != nil
        switch h.state.decideRelease(grantId: grantId, now: now) {
        case .success(let record):
            check(held, "release of an unknown lease succeeded")
            h.apply(record)
            check(h.state.leases[grantId] == nil, "a released lease is still there")
            coverage.releases += 1
        case .failure(let error):
            check(error.code == -20130 && !held, "release failed with \(error)")
        }
    }

    func expire() {
        operation = "expire"
        let needed = h.state.needsExpiry(now: now), neededByRequests = h.requests.needsExpiry(now: now)
        var expired = h.state, forgotten = h.requests
        expired.apply(.expire(at: now))
        forgotten.apply(.expire(at: now))
        check(needed == (expired != h.state), "needsExpiry says \(needed) but expire(at: now) \(expired == h.state ? "changes nothing" : "changes the state")")
        check(neededByRequests == (forgotten != h.requests), "the book's needsExpiry says \(neededByRequests) but expire(at: now) disagrees")
        check(!expired.needsExpiry(now: now) && !forgotten.needsExpiry(now: now), "needsExpiry is still true right after expire(at: now)")
        check(expired.leases.values.allSatisfy { $0.expiresAt > now }, "an expired lease survived expire")
        check(forgotten.answersInOrder.allSatisfy { $0.at >= now - RequestBook.retentionSeconds }, "an old request survived expire")
        if needed || neededByRequests ? rng.chance(perMille: 800) : rng.chance(perMille: 200) {
            if expired.leases.count < h.state.leases.count { coverage.expiries += 1 }
            if forgotten.count < h.requests.count { coverage.prunedRequests += 1 }
            h.apply(.expire(at: now))
        }
    }

    func putHandshake() {
        let code = rng.pick(["acme-1", "acme-2", "acme-p0", "acme-p1", "globex-1", "globex-p", "acme-bad code", "acmep"])
        let organization = code.hasPrefix("globex") ? "globex" : "acme"
        var items: [String] = []
        for itemId in Self.allItemIds where rng.chance(perMille: organization == "acme" ? 300 : 150) { items.append(itemId) }
        if rng.chance(perMille: 50), let first = items.first { items.append(first) }
        items.shuffle(using: &rng)
        let password = rng.chance(perMille: 150) ? Fixture.password(UInt8(truncatingIfNeeded: rng.below(256))) : nil
        let handshake = Handshake(code: code, organizationId: organization, items: items, explicitOrder: rng.chance(perMille: 500),
                                  validation: rng.pick(Self.rules), sessionPassword: password)
        let creating = rng.chance(perMille: 500)
        operation = "put handshake \(code) creating=\(creating) items=\(items)"
        let existing = h.state.handshakes[code]
        switch h.state.decidePutHandshake(handshake, creating: creating, now: now) {
        case .success(let record):
            let live = existing.map { !$0.deleted } ?? false
            check(creating != live, "put with creating=\(creating) on a code that is \(live ? "live" : "absent or deleted") succeeded")
            check(!items.isEmpty && items.allSatisfy { h.state.items[$0] != nil }, "put accepted items \(items)")
            h.apply(record)
            check(h.state.handshakes[code] == handshake, "the handshake was not stored as put")
            coverage.handshakePuts += 1
        case .failure(let error):
            check([-20310, -20311, -20312].contains(error.code), "put failed with \(error)")
        }
    }

    func deleteHandshake() {
        let code = rng.chance(perMille: 100) ? "acme-none" : rng.pick(codes)
        operation = "delete handshake \(code)"
        let total = h.state.grantsTotal
        switch h.state.decideDeleteHandshake(code: code, now: now) {
        case .success(let record):
            h.apply(record)
            check(h.state.handshakes[code]?.deleted == true && h.state.grantsTotal == total, "delete did not mark the code deleted only")
            coverage.handshakeDeletes += 1
        case .failure(let error):
            check(error.code == -20312, "delete failed with \(error)")
        }
    }

    func importLicense() {
        let bytes = rng.pick(Self.later)
        guard let file = try? LicenseFile.parse(bytes) else { return check(false, "a fixture license does not parse") }
        operation = "import \(file.licenseId)"
        switch h.state.decideImport(file, bytes: bytes, nodeUUID: Fixture.cluster, now: now) {
        case .success(let record):
            check(h.state.licenses[file.licenseId] == nil, "re-import accepted")
            h.apply(record)
            check(h.state.licenses[file.licenseId] == file, "import did not store the file")
            coverage.imports += 1
        case .failure(let error):
            check([-20303, -20304, -20305].contains(error.code), "import failed with \(error)")
        }
    }

    /// Quota invariants at `now`.
    func checkInvariants() {
        let state = h.state
        for itemId in state.items.keys.sorted() {
            let usage = state.items[itemId]!
            let item = usage.item
            let used = state.used(itemId, now: now)
            let active = state.leases.values.filter { $0.itemId == itemId && $0.expiresAt > now }
            let split = state.usedByCode(itemId, now: now)
            check(split.total == used, "\(itemId): the split by code \(split) does not add up to used \(used)")
            check(split.unattributed == 0 && !split.byCode.values.contains { $0 <= 0 }, "\(itemId): split \(split) of a state built from its log")
            if item.chargeWay == .scan {
                check(split.byCode == scansByItemAndCode[itemId, default: [:]], "\(itemId): split \(split) ≠ the scans granted per code")
            }
            switch item.chargeWay {
            case .scan:
                check(usage.consumed <= item.limitWithGrace, "\(itemId) consumed \(usage.consumed) > \(item.limitWithGrace)")
                check(used == usage.consumed, "\(itemId) used \(used) ≠ consumed \(usage.consumed)")
            case .device:
                check(used <= item.limitWithGrace, "\(itemId) has \(used) devices > \(item.limitWithGrace)")
                check(usage.devices.count <= item.limitWithGrace, "\(itemId) holds \(usage.devices.count) devices")
            case .concurrentInstance:
                check(active.count <= item.quantity, "\(itemId) has \(active.count) active leases > \(item.quantity)")
                check(used == Int64(active.count), "\(itemId) used \(used) ≠ \(active.count) active leases")
            case .concurrentDevice:
                let devices = Set(active.map(\.device))
                check(devices.count <= item.quantity, "\(itemId) has \(devices.count) leasing devices > \(item.quantity)")
                check(used == Int64(devices.count), "\(itemId) used \(used) ≠ \(devices.count) devices")
            case .domain:
                check(usage.domains.count <= item.quantity, "\(itemId) has \(usage.domains.count) domains > \(item.quantity)")
                check(usage.domains.allSatisfy { $0 == $0.lowercased() && !$0.isEmpty }, "\(itemId) holds domains \(usage.domains)")
            }
        }
        for lease in state.leases.values {
            check(state.items[lease.itemId]?.item.chargeWay.isConcurrent == true, "lease \(lease.grantId) on a non-concurrent item")
        }
        check(state.grantsTotal == Int64(grantRecords), "grantsTotal \(state.grantsTotal) ≠ \(grantRecords) grant records")
    }
}
