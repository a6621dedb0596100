import CH2O
import CServerShim
import Foundation
import Platform

/// An HTTPS (or, only when configured, plain HTTP) server on the loop,
/// dispatching through a `Router`.
///
/// Invariant: every request gets exactly one answer: the route's, or a JSON
/// error for an unknown path (404), a wrong method (405), a body over the
/// route's limit (413), or a server stopping (503). After `stopAccepting`
/// no new connection is accepted and `onDrained` runs once, when no request
/// is in flight. The owner keeps the server alive as long as its loop runs:
/// h2o calls back into it for every connection.
public final class HTTPServer {
    /// Body limit of a route that names none.
    public static let defaultBodyLimitBytes = 1 << 20
    /// Idle time after which h2o closes a connection that sends nothing.
    public static let idleTimeoutMs: UInt64 = 30_000

    /// Headers on every answer (portal files, JSON, errors, metrics), added
    /// in `HTTPRequest.respond` where every answer passes, so no route can
    /// miss them: the portal's content security policy (its own scripts,
    /// styles and API only, never framed), no sniffing, no framing, no
    /// referrer. A 101 upgrade (the replication stream) carries none: it
    /// answers no browser.
    public static let securityHeaders: [(String, String)] = [
        ("content-security-policy", contentSecurityPolicy),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ]

    /// The policy of every answer: nothing but this origin, no inline
    /// script or style, `data:` images only besides, no framing, no `<base>`.
    public static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    /// The caching of an answer whose handler names none: API data (tokens,
    /// CSRF tokens, grants) is never stored by a browser or a proxy.
    public static let defaultCacheControl = "no-store"

    /// A route's handler and its body limit.
    public struct Route {
        public let bodyLimitBytes: Int
        public let handler: (HTTPRequest) -> Void

        public init(bodyLimitBytes: Int = HTTPServer.defaultBodyLimitBytes, handler: @escaping (HTTPRequest) -> Void) {
            self.bodyLimitBytes = bodyLimitBytes
            self.handler = handler
        }
    }

    private let loop: EventLoop
    private let router: Router<Route>
    private var tls: TLSServerContext?
    private var server: OpaquePointer?
    private var inFlight = 0
    private var stopping = false
    private var onDrained: (() -> Void)?

    /// Body limit of a path no route serves, for an upload still coming in.
    static let unroutedBodyLimitBytes = 4096

    /// Called each time a connection limit bites, with the peer's address.
    public var onLimit: ((ConnectionLimitEvent, String) -> Void)?

    /// The proxies whose X-Forwarded-For names a request's client
    /// (`HTTPRequest.clientAddress`); none by default.
    public var trustedProxies = TrustedProxies()

    /// Called with the reason each time a trusted proxy's X-Forwarded-For
    /// is refused (the request is answered 400).
    public var onForwardingProblem: ((String) -> Void)?

    /// - Parameters:
    ///   - tls: the server context, or nil for plain HTTP (`"tls": false`).
    ///   - http2: offer HTTP/2 (ALPN h2) besides HTTP/1.1.
    ///   - limits: the caps on connections (default: from this process's
    ///     limit of open files).
    public init(loop: EventLoop, router: Router<Route>, tls: TLSServerContext?, http2: Bool, bodyLimitBytesMax: Int,
                limits: ConnectionLimits? = nil) {
        self.loop = loop
        self.router = router
        latencies = RequestLatencies(patterns: router.patterns)
        self.tls = tls
        server = lts_http_server_new(loop.uv, tls?.ctx, http2 ? 1 : 0, bodyLimitBytesMax, Self.idleTimeoutMs, { owner, raw in
            guard let owner, let raw else { return }
            Unmanaged<HTTPServer>.fromOpaque(owner).takeUnretainedValue().dispatch(raw)
        }, Unmanaged.passUnretained(self).toOpaque())
        precondition(server != nil, "out of memory creating the HTTP server")
        var shim = (limits ?? ConnectionLimits.defaults(descriptors: ConnectionLimits.descriptorLimit())).shim
        lts_http_server_set_limits(server, &shim, { owner, event, address in
            guard let owner, let event = ConnectionLimitEvent(rawValue: Int(event)) else { return }
            let server = Unmanaged<HTTPServer>.fromOpaque(owner).takeUnretainedValue()
            server.onLimit?(event, address.map { String(cString: $0) } ?? "")
        }, { owner, method, methodLength, path, pathLength in
            guard let owner, let method, let path else { return 0 }
            let server = Unmanaged<HTTPServer>.fromOpaque(owner).takeUnretainedValue()
            return server.bodyLimit(method: HTTPServer.string(method, methodLength), path: HTTPServer.string(path, pathLength))
        })
    }

    /// Connections open now, those not past their first request, and how
    /// often each limit bit.
    public var connectionStats: (open: Int, fresh: Int, events: [ConnectionLimitEvent: UInt64]) {
        guard let server else { return (0, 0, [:]) }
        var stats = lts_connection_stats_t()
        lts_http_server_stats(server, &stats)
        let counts = withUnsafeBytes(of: stats.events) { Array($0.bindMemory(to: UInt64.self)) }
        var events: [ConnectionLimitEvent: UInt64] = [:]
        for event in ConnectionLimitEvent.allCases { events[event] = counts[event.rawValue] }
        return (stats.open, stats.fresh, events)
    }

    private static func string(_ bytes: UnsafePointer<CChar>, _ count: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    private func bodyLimit(method: String, path: String) -> Int {
        if case .found(let route, _, _) = router.match(method: method, path: path) { return route.bodyLimitBytes }
        return Self.unroutedBodyLimitBytes
    }

    /// Serves `context` to the connections accepted from now on (a renewed
    /// or replaced certificate); those open keep theirs.
    public func replaceTLS(_ context: TLSServerContext) {
        loop.assertInLoop()
        guard let server, tls != nil else { return }
        lts_http_server_set_ssl_ctx(server, context.ctx)
        tls = context
    }

    /// Number of requests received and not yet answered.
    public var requestsInFlight: Int { inFlight }

    /// How long requests took, from their arrival to their answer, by route and status class.
    public private(set) var latencies: RequestLatencies

    /// Binds `host:port` (port 0 = any free port).
    /// - Returns: the bound port.
    public func listen(host: String, port: Int) throws -> Int {
        loop.assertInLoop()
        guard let server else { throw TransportError("cannot listen on \(host):\(port): the server is closed") }
        let result = lts_http_server_listen(server, host, Int32(port))
        guard result > 0 else {
            throw TransportError("cannot listen on \(host):\(port): \(String(cString: uv_strerror(result)))")
        }
        return Int(result)
    }

    /// Stops accepting connections and calls `onDrained` once every request
    /// in flight has been answered.
    public func stopAccepting(onDrained: @escaping () -> Void) {
        loop.assertInLoop()
        guard !stopping else { return }
        stopping = true
        self.onDrained = onDrained
        lts_http_server_stop_accepting(server)
        drainIfIdle()
    }

    /// Frees the h2o server (after `stopAccepting`, on the loop while it
    /// still runs, e.g. once drained): its memory goes when the last open
    /// connection closes. The object must stay alive until the loop ends, as
    /// connections still open may deliver requests (answered 503).
    public func close() {
        loop.assertInLoop()
        guard let server else { return }
        stopping = true
        self.server = nil
        lts_http_server_free(server)
    }

    private func dispatch(_ raw: UnsafeMutablePointer<h2o_req_t>) {
        inFlight += 1
        let startedNs = MonotonicClock.nanoseconds()
        let request = HTTPRequest(raw: raw, trustedProxies: trustedProxies) { [weak self] request in
            guard let self else { return }
            self.inFlight -= 1
            self.latencies.record(route: request.route ?? self.latencies.unmatchedRoute, status: request.status,
                                  nanoseconds: MonotonicClock.nanoseconds() - startedNs)
            self.drainIfIdle()
        }
        if stopping {
            request.respond(error: .unavailable("The server is stopping."), headers: [("connection", "close")])
            return
        }
        if let problem = request.forwardingProblem {
            // Only a trusted proxy can send this (the rule never reads what
            // its clients wrote): its configuration is wrong, which a 400
            // shows at once, where the proxy's own address would quietly
            // put every client behind it under one rate limit.
            onForwardingProblem?(problem.description)
            request.respond(error: .badRequest("\(problem); check the proxy's configuration."))
            return
        }
        switch router.match(method: request.method, path: request.path) {
        case .notFound:
            request.respond(error: .notFound(request.path))
        case .methodNotAllowed(let allowed):
            request.respond(error: .methodNotAllowed(request.method, allowed: allowed), headers: [("allow", allowed.joined(separator: ", "))])
        case .found(let route, let parameters, let number):
            request.route = number
            request.parameters = parameters
            request.bodyLimitBytes = route.bodyLimitBytes
            if raw.pointee.entity.len > route.bodyLimitBytes {
                request.respond(error: .bodyTooLarge(limitBytes: route.bodyLimitBytes))
                return
            }
            route.handler(request)
        }
    }

    private func drainIfIdle() {
        guard stopping, inFlight == 0, let onDrained else { return }
        self.onDrained = nil
        onDrained()
    }
}
