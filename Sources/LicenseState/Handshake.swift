/// A handshake code (project): the name clients present, the items it draws
/// on in order, and the rules a client must meet.
///
/// Invariant: `code` is `{organizationId}-{suffix}` of identifier bytes; a
/// deleted handshake keeps its history but grants nothing.
public struct Handshake: Equatable, Hashable {
    public var code: String
    public var organizationId: String
    /// Item IDs this code draws on.
    public var items: [String]
    /// True when the admin fixed the order of `items`; otherwise the order is
    /// closest expiry first, then most specific.
    public var explicitOrder: Bool
    public var validation: ValidationRules
    public var sessionPassword: PasswordHash?
    public var deleted: Bool

    public init(code: String, organizationId: String, items: [String], explicitOrder: Bool = false,
                validation: ValidationRules = ValidationRules(), sessionPassword: PasswordHash? = nil, deleted: Bool = false) {
        self.code = code
        self.organizationId = organizationId
        self.items = items
        self.explicitOrder = explicitOrder
        self.validation = validation
        self.sessionPassword = sessionPassword
        self.deleted = deleted
    }

    /// Most characters in a handshake code.
    public static let codeLengthMax = 128

    /// True when `code` is `{organizationId}-{suffix}` with a valid suffix.
    public static func isValidCode(_ code: String, organizationId: String) -> Bool {
        guard code.utf8.count <= codeLengthMax, code.hasPrefix(organizationId + "-") else { return false }
        let suffix = code.utf8.dropFirst(organizationId.utf8.count + 1)
        return !suffix.isEmpty && suffix.allSatisfy(LicenseFile.isIdentifierByte)
    }
}

/// Which clients a handshake code accepts: allowed web domains, app IDs and
/// process names, each with `*` wildcards. An empty list allows everyone.
///
/// Invariant: patterns are non-empty and at most 256 bytes.
public struct ValidationRules: Equatable, Hashable {
    public var domains: [String]
    public var appIds: [String]
    public var processes: [String]

    public init(domains: [String] = [], appIds: [String] = [], processes: [String] = []) {
        self.domains = domains
        self.appIds = appIds
        self.processes = processes
    }

    /// The name of the first field the client fails, or nil when it passes.
    public func firstMismatch(domain: String?, appId: String?, process: String?) -> String? {
        if !Self.allows(domains, domain, caseInsensitive: true) { return "domain" }
        if !Self.allows(appIds, appId, caseInsensitive: false) { return "app ID" }
        if !Self.allows(processes, process, caseInsensitive: false) { return "process name" }
        return nil
    }

    /// Whether a page of web domain `domain` may call under this code.
    public func allowsDomain(_ domain: String) -> Bool {
        Self.allows(domains, domain, caseInsensitive: true)
    }

    static func allows(_ patterns: [String], _ value: String?, caseInsensitive: Bool) -> Bool {
        guard !patterns.isEmpty else { return true }
        guard let value, !value.isEmpty else { return false }
        let subject = caseInsensitive ? value.lowercased() : value
        return patterns.contains { wildcardMatch(caseInsensitive ? $0.lowercased() : $0, subject) }
    }

    /// Glob matching where `*` matches any run of characters (also none).
    static func wildcardMatch(_ pattern: String, _ value: String) -> Bool {
        let p = Array(pattern.utf8)
        let v = Array(value.utf8)
        var pi = 0, vi = 0, star = -1, mark = 0
        while vi < v.count {
            if pi < p.count, p[pi] == v[vi], p[pi] != UInt8(ascii: "*") {
                pi += 1; vi += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi; mark = vi; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; vi = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
