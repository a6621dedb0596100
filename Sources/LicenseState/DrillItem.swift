/// The drill item: what the load of `lts drill` is granted under the
/// reserved drill handshake code, so that a drill exercises the real grant
/// path (decided, logged, replicated, acknowledged, remembered by request
/// ID, listed among the grants) without touching a customer's license.
///
/// Invariant: the code, item ID and product contain a `:`, which no
/// license file identifier and so no imported item or handshake code can
/// contain. A drill grant names `itemId`, which is no item of `items`, so
/// `apply` charges no quota with it, and adds it to no usage statistics
/// and no alert counts (only `grantsTotal`, the count of grants in the
/// log). The core grants under the code to anyone who asks; the node's
/// client API lets only a call with a valid drill pass reach it.
public enum DrillItem {
    public static let handshakeCode = "lts:drill"
    public static let itemId = "lts:drill"
    public static let product = "lts:drill"

    /// The grant for a drill call: any number of scans, no lease, no grace.
    static func grant(for call: ClientCall, kind: Grant.Kind, grantId: String, now: Int64) -> CallOutcome {
        guard call.product == nil || call.product == product else { return .refused(.noItem(call.product ?? "scans")) }
        return .grant(Grant(grantId: grantId, kind: kind, requestId: call.requestId, handshakeCode: handshakeCode, clientUUID: call.clientUUID,
                            itemId: itemId, amount: call.scans, domain: nil, leaseExpiresAt: nil, grace: false,
                            at: now, attempt: call.attempt))
    }
}
