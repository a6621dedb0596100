/// Decisions on client and admin calls: each returns the record to log (or a
/// refusal) and changes nothing; the caller logs the record and applies it.
extension LicenseState {
    // MARK: Client calls

    /// Decides an authorize (`kind: .authorize`) or report (`.report`) call.
    /// The caller has checked the session password (it needs libcrypto),
    /// and for the drill code (`DrillItem`) the drill pass.
    /// - Parameters:
    ///   - grantId: the ID the grant gets if there is one (random, from the shell).
    ///   - now: the time of the decision (UTC seconds).
    ///   - remembered: the answer remembered for the call's request ID
    ///     (`ClientCall.requestKey`), if there is one.
    ///
    /// A request ID answered before gets that answer again: a grant whatever
    /// the attempt (it is logged as answered again when this attempt is
    /// later than the one it answered), a refusal when this attempt is not
    /// later than the refused one. A later attempt than a refused one is
    /// decided afresh: the client never took that refusal.
    public func decide(_ call: ClientCall, kind: Grant.Kind, grantId: String, now: Int64, remembered: RememberedAnswer?) -> CallOutcome {
        precondition(remembered == nil || remembered?.key == call.requestKey, "an answer remembered for another request")
        if let answer = remembered {
            switch answer {
            case .granted(var grant):
                guard answer.isSuperseded(byAttempt: call.attempt) else { return .repeated(grant) }
                grant.attempt = call.attempt
                return .repeatedToLaterAttempt(grant)
            case .refused(let refusal):
                if !answer.isSuperseded(byAttempt: call.attempt) { return .refused(refusal.error) }
            }
        }
        let outcome = decideAfresh(call, kind: kind, grantId: grantId, now: now)
        // Only a retry's refusal can meet a grant of the same request on the
        // other node; under a code that does not exist there is nothing to
        // grant, and anyone can invent codes, so those refusals log nothing.
        guard case .refused(let error) = outcome, let requestId = call.requestId, let attempt = call.attempt, attempt >= 2,
              handshakes[call.handshakeCode] != nil else {
            return outcome
        }
        return .refusedRetry(RequestRefusal(clientUUID: call.clientUUID, requestId: requestId, attempt: attempt, error: error, at: now))
    }

    private func decideAfresh(_ call: ClientCall, kind: Grant.Kind, grantId: String, now: Int64) -> CallOutcome {
        if call.handshakeCode == DrillItem.handshakeCode { return DrillItem.grant(for: call, kind: kind, grantId: grantId, now: now) }
        guard let handshake = handshakes[call.handshakeCode], !handshake.deleted else {
            return .refused(.invalidHandshakeCode(call.handshakeCode))
        }
        if let field = handshake.validation.firstMismatch(domain: call.domain, appId: call.appId, process: call.process) {
            return .refused(.validationMismatch(field))
        }
        let product = call.product ?? "scans"
        var candidates = orderedItems(of: handshake)
        if let wanted = call.product { candidates = candidates.filter { $0.product == wanted } }
        if kind == .report { candidates = candidates.filter { $0.chargeWay == .scan } }
        guard !candidates.isEmpty else { return .refused(.noItem(product)) }

        var sawQuota = false, sawExpired = false, sawEarly = false
        for item in candidates {
            if now < item.startsAt {
                sawEarly = true
                continue
            }
            if now > item.expiresAt + LicenseItem.graceSeconds {
                sawExpired = true
                continue
            }
            if item.chargeWay == .domain, call.domain?.isEmpty ?? true {
                return .refused(.badClientRequest("This license counts web domains: the call must name its \"domain\"."))
            }
            guard let capacityGrace = capacity(item, call, now: now) else {
                sawQuota = true
                continue
            }
            let amount = item.chargeWay == .scan ? call.scans : 1
            let lease = item.chargeWay.isConcurrent ? now + item.leaseSeconds : nil
            return .grant(Grant(grantId: grantId, kind: kind, requestId: call.requestId, handshakeCode: handshake.code,
                                clientUUID: call.clientUUID, itemId: item.itemId, amount: amount,
                                domain: item.chargeWay == .domain ? call.domain?.lowercased() : nil, leaseExpiresAt: lease,
                                grace: capacityGrace || now > item.expiresAt, at: now, attempt: call.attempt))
        }
        if sawQuota { return .refused(.quotaExhausted(product)) }
        if sawExpired { return .refused(.expired(product)) }
        precondition(sawEarly, "every candidate item is skipped for a reason")
        return .refused(.notYetValid(product))
    }

    /// Whether `item` has room for the call at `now`: nil when it has none,
    /// else whether the grant uses the grace overrun.
    private func capacity(_ item: LicenseItem, _ call: ClientCall, now: Int64) -> Bool? {
        let usage = items[item.itemId]!
        func check(_ after: Int64) -> Bool? {
            if after <= item.quantity { return false }
            if after <= item.limitWithGrace { return true }
            return nil
        }
        switch item.chargeWay {
        case .scan:
            return check(usage.consumed + call.scans)
        case .device:
            let current = usage.windowStart == item.activeWindow!.start(containing: now) ? usage.devices : []
            if current.contains(call.clientUUID) { return current.count > item.quantity }
            return check(Int64(current.count) + 1)
        case .domain:
            let domain = call.domain!.lowercased()
            if usage.domains.contains(domain) { return false }
            return check(Int64(usage.domains.count) + 1)
        case .concurrentInstance:
            return check(Int64(activeLeases(item.itemId, now: now).count) + 1)
        case .concurrentDevice:
            let devices = Set(activeLeases(item.itemId, now: now).map(\.device))
            if devices.contains(call.clientUUID) { return false }
            return check(Int64(devices.count) + 1)
        }
    }

    /// The concurrent items a refused call found full: what the primary
    /// tallies as overuse. Empty unless the call was refused for quota.
    public func fullConcurrentItems(for call: ClientCall, now: Int64) -> [String] {
        guard let handshake = handshakes[call.handshakeCode], !handshake.deleted else { return [] }
        return orderedItems(of: handshake).filter { item in
            item.chargeWay.isConcurrent && (call.product == nil || item.product == call.product)
                && now >= item.startsAt && now <= item.expiresAt + LicenseItem.graceSeconds && capacity(item, call, now: now) == nil
        }.map(\.itemId)
    }

    /// Decides a lease heartbeat: the renewal record, or why there is none.
    public func decideHeartbeat(grantId: String, now: Int64) -> Result<LogRecord, LicenseError> {
        guard let lease = leases[grantId], lease.expiresAt > now, let usage = items[lease.itemId] else {
            return .failure(.unknownGrant(grantId))
        }
        return .success(.renewLease(grantId: grantId, expiresAt: now + usage.item.leaseSeconds, at: now))
    }

    /// Decides a lease release.
    public func decideRelease(grantId: String, now: Int64) -> Result<LogRecord, LicenseError> {
        guard leases[grantId] != nil else { return .failure(.unknownGrant(grantId)) }
        return .success(.releaseLease(grantId: grantId, at: now))
    }

    // MARK: Admin calls

    /// Checks a signature-verified license file against the state: binding,
    /// re-import, item IDs, expiry. Returns the record that imports it.
    public func decideImport(_ file: LicenseFile, bytes: [UInt8], nodeUUID: String, now: Int64) -> Result<LogRecord, LicenseError> {
        guard ClusterIdentity.accepts(boundTo: file.boundTo, clusterUUID: clusterUUID, nodeUUID: nodeUUID) else {
            return .failure(.wrongBinding(file.boundTo, clusterUUID: clusterUUID, nodeUUID: nodeUUID))
        }
        if licenses[file.licenseId] != nil { return .failure(.alreadyImported(file.licenseId)) }
        for item in file.items {
            if items[item.itemId] != nil { return .failure(.malformedLicense("the item ID \(item.itemId) exists already")) }
            if item.expiresAt <= now { return .failure(.itemAlreadyExpired(item.itemId)) }
        }
        return .success(.importLicense(file: bytes, handshakeCode: nextHandshakeCode(for: file.organizationId), at: now))
    }

    /// The record that gives the cluster its UUID, or nil when it has one.
    public func decideClusterIdentity(uuid: String, now: Int64) -> LogRecord? {
        precondition(ClusterIdentity.isWellFormed(uuid), "a cluster UUID is a lowercase UUID")
        return clusterUUID == nil ? .clusterIdentity(uuid: uuid, at: now) : nil
    }

    /// `{organizationId}-{n}` with the smallest n ≥ 1 not taken.
    func nextHandshakeCode(for organizationId: String) -> String {
        var n = 1
        while handshakes["\(organizationId)-\(n)"] != nil { n += 1 }
        return "\(organizationId)-\(n)"
    }

    /// Checks a handshake code the admin creates (`replacing == nil`) or edits.
    public func decidePutHandshake(_ handshake: Handshake, creating: Bool, now: Int64) -> Result<LogRecord, LicenseError> {
        let existing = handshakes[handshake.code]
        if creating, let existing, !existing.deleted { return .failure(.handshakeExists(handshake.code)) }
        if !creating, existing == nil || existing!.deleted { return .failure(.unknownHandshake(handshake.code)) }
        guard licenses.values.contains(where: { $0.organizationId == handshake.organizationId }) else {
            return .failure(.badHandshake("No imported license belongs to the organization \"\(handshake.organizationId)\"."))
        }
        guard Handshake.isValidCode(handshake.code, organizationId: handshake.organizationId) else {
            return .failure(.badHandshake("A handshake code is \(handshake.organizationId)-NAME, NAME made of letters, digits, '.', '_' and '-'."))
        }
        guard !handshake.items.isEmpty, Set(handshake.items).count == handshake.items.count else {
            return .failure(.badHandshake("A handshake code needs one or more distinct license items."))
        }
        for itemId in handshake.items {
            guard let usage = items[itemId], licenses[usage.licenseId]?.organizationId == handshake.organizationId else {
                return .failure(.badHandshake("The license item \(itemId) does not exist or belongs to another organization."))
            }
        }
        let patterns = handshake.validation.domains + handshake.validation.appIds + handshake.validation.processes
        guard patterns.count <= 256, patterns.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 256 }) else {
            return .failure(.badHandshake("Validation patterns must be 1 to 256 bytes, 256 patterns at most."))
        }
        return .success(.putHandshake(handshake, at: now))
    }

    /// Checks the deletion of a handshake code.
    public func decideDeleteHandshake(code: String, now: Int64) -> Result<LogRecord, LicenseError> {
        guard let existing = handshakes[code], !existing.deleted else { return .failure(.unknownHandshake(code)) }
        return .success(.deleteHandshake(code: code, at: now))
    }
}
