import WireFormat

/// Where a grant stands in a log, as reconciliation asks it: not there,
/// held, or held and taken back by a void.
public enum GrantStanding: Equatable {
    case absent
    case held
    case voided

    /// The key under which a primary remembers a record it logged again in
    /// reconciliation until the record is durable (`ReappliedRecords`, in
    /// the replication module): a grant's ID, or that of the grant a void
    /// took back, marked. Nil for every other record.
    public static func reappliedKey(of record: LogRecord) -> String? {
        switch record {
        case .grant(let grant): return grant.grantId
        case .voidGrant(let grant, _): return voidKey(grant.grantId)
        default: return nil
        }
    }

    /// The key of a void of the grant `grantId`.
    public static func voidKey(_ grantId: String) -> String {
        "void " + grantId
    }

    /// Where `grantId` stands: by the last of its records logged again and
    /// not yet durable (`reappliedAt`: where the last record with a key
    /// stands, as `ReappliedRecords` tells), or, without one, by the
    /// store's answer (`stored`), whose records all come before.
    public static func of(_ grantId: String, reappliedAt: (String) -> LogPosition?, stored: () -> GrantStanding) -> GrantStanding {
        let granted = reappliedAt(grantId)
        if let voided = reappliedAt(voidKey(grantId)), granted.map({ $0 < voided }) ?? true { return .voided }
        return granted != nil ? .held : stored()
    }
}
