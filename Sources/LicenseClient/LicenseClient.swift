import Foundation
import Platform

/// A client of a license server or of a main + standby pair: every call
/// tries the remembered primary first, then the other server, follows a
/// standby's redirect (421, -20100) to the primary it names, and, when no
/// server answers, waits (`RetrySchedule`) and goes round again until
/// `callDeadlineMs` has passed. A call keeps one request ID over all its
/// attempts, so a retry after a failover never counts twice, and numbers
/// them (`attempt`: 1, 2, …, counted on across calls that retry the same
/// request ID), so that when two servers answered one request during a
/// split, both keep the answer this client took: the last.
///
/// Invariant: a call ends with a server's final answer (success or
/// refusal) or `Unavailable` after the deadline; certificates are verified
/// as each server's `TLSTrust` says, never less. Thread-safe.
public final class LicenseClient: @unchecked Sendable {
    /// What the client needs to know.
    public struct Settings {
        /// The servers in order (main first), each with how to trust it.
        public var servers: [(url: String, trust: TLSTrust)]
        public var handshakeCode: String
        public var clientUUID: String
        public var sessionPassword: String?
        /// Validation fields a handshake code may require.
        public var domain: String?
        public var appId: String?
        public var process: String?
        /// A dead server costs at most this per attempt.
        public var connectTimeoutMs = 300
        public var requestTimeoutMs = 2_000
        /// How long one call keeps trying before it gives up.
        public var callDeadlineMs = 15_000
        public var retry = RetrySchedule()

        public init(servers: [(url: String, trust: TLSTrust)], handshakeCode: String, clientUUID: String) {
            self.servers = servers
            self.handshakeCode = handshakeCode
            self.clientUUID = clientUUID
        }

        /// Settings from a client key (certificates pinned as it says, else
        /// the system's CAs).
        public init(key: ClientKey, clientUUID: String) {
            self.init(servers: key.servers.map { ($0.url, $0.fingerprint.map(TLSTrust.pinnedSHA256) ?? .system) },
                      handshakeCode: key.handshakeCode, clientUUID: clientUUID)
        }
    }

    /// A server's refusal: the DLS code and its sentence.
    public struct Refusal: Error, CustomStringConvertible, Equatable {
        public let code: Int
        public let message: String
        public var description: String { "\(message) (\(code))" }
    }

    /// No server gave a final answer before the deadline.
    public struct Unavailable: Error, CustomStringConvertible {
        /// The last thing each server said or why it could not be reached.
        public let lastErrors: [String: String]
        public var description: String {
            "no license server answered: " + lastErrors.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
        }
    }

    /// A successful answer: the server that gave it and its JSON.
    public struct Answer {
        public let server: String
        public let json: [String: Any]
    }

    public let settings: Settings
    /// Most request IDs whose sendings are counted on (a call that ended
    /// `Unavailable` may be retried); past it the counts start again.
    static let attemptCountsMax = 10_000

    private let lock = NSLock()
    private var servers: ServerList
    /// Sendings so far of each request ID whose last call found no server.
    private var attemptsSent: [String: Int] = [:]

    public init(settings: Settings) throws {
        guard let list = ServerList(settings.servers.map(\.url)) else {
            throw TransportError("a client needs one or two distinct server URLs")
        }
        guard !settings.handshakeCode.isEmpty, !settings.clientUUID.isEmpty else {
            throw TransportError("a client needs a handshake code and a client UUID")
        }
        self.settings = settings
        servers = list
    }

    /// The server that answered last (the primary as far as this client knows).
    public var rememberedServer: String? {
        lock.lock()
        defer { lock.unlock() }
        return servers.preferred
    }

    /// A new request ID.
    public static func newRequestId() -> String { Crypto.randomUUID() }

    /// Sends `fields` (plus the handshake code, client UUID and the
    /// settings' optional fields) to `path` under the servers' base URLs,
    /// failing over as described above.
    /// - Throws: `Refusal` or `Unavailable`.
    public func call(_ path: String, _ fields: [String: Any]) throws -> Answer {
        var body: [String: Any] = ["handshakeCode": settings.handshakeCode, "clientUUID": settings.clientUUID]
        for (key, value) in fields { body[key] = value }
        let requestId = fields["requestId"] as? String
        var attempt = requestId.map(takeAttemptsSent) ?? 0
        defer { if let requestId { keepAttemptsSent(attempt, for: requestId) } }
        let deadline = Date().addingTimeInterval(Double(settings.callDeadlineMs) / 1000)
        var lastErrors: [String: String] = [:]
        var failedRounds = 0
        while true {
            var queue = orderedServers()
            var tried: Set<String> = []
            while let url = queue.first {
                queue.removeFirst()
                guard tried.insert(url).inserted else { continue }
                let client = HTTPClient(trust: trust(for: url), timeoutMs: settings.requestTimeoutMs,
                                        connectTimeoutMs: settings.connectTimeoutMs)
                let response: HTTPClient.Response
                do {
                    if requestId != nil {
                        attempt += 1
                        body["attempt"] = attempt
                    }
                    let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
                    response = try client.send("POST", Self.join(url, path), body: data)
                } catch {
                    lastErrors[url] = "\(error)"
                    continue
                }
                switch ServerAnswer.classify(status: response.status, json: response.json) {
                case .answered:
                    remember(url)
                    attempt = 0
                    return Answer(server: url, json: response.json ?? [:])
                case .refused(let code, let message):
                    remember(url)
                    attempt = 0
                    throw Refusal(code: code, message: message)
                case .redirect(let primary):
                    lastErrors[url] = "standby"
                    // The named primary next, if it is one of ours and not tried yet.
                    if let primary = primary.flatMap(matchingServer), !tried.contains(primary) { queue.insert(primary, at: 0) }
                case .unavailable(let reason):
                    lastErrors[url] = reason
                }
            }
            failedRounds += 1
            var generator = SystemRandomNumberGenerator()
            let pauseMs = settings.retry.delayMs(afterFailedRounds: failedRounds, using: &generator)
            guard Date().addingTimeInterval(Double(pauseMs) / 1000) < deadline else { throw Unavailable(lastErrors: lastErrors) }
            usleep(UInt32(pauseMs) * 1000)
        }
    }

    /// The sendings counted for `requestId` by an earlier call, forgotten here.
    private func takeAttemptsSent(_ requestId: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return attemptsSent.removeValue(forKey: requestId) ?? 0
    }

    /// Keeps the count of a call that found no server (`sent > 0`), for a retry.
    private func keepAttemptsSent(_ sent: Int, for requestId: String) {
        guard sent > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        if attemptsSent.count >= Self.attemptCountsMax { attemptsSent.removeAll() }
        attemptsSent[requestId] = sent
    }

    private func orderedServers() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return servers.ordered
    }

    private func remember(_ url: String) {
        lock.lock()
        defer { lock.unlock() }
        servers.remember(primary: url)
    }

    private func trust(for url: String) -> TLSTrust {
        settings.servers.first { $0.url == url }?.trust ?? .system
    }

    /// The configured server a redirect's `primary` URL names (trailing
    /// slash and `/lts/` or `/dls/` prefix alike).
    private func matchingServer(_ primary: String) -> String? {
        let wanted = Self.normalized(primary)
        return settings.servers.map(\.url).first { Self.normalized($0) == wanted }
    }

    static func normalized(_ url: String) -> String {
        var text = url.lowercased()
        while text.hasSuffix("/") { text.removeLast() }
        for prefix in ["/dls", "/lts"] where text.hasSuffix(prefix) { text.removeLast(prefix.count) }
        return text
    }

    /// `base` (`https://host:port/dls/`) joined with `path` (`api/v1/…`).
    static func join(_ base: String, _ path: String) -> String {
        (base.hasSuffix("/") ? base : base + "/") + (path.hasPrefix("/") ? String(path.dropFirst()) : path)
    }
}
