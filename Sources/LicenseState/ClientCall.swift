/// What a client asked for in an authorize or report call, already parsed.
///
/// Invariant: `scans > 0`; strings are as the client sent them.
public struct ClientCall: Equatable {
    /// Most scans one call may consume.
    public static let scansMax: Int64 = 1_000_000

    public var handshakeCode: String
    public var clientUUID: String
    /// The product asked for (authorize); nil on reports, which draw on scan items.
    public var product: String?
    public var requestId: String?
    public var scans: Int64
    public var domain: String?
    public var appId: String?
    public var process: String?

    public init(handshakeCode: String, clientUUID: String, product: String?, requestId: String? = nil, scans: Int64 = 1,
                domain: String? = nil, appId: String? = nil, process: String? = nil) {
        self.handshakeCode = handshakeCode
        self.clientUUID = clientUUID
        self.product = product
        self.requestId = requestId
        self.scans = scans
        self.domain = domain
        self.appId = appId
        self.process = process
    }
}

/// The answer to a client call, before it is logged.
public enum CallOutcome: Equatable {
    /// A new grant: log it, then answer with it.
    case grant(Grant)
    /// The request ID was seen: answer with the first grant, log nothing.
    case repeated(Grant)
    case refused(LicenseError)
}
