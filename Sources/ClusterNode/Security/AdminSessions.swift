import Platform
import Transport

/// Logged-in admin sessions: random tokens, kept only as their SHA-256,
/// each with its own random CSRF token, that expire after `idleTimeoutMs`
/// without use.
///
/// Invariant: a token is valid only while its last use is less than
/// `idleTimeoutMs` ago; at most `sessionsMax` sessions exist; a session's
/// CSRF token never changes and differs from its session token.
struct AdminSessions {
    static let idleTimeoutMs: UInt64 = 30 * 60 * 1000
    static let sessionsMax = 1000
    /// The cookie's name: `lts_session_` and a part of the node's UUID, so
    /// that two nodes on one host (a browser keeps cookies per host, not
    /// per port) keep their sessions apart.
    let cookieName: String

    init(nodeUUID: String) {
        cookieName = "lts_session_" + nodeUUID.lowercased().filter(\.isHexDigit).prefix(12)
    }

    /// How a request presented its session token. A cookie is sent by the
    /// browser on its own (an ambient credential, so a state change needs the
    /// CSRF token too); a Bearer header only by code that holds the token.
    enum Source {
        case bearer
        case cookie
    }

    /// A request's session token and where it came from.
    struct Credential {
        let token: String
        let source: Source
    }

    private struct Session {
        var lastUseMs: UInt64
        let csrf: String
    }

    /// Sessions by the SHA-256 of their token.
    private var sessions: [[UInt8]: Session] = [:]

    /// Opens a session.
    /// - Returns: its token and its CSRF token.
    mutating func open(nowMs: UInt64) -> (token: String, csrf: String) {
        expire(nowMs: nowMs)
        if sessions.count >= Self.sessionsMax, let oldest = sessions.min(by: { $0.value.lastUseMs < $1.value.lastUseMs })?.key {
            sessions[oldest] = nil
        }
        let token = GrantToken.base64url(Crypto.randomBytes(32))
        let csrf = GrantToken.base64url(Crypto.randomBytes(32))
        sessions[Crypto.sha256(Array(token.utf8))] = Session(lastUseMs: nowMs, csrf: csrf)
        return (token, csrf)
    }

    /// The CSRF token of the live session `token` names (and the session
    /// refreshed), or nil when it names none.
    mutating func validate(_ token: String, nowMs: UInt64) -> String? {
        let key = Crypto.sha256(Array(token.utf8))
        guard let session = sessions[key], session.lastUseMs + Self.idleTimeoutMs > nowMs else {
            sessions[key] = nil
            return nil
        }
        sessions[key]?.lastUseMs = nowMs
        return session.csrf
    }

    /// How the audit log names the session of `token`: `admin session` and
    /// the first 8 hex digits of its SHA-256 (the session's token stays secret).
    static func actor(token: String) -> String {
        let digits = Array("0123456789abcdef")
        return "admin session " + String(Crypto.sha256(Array(token.utf8)).prefix(4).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    /// Ends the session of `token`.
    mutating func close(_ token: String) {
        sessions[Crypto.sha256(Array(token.utf8))] = nil
    }

    /// Ends every session except `keeping`.
    mutating func closeAll(keeping token: String?) {
        let kept = token.map { Crypto.sha256(Array($0.utf8)) }
        sessions = sessions.filter { $0.key == kept }
    }

    /// Number of sessions, live or not yet found expired.
    var count: Int { sessions.count }

    private mutating func expire(nowMs: UInt64) {
        sessions = sessions.filter { $0.value.lastUseMs + Self.idleTimeoutMs > nowMs }
    }

    /// The session token of a request: `Authorization: Bearer …` or the cookie.
    func token(of request: HTTPRequest) -> String? {
        credential(of: request)?.token
    }

    /// The session token of a request and its source. A Bearer header wins
    /// over a cookie: a caller that sends one chose it.
    func credential(of request: HTTPRequest) -> Credential? {
        if let header = request.header("authorization"), header.lowercased().hasPrefix("bearer ") {
            return Credential(token: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces), source: .bearer)
        }
        guard let cookies = request.header("cookie") else { return nil }
        for part in cookies.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix(cookieName + "=") { return Credential(token: String(pair.dropFirst(cookieName.count + 1)), source: .cookie) }
        }
        return nil
    }
}
