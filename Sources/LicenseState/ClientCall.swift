/// What a client asked for in an authorize or report call, already parsed.
///
/// Invariant: `scans > 0`; `attempt` is nil or in `attemptRange`; strings
/// are as the client sent them.
public struct ClientCall: Equatable {
    /// Most scans one call may consume.
    public static let scansMax: Int64 = 1_000_000
    /// The attempt numbers a client may send.
    public static let attemptRange = 1...1_000_000

    public var handshakeCode: String
    public var clientUUID: String
    /// The product asked for (authorize); nil on reports, which draw on scan items.
    public var product: String?
    public var requestId: String?
    /// Which sending of this request this is, counted by the client from 1:
    /// a client sends attempt n + 1 only after giving up on attempt n, so of
    /// the answers two nodes gave to one request, only the one to the
    /// highest attempt can have reached the client (`RememberedAnswer`).
    public var attempt: Int?
    public var scans: Int64
    public var domain: String?
    public var appId: String?
    public var process: String?

    public init(handshakeCode: String, clientUUID: String, product: String?, requestId: String? = nil, scans: Int64 = 1,
                domain: String? = nil, appId: String? = nil, process: String? = nil, attempt: Int? = nil) {
        self.handshakeCode = handshakeCode
        self.clientUUID = clientUUID
        self.product = product
        self.requestId = requestId
        self.scans = scans
        self.domain = domain
        self.appId = appId
        self.process = process
        self.attempt = attempt
    }

    /// The request this call repeats or starts, when it names one.
    public var requestKey: LicenseState.RequestKey? {
        requestId.map { LicenseState.RequestKey(clientUUID: clientUUID, requestId: $0) }
    }
}

/// The answer to a client call, before it is logged.
public enum CallOutcome: Equatable {
    /// A new grant: log it, then answer with it.
    case grant(Grant)
    /// The request ID was granted: answer with that grant, log nothing.
    case repeated(Grant)
    /// The request ID was granted to an earlier attempt than this one: log
    /// the grant answered again (`LogRecord.grantAnsweredAgain`), then
    /// answer with it.
    case repeatedToLaterAttempt(Grant)
    case refused(LicenseError)
    /// A refusal of a retried request: log it (`LogRecord.refusal`), then answer it.
    case refusedRetry(RequestRefusal)
}
