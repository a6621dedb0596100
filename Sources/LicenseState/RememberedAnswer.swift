/// The answer a node gave to a request ID (`ClientCall.requestId`): what a
/// repeat of the request gets, and what reconciliation weighs against the
/// other node's answer to the same request.
///
/// Invariant: `attempt` is the highest attempt this answer was given to
/// (nil when the client sent none); a client keeps only the answer to its
/// last attempt, so of two different answers to one request, only the one
/// given to the higher attempt can have reached it.
public enum RememberedAnswer: Equatable {
    case granted(Grant)
    case refused(RequestRefusal)

    public var attempt: Int? {
        switch self {
        case .granted(let grant): return grant.attempt
        case .refused(let refusal): return refusal.attempt
        }
    }

    /// When the request was first answered (UTC seconds): what `expire` prunes by.
    public var at: Int64 {
        switch self {
        case .granted(let grant): return grant.at
        case .refused(let refusal): return refusal.at
        }
    }

    /// The request answered.
    public var key: LicenseState.RequestKey {
        switch self {
        case .granted(let grant):
            guard let key = grant.requestKey else { preconditionFailure("a remembered grant \(grant.grantId) without a request ID") }
            return key
        case .refused(let refusal): return refusal.key
        }
    }

    /// The record that gives this answer.
    public var record: LogRecord {
        switch self {
        case .granted(let grant): return .grant(grant)
        case .refused(let refusal): return .refusal(refusal)
        }
    }

    /// Whether an answer given to `attempt` replaces this one: only a
    /// later attempt does, and only when both attempts are known.
    public func isSuperseded(byAttempt attempt: Int?) -> Bool {
        guard let mine = self.attempt, let other = attempt else { return false }
        return other > mine
    }

    /// The answer a repeat of `record`'s request gets once `record` is
    /// applied, when `current` is the one it got before; nil when `record`
    /// leaves the answer as it is. A grant or refusal of a request becomes
    /// its answer; a grant answered again replaces the same grant when its
    /// attempt is later; nothing else changes an answer. This is the one
    /// rule every keeper of remembered answers applies (`RequestBook`, and
    /// the node's store).
    public static func after(_ record: LogRecord, replacing current: RememberedAnswer?) -> RememberedAnswer? {
        switch record {
        case .grant(let grant) where grant.requestKey != nil:
            return .granted(grant)
        case .refusal(let refusal):
            return .refused(refusal)
        case .grantAnsweredAgain(let grant, _):
            guard grant.requestKey != nil, case .granted(let held)? = current, held.grantId == grant.grantId,
                  current!.isSuperseded(byAttempt: grant.attempt) else { return nil }
            return .granted(grant)
        default:
            return nil
        }
    }
}

extension LogRecord {
    /// The request whose remembered answer this record may change
    /// (`RememberedAnswer.after`): a grant's, a refusal's or a grant
    /// answered again; nil for every other record.
    public var answeredRequest: LicenseState.RequestKey? {
        switch self {
        case .grant(let grant), .grantAnsweredAgain(let grant, _): return grant.requestKey
        case .refusal(let refusal): return refusal.key
        default: return nil
        }
    }
}

/// A refusal of a retried request (attempt 2 or later), logged so that no
/// node grants an earlier, abandoned sending of the same request after the
/// client was told "refused".
///
/// Invariant: `attempt >= 2`; `error` is what the client was answered.
public struct RequestRefusal: Equatable {
    public var clientUUID: String
    public var requestId: String
    public var attempt: Int
    public var error: LicenseError
    public var at: Int64

    public init(clientUUID: String, requestId: String, attempt: Int, error: LicenseError, at: Int64) {
        self.clientUUID = clientUUID
        self.requestId = requestId
        self.attempt = attempt
        self.error = error
        self.at = at
    }

    public var key: LicenseState.RequestKey { LicenseState.RequestKey(clientUUID: clientUUID, requestId: requestId) }
}
