/// One authorization or consumption decision: a fact once acknowledged.
///
/// Invariant: `grantId` is unique; `amount > 0`; `leaseExpiresAt` is set
/// exactly for grants on concurrent items.
public struct Grant: Equatable, Hashable {
    public enum Kind: UInt8, Equatable, Hashable {
        case authorize = 1
        case report = 2
    }

    public var grantId: String
    public var kind: Kind
    public var requestId: String?
    public var handshakeCode: String
    public var clientUUID: String
    public var itemId: String
    /// Units consumed: scans for `scan` items, 1 otherwise.
    public var amount: Int64
    /// The domain counted, for `domain` items.
    public var domain: String?
    public var leaseExpiresAt: Int64?
    public var grace: Bool
    /// When the grant was made (UTC seconds).
    public var at: Int64
    /// Which sending of its request the grant answered (`ClientCall.attempt`);
    /// nil when the client did not say.
    public var attempt: Int?

    public init(grantId: String, kind: Kind, requestId: String?, handshakeCode: String, clientUUID: String, itemId: String,
                amount: Int64, domain: String?, leaseExpiresAt: Int64?, grace: Bool, at: Int64, attempt: Int? = nil) {
        self.grantId = grantId
        self.kind = kind
        self.requestId = requestId
        self.handshakeCode = handshakeCode
        self.clientUUID = clientUUID
        self.itemId = itemId
        self.amount = amount
        self.domain = domain
        self.leaseExpiresAt = leaseExpiresAt
        self.grace = grace
        self.at = at
        self.attempt = attempt
    }
}

extension Grant {
    /// The request this grant answered, when the client named one.
    public var requestKey: LicenseState.RequestKey? {
        requestId.map { LicenseState.RequestKey(clientUUID: clientUUID, requestId: $0) }
    }
}
