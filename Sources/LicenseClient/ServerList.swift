/// The servers a client may talk to, in the order it should try them: the
/// last server that answered as primary first, then the configured order.
///
/// Invariant: `ordered` is a permutation of the configured URLs, which are
/// non-empty, distinct and at most two (main and standby).
public struct ServerList: Equatable {
    /// Most servers a list holds (a main + standby pair).
    public static let serversMax = 2

    public let configured: [String]
    public private(set) var preferred: String?

    /// - Returns: nil when the list is empty, too long or repeats a URL.
    public init?(_ urls: [String]) {
        guard !urls.isEmpty, urls.count <= Self.serversMax, Set(urls).count == urls.count else { return nil }
        configured = urls
    }

    /// The order to try: the remembered primary, then the others as configured.
    public var ordered: [String] {
        guard let preferred else { return configured }
        return [preferred] + configured.filter { $0 != preferred }
    }

    /// Remembers `url` as the primary when it is one of the configured servers.
    public mutating func remember(primary url: String) {
        if configured.contains(url) { preferred = url }
    }
}
