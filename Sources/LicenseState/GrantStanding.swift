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

    /// Where `grantId` stands, from the keys of records logged again and
    /// not yet durable (`isReapplied`) and, past them, the store's answer
    /// (`stored`).
    public static func of(_ grantId: String, isReapplied: (String) -> Bool, stored: () -> GrantStanding) -> GrantStanding {
        if isReapplied(voidKey(grantId)) { return .voided }
        let standing = stored()
        if standing == .absent, isReapplied(grantId) { return .held }
        return standing
    }
}
