/// What one server's HTTP answer means for a client that may fail over.
///
/// Invariant: only a final answer (`answered` or `refused`) ends a call; the
/// other cases send the call on, with the same request ID, to another server.
public enum ServerAnswer: Equatable {
    /// The call succeeded (HTTP 200).
    case answered
    /// A real refusal (quota, expiry, bad code, …): trying elsewhere would
    /// give the same answer.
    case refused(code: Int, message: String)
    /// This server is the standby (HTTP 421, -20100); `primary` names the
    /// primary when it said so.
    case redirect(primary: String?)
    /// This server cannot answer now (starting, a switchover, overloaded,
    /// an error of its own): try another.
    case unavailable(reason: String)

    /// Classifies an HTTP answer by its status and JSON body.
    public static func classify(status: Int, json: [String: Any]?) -> ServerAnswer {
        let code = json?["code"] as? Int
        let message = json?["message"] as? String ?? "HTTP \(status)"
        switch status {
        case 200: return .answered
        case 421: return .redirect(primary: json?["primary"] as? String)
        case 500...599, 408, 429: return .unavailable(reason: "\(message) (HTTP \(status))")
        default:
            guard let code else { return .unavailable(reason: "HTTP \(status) without a DLS code") }
            return .refused(code: code, message: message)
        }
    }
}
