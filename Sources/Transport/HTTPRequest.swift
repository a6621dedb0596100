import CH2O
import CServerShim
import Foundation

/// One HTTP request, answered exactly once.
///
/// Invariant: `raw` is valid until h2o disposes the request; the object keeps
/// itself alive (one retain) until then, and every call after the answer or
/// the disposal is a no-op. All methods run on the loop thread.
public final class HTTPRequest {
    private var raw: UnsafeMutablePointer<h2o_req_t>?
    private var answered = false
    private var onFinished: ((HTTPRequest) -> Void)?

    public let method: String
    /// The path without the query string, e.g. `/dls/api/health`.
    public let path: String
    /// The host (and port) the client asked for: HTTP/1's `Host` header,
    /// HTTP/2's `:authority` (empty once the request is answered). Read on
    /// demand: few routes need it.
    public var authority: String { raw.map { Self.string($0.pointee.input.authority) } ?? "" }
    /// The raw query string (without `?`), or "".
    public let queryString: String
    /// Path parameters bound by the router (`{code}` → value).
    public internal(set) var parameters: [String: String] = [:]
    /// Largest body the matched route accepts.
    public internal(set) var bodyLimitBytes: Int = HTTPServer.defaultBodyLimitBytes
    /// The router's number for the route that took the request (nil: none).
    var route: Int?
    /// The status answered (0 until then, and for one never answered).
    private(set) var status = 0
    /// Headers every answer to this request carries besides its own (a
    /// route wrapper sets them before the handler runs: CORS, say).
    public var responseHeaders: [(String, String)] = []

    /// The address of the client behind the request: the TCP peer, or,
    /// when the peer is a trusted proxy that sent X-Forwarded-For, the
    /// client it names (`TrustedProxies`). Rate limits, lockouts and logs
    /// key on this; `peerAddress` stays the TCP peer.
    public let clientAddress: String
    /// Why a trusted proxy's X-Forwarded-For could not be read (the server
    /// answers 400 before any route), or nil.
    let forwardingProblem: TrustedProxies.MalformedHeader?
    /// True when the request carries X-Forwarded-For from a peer that is no
    /// trusted proxy: it came through a proxy this server does not know, so
    /// its peer's address says nothing of where it came from.
    public let isForwardedByUntrustedPeer: Bool

    init(raw: UnsafeMutablePointer<h2o_req_t>, trustedProxies: TrustedProxies, onFinished: @escaping (HTTPRequest) -> Void) {
        self.raw = raw
        self.onFinished = onFinished
        let peer = Self.peerAddress(of: raw)
        let forwardedFor = Self.headerValues(Self.forwardedForHeader, of: raw)
        do {
            clientAddress = try trustedProxies.clientAddress(peer: peer, forwardedFor: forwardedFor)
            forwardingProblem = nil
        } catch {
            clientAddress = peer
            forwardingProblem = error as? TrustedProxies.MalformedHeader
        }
        isForwardedByUntrustedPeer = !forwardedFor.isEmpty && !trustedProxies.contains(peer)
        method = Self.string(raw.pointee.method)
        let fullPath = Self.string(raw.pointee.path)
        if let question = fullPath.firstIndex(of: "?") {
            path = String(fullPath[..<question])
            queryString = String(fullPath[fullPath.index(after: question)...])
        } else {
            path = fullPath
            queryString = ""
        }
        lts_req_on_dispose(raw, Unmanaged.passRetained(self).toOpaque()) { object in
            guard let object else { return }
            let request = Unmanaged<HTTPRequest>.fromOpaque(object).takeRetainedValue()
            request.raw = nil
            request.finish()
        }
    }

    /// True once the request was answered or its connection went away.
    public var isFinished: Bool { answered || raw == nil }

    /// The value of a request header (name in any case), if present.
    public func header(_ name: String) -> String? {
        guard let raw else { return nil }
        let value = lts_req_header(raw, name.lowercased())
        guard value.base != nil else { return nil }
        return Self.string(value)
    }

    /// The request body (empty when there is none).
    public var body: Data {
        guard let raw, let base = raw.pointee.entity.base else { return Data() }
        return Data(bytes: base, count: raw.pointee.entity.len)
    }

    /// The numeric address of the TCP peer (a proxy, when one is in
    /// front), or "". See `clientAddress` for the client behind it.
    public var peerAddress: String {
        guard let raw else { return "" }
        return Self.peerAddress(of: raw)
    }

    /// The header that names the clients behind proxies.
    static let forwardedForHeader = "x-forwarded-for"

    private static func peerAddress(of raw: UnsafeMutablePointer<h2o_req_t>) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        lts_req_peer_address(raw, &buffer, buffer.count)
        return String(cString: buffer)
    }

    /// The values of every header `name` (lower case), in order.
    private static func headerValues(_ name: String, of raw: UnsafeMutablePointer<h2o_req_t>) -> [String] {
        var values: [String] = []
        var cursor = -1
        while true {
            let value = lts_req_header_next(raw, name, &cursor)
            guard value.base != nil else { return values }
            values.append(string(value))
        }
    }

    /// The query parameters, percent-decoded; a repeated key keeps its last value.
    public var query: [String: String] {
        var result: [String: String] = [:]
        for pair in queryString.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            let value = parts.count > 1 ? (String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "") : ""
            if !key.isEmpty { result[key] = value }
        }
        return result
    }

    // MARK: Answers

    /// Sends `status`, the headers and `body`, with `HTTPServer.securityHeaders`
    /// and, unless `headers` name one, `Cache-Control: no-store`. Later
    /// answers are ignored.
    public func respond(status: Int, headers: [(String, String)] = [], body: Data) {
        guard let raw, !answered else { return }
        answered = true
        self.status = status
        for (name, value) in responseHeaders { Self.add(name, value, to: raw) }
        for (name, value) in headers { Self.add(name, value, to: raw) }
        for (name, value) in HTTPServer.securityHeaders { Self.add(name, value, to: raw) }
        if !headers.contains(where: { $0.0.lowercased() == "cache-control" }) {
            Self.add("cache-control", HTTPServer.defaultCacheControl, to: raw)
        }
        body.withUnsafeBytes { bytes in
            lts_req_send(raw, Int32(status), bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        finish()
    }

    /// Sends a JSON body built from a JSON-compatible value.
    public func respondJSON(status: Int = 200, _ object: Any, headers: [(String, String)] = []) {
        respond(status: status, headers: [("content-type", "application/json")] + headers, body: Self.jsonData(object))
    }

    /// A JSON object as `respondJSON` writes it (sorted keys, plain slashes),
    /// for answers built off the loop.
    public static func jsonData(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }

    /// Sends an Encodable value as JSON.
    public func respondEncodable<T: Encodable>(status: Int = 200, _ value: T) {
        respond(status: status, headers: [("content-type", "application/json")], body: Self.encodeJSON(value))
    }

    /// The JSON form of a value as every answer writes it (sorted keys, plain slashes).
    public static func encodeJSON<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    /// Sends an error answer `{"code","message"}` with its status.
    public func respond(error: APIError, headers: [(String, String)] = []) {
        respond(status: error.status, headers: [("content-type", "application/json")] + headers, body: error.body)
    }

    /// Decodes the body as JSON into `T`; a malformed body is a 400 `APIError`.
    public func decodeJSON<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: body)
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError.badRequest("The JSON body lacks the field \"\(key.stringValue)\".")
        } catch let DecodingError.typeMismatch(_, context) {
            throw APIError.badRequest("The JSON field \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type.")
        } catch {
            throw APIError.badRequest("The body is not valid JSON.")
        }
    }

    // MARK: Upgrade

    /// True when this is an HTTP/1.1 request asking to upgrade to `protocolName`.
    public func wantsUpgrade(to protocolName: String) -> Bool {
        guard let raw else { return false }
        return lts_req_wants_upgrade(raw, protocolName) == 1
    }

    /// Answers 101 and hands the connection over as a `RawStream`
    /// (nil when the 101 could not be written, or, when the shim had no
    /// memory for the hand-off, after a 503 instead).
    public func upgrade(to protocolName: String, headers: [(String, String)] = [], then: @escaping (RawStream?) -> Void) {
        guard let raw, !answered else { return }
        answered = true
        for (name, value) in headers { Self.add(name, value, to: raw) }
        let box = Unmanaged.passRetained(UpgradeCompletion(then)).toOpaque()
        let started = lts_req_upgrade(raw, protocolName, box) { object, socket in
            guard let object else { return }
            let completion = Unmanaged<UpgradeCompletion>.fromOpaque(object).takeRetainedValue()
            completion.action(socket.map { RawStream(socket: $0) })
        }
        guard started == 0 else {
            Unmanaged<UpgradeCompletion>.fromOpaque(box).release()
            answered = false
            respond(error: .unavailable("The server is out of memory."))
            then(nil)
            return
        }
        status = 101
        finish()
    }

    private func finish() {
        let callback = onFinished
        onFinished = nil
        callback?(self)
    }

    private static func add(_ name: String, _ value: String, to raw: UnsafeMutablePointer<h2o_req_t>) {
        var name = name
        var value = value
        name.withUTF8 { n in
            value.withUTF8 { v in
                n.withMemoryRebound(to: CChar.self) { n in
                    v.withMemoryRebound(to: CChar.self) { v in
                        lts_req_add_header(raw, n.baseAddress, n.count, v.baseAddress, v.count)
                    }
                }
            }
        }
    }

    private static func string(_ iovec: h2o_iovec_t) -> String {
        guard let base = iovec.base, iovec.len > 0 else { return "" }
        return base.withMemoryRebound(to: UInt8.self, capacity: iovec.len) {
            String(decoding: UnsafeBufferPointer(start: $0, count: iovec.len), as: UTF8.self)
        }
    }
}

/// Boxes the closure that receives an upgraded stream across the C callback.
private final class UpgradeCompletion {
    let action: (RawStream?) -> Void
    init(_ action: @escaping (RawStream?) -> Void) { self.action = action }
}
