/// The reconciliation policy: which records of another node's log a primary
/// logs again after a failover (the records its own log lacks), and how an
/// overrun they cause is measured.
///
/// Invariants: a record this log already holds (a grant by grant ID, a
/// license by its ID, a lease already renewed as far or released) is never
/// logged twice, so reconciling the same records again changes nothing (a
/// grant a void took back is logged again only to be live again, below); and
/// when both nodes answered one request differently (a split, or a node
/// that decided a late copy of an abandoned attempt), the answer to the
/// later attempt is kept on both, the only one the client can hold
/// (`RememberedAnswer`): a grant it replaces is voided, a grant to a later
/// attempt than a refusal is charged, a refusal to a later attempt than a
/// grant takes the grant back, and a grant this log voided that answers a
/// later attempt than the answer here (the other node answered the client's
/// last attempt with it) is logged again, live. When the attempts are not
/// known (clients that send none), the answer this log holds stays.
public extension LicenseState {
    /// An item used past its quantity plus grace after a reconciled grant.
    struct Overrun: Equatable {
        public var itemId: String
        public var used: Int64
        public var allowed: Int64

        public init(itemId: String, used: Int64, allowed: Int64) {
            self.itemId = itemId
            self.used = used
            self.allowed = allowed
        }
    }

    /// The records this log logs, in order, for `record` from another
    /// node's log: none, the record itself, or (where an answer of the other
    /// node's replaces one of this log's) a void of this log's grant and
    /// the other's answer.
    ///
    /// Expiry, password and alert records are not logged again: expiry
    /// follows this node's clock, a password or alert settings set here win,
    /// refusal tallies are a rate estimate, and alert bookkeeping is redone
    /// by this node's own checks (a reconciled alert email could only be
    /// sent a second time). Nor are voids: the answers they make way for
    /// follow them in the other log, and are weighed here again. Audit
    /// entries are: they say what an admin did on the other node.
    /// - Parameters:
    ///   - remembered: the answer this log remembers for the record's
    ///     request (`LogRecord.answeredRequest`), if there is one.
    ///   - grantStanding: whether this log holds a grant with that ID,
    ///     and whether a void of it (the state keeps only live leases).
    func reconciliation(of record: LogRecord, remembered: RememberedAnswer?, grantStanding: (String) -> GrantStanding) -> [LogRecord] {
        precondition(remembered == nil || remembered?.key == record.answeredRequest, "an answer remembered for another request")
        switch record {
        case .grant(let grant), .grantAnsweredAgain(let grant, _):
            return reconciliation(of: .granted(grant), mine: remembered, isKnown: grantStanding(grant.grantId) != .absent,
                                  grantStanding: grantStanding)
        case .refusal(let refusal):
            return reconciliation(of: .refused(refusal), mine: remembered, isKnown: false, grantStanding: grantStanding)
        case .renewLease(let grantId, let expiresAt, _):
            return (leases[grantId]?.expiresAt ?? .max) < expiresAt ? [record] : []
        case .releaseLease(let grantId, _):
            return leases[grantId] != nil ? [record] : []
        case .importLicense(let bytes, _, _):
            guard let file = try? LicenseFile.parse(bytes) else { return [] }
            return licenses[file.licenseId] == nil ? [record] : []
        case .putHandshake, .deleteHandshake:
            return [record]
        case .audit:
            // What an admin did on the other node happened: the audit log keeps it.
            return [record]
        case .clusterIdentity:
            // The identity this log gave the cluster stays.
            return clusterUUID == nil ? [record] : []
        case .drillReport(let drill):
            // A drill's report stays a fact, kept once by its ID.
            return drills[drill.id] == nil ? [record] : []
        case .expire, .setAdminPassword, .tallyCalls, .alerts, .alertDelivery, .setAlertSettings, .voidGrant:
            return []
        }
    }

    /// The records for the other node's `answer` (a grant that answered no
    /// request ID included).
    /// - Parameters:
    ///   - mine: the answer this log remembers for the same request.
    ///   - isKnown: whether the answer is a grant this log holds.
    ///   - grantStanding: where a grant stands in this log: a grant of
    ///     mine that a void already took back is not voided again (a
    ///     truncation cut the answer that followed that void).
    private func reconciliation(of answer: RememberedAnswer, mine: RememberedAnswer?, isKnown: Bool,
                                grantStanding: (String) -> GrantStanding) -> [LogRecord] {
        if case .granted(let grant) = answer, grant.requestKey == nil { return isKnown ? [] : [answer.record] }
        guard let mine else { return isKnown ? [] : [answer.record] }
        guard mine.isSuperseded(byAttempt: answer.attempt) else { return [] }
        switch (answer, mine) {
        case (.granted(let grant), .granted(let held)) where held.grantId == grant.grantId:
            // Voided here, yet still the answer here (a truncation cut what followed the void): live again.
            return grantStanding(grant.grantId) == .voided ? [.grant(grant)] : [.grantAnsweredAgain(grant, at: grant.at)]
        case (.granted(let grant), _) where isKnown && grantStanding(grant.grantId) != .voided:
            // Held here and live, yet not the answer here: nothing to settle.
            return []
        case (.granted(let grant), .granted(let held)):
            // The other node's grant replaces mine: logged anew, or live again
            // if this log voided it; mine is voided unless a void took it back already.
            return grantStanding(held.grantId) == .voided ? [.grant(grant)] : [.voidGrant(held, at: grant.at), .grant(grant)]
        case (.granted(let grant), .refused):
            return [.grant(grant)]
        case (.refused(let refusal), .granted(let held)):
            return grantStanding(held.grantId) == .voided ? [.refusal(refusal)] : [.voidGrant(held, at: refusal.at), .refusal(refusal)]
        case (.refused(let refusal), .refused):
            return [.refusal(refusal)]
        }
    }

    /// The overrun of `grant`'s item once the grant is applied here, or nil
    /// when the item stays within its quantity plus grace.
    func overrun(after grant: Grant) -> Overrun? {
        guard let usage = items[grant.itemId] else { return nil }
        let used = used(grant.itemId, now: grant.at)
        guard used > usage.item.limitWithGrace else { return nil }
        return Overrun(itemId: grant.itemId, used: used, allowed: usage.item.limitWithGrace)
    }
}
