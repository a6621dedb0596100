/// One state change, as written to the log and replayed by `apply`.
///
/// Invariant: a record carries every input of its change, time included;
/// applying the same records in the same order gives the same state.
public enum LogRecord: Equatable {
    /// A verified license file (its original bytes) and the handshake code made for it.
    case importLicense(file: [UInt8], handshakeCode: String, at: Int64)
    /// Creates or replaces a handshake code.
    case putHandshake(Handshake, at: Int64)
    /// Stops new grants under a code; its history stays.
    case deleteHandshake(code: String, at: Int64)
    case grant(Grant)
    /// Extends a lease to `expiresAt`.
    case renewLease(grantId: String, expiresAt: Int64, at: Int64)
    case releaseLease(grantId: String, at: Int64)
    /// Frees leases that expired by `at` and forgets request IDs older than the retention.
    case expire(at: Int64)
    case setAdminPassword(PasswordHash, at: Int64)
    /// Refusals the primary counted since its last tally (they log nothing themselves).
    case tallyCalls(CallTally, at: Int64)
    /// An alert check's (or a test email's) changes to the alert book.
    case alerts(AlertUpdate, at: Int64)
    /// One delivery attempt of an alert email: sent when `error` is nil.
    case alertDelivery(emailId: Int64, error: String?, at: Int64)
    case setAlertSettings(AlertSettings, at: Int64)
    /// A refused retry of a request (`RequestRefusal`).
    case refusal(RequestRefusal)
    /// Takes back a grant no client can hold: reconciliation found the same
    /// request answered to a later attempt on the other node. Its units are
    /// given back and its lease closed; the record that follows logs the
    /// answer that replaces it.
    case voidGrant(Grant, at: Int64)
    /// A remembered grant answered again, to a later attempt of its request
    /// (`grant.attempt`); nothing is charged.
    case grantAnsweredAgain(Grant, at: Int64)
    /// The cluster's UUID, logged once by the first node to write the log:
    /// the "server UUID" a license file may be bound to, the same on both
    /// nodes. Applied only while the state has none.
    case clusterIdentity(uuid: String, at: Int64)
    /// An admin action for the audit log (`AuditLog`).
    case audit(AuditEntry)
    /// A drill's report, kept in `LicenseState.drills` on both nodes.
    case drillReport(DrillRecord)

    /// A short name for logs and the `wal.kind` column.
    public var kind: String {
        switch self {
        case .importLicense: return "import"
        case .putHandshake: return "handshake"
        case .deleteHandshake: return "handshake-delete"
        case .grant: return "grant"
        case .renewLease: return "renew"
        case .releaseLease: return "release"
        case .expire: return "expire"
        case .setAdminPassword: return "password"
        case .tallyCalls: return "tally"
        case .alerts: return "alerts"
        case .alertDelivery: return "alert-delivery"
        case .setAlertSettings: return "alert-settings"
        case .refusal: return "refusal"
        case .voidGrant: return "void"
        case .grantAnsweredAgain: return "answered-again"
        case .clusterIdentity: return "cluster-identity"
        case .audit: return "audit"
        case .drillReport: return "drill-report"
        }
    }

    /// The time the change happened (UTC seconds).
    public var at: Int64 {
        switch self {
        case .importLicense(_, _, let at), .putHandshake(_, let at), .deleteHandshake(_, let at), .renewLease(_, _, let at),
             .releaseLease(_, let at), .expire(let at), .setAdminPassword(_, let at), .tallyCalls(_, let at), .alerts(_, let at),
             .alertDelivery(_, _, let at), .setAlertSettings(_, let at), .voidGrant(_, let at), .grantAnsweredAgain(_, let at),
             .clusterIdentity(_, let at):
            return at
        case .grant(let grant):
            return grant.at
        case .refusal(let refusal):
            return refusal.at
        case .audit(let entry):
            return entry.at
        case .drillReport(let drill):
            return drill.at
        }
    }
}
