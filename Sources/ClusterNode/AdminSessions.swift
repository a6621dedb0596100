import Transport

/// Logged-in admin sessions: random tokens, kept only as their SHA-256,
/// that expire after `idleTimeoutMs` without use.
///
/// Invariant: a token is valid only while its last use is less than
/// `idleTimeoutMs` ago; at most `sessionsMax` sessions exist.
struct AdminSessions {
    static let idleTimeoutMs: UInt64 = 30 * 60 * 1000
    static let sessionsMax = 1000
    static let cookieName = "lts_session"

    private var lastUse: [[UInt8]: UInt64] = [:]

    /// A new session token.
    mutating func open(nowMs: UInt64) -> String {
        expire(nowMs: nowMs)
        if lastUse.count >= Self.sessionsMax, let oldest = lastUse.min(by: { $0.value < $1.value })?.key {
            lastUse[oldest] = nil
        }
        let token = GrantToken.base64url(Crypto.randomBytes(32))
        lastUse[Crypto.sha256(Array(token.utf8))] = nowMs
        return token
    }

    /// True (and the session refreshed) when `token` names a live session.
    mutating func validate(_ token: String, nowMs: UInt64) -> Bool {
        let key = Crypto.sha256(Array(token.utf8))
        guard let last = lastUse[key], last + Self.idleTimeoutMs > nowMs else {
            lastUse[key] = nil
            return false
        }
        lastUse[key] = nowMs
        return true
    }

    /// Ends the session of `token`.
    mutating func close(_ token: String) {
        lastUse[Crypto.sha256(Array(token.utf8))] = nil
    }

    /// Ends every session except `keeping`.
    mutating func closeAll(keeping token: String?) {
        let kept = token.map { Crypto.sha256(Array($0.utf8)) }
        lastUse = lastUse.filter { $0.key == kept }
    }

    private mutating func expire(nowMs: UInt64) {
        lastUse = lastUse.filter { $0.value + Self.idleTimeoutMs > nowMs }
    }

    /// The session token of a request: `Authorization: Bearer …` or the cookie.
    static func token(of request: HTTPRequest) -> String? {
        if let header = request.header("authorization"), header.lowercased().hasPrefix("bearer ") {
            return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        guard let cookies = request.header("cookie") else { return nil }
        for part in cookies.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix(cookieName + "=") { return String(pair.dropFirst(cookieName.count + 1)) }
        }
        return nil
    }
}
