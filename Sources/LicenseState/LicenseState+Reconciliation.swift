/// The reconciliation policy: which records of another node's log a primary
/// logs again after a failover (the records its own log lacks), and how an
/// overrun they cause is measured.
///
/// Invariant: a record this log already holds (a grant by grant ID or by
/// its client's request ID, a license by its ID, a lease already renewed as
/// far or released) is never logged twice, so reconciling the same records
/// again changes nothing.
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

    /// Whether `record`, from another node's log, is logged again here.
    ///
    /// Expiry, password and alert records are not: expiry follows this
    /// node's clock, a password or alert settings set here win, refusal
    /// tallies are a rate estimate, and alert bookkeeping is redone by this
    /// node's own checks (a reconciled alert email could only be sent a
    /// second time).
    /// - Parameter grantIsKnown: whether this log holds a grant with that ID
    ///   (the state keeps only live leases and remembered requests).
    func reapplies(_ record: LogRecord, grantIsKnown: (String) -> Bool) -> Bool {
        switch record {
        case .grant(let grant):
            if grantIsKnown(grant.grantId) { return false }
            if let requestId = grant.requestId, requests[RequestKey(clientUUID: grant.clientUUID, requestId: requestId)] != nil {
                return false
            }
            return true
        case .renewLease(let grantId, let expiresAt, _):
            return (leases[grantId]?.expiresAt ?? .max) < expiresAt
        case .releaseLease(let grantId, _):
            return leases[grantId] != nil
        case .importLicense(let bytes, _, _):
            guard let file = try? LicenseFile.parse(bytes) else { return false }
            return licenses[file.licenseId] == nil
        case .putHandshake, .deleteHandshake:
            return true
        case .expire, .setAdminPassword, .tallyCalls, .alerts, .alertDelivery, .setAlertSettings:
            return false
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
