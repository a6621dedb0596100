import CCurlShim
import Foundation

/// A blocking HTTPS client on libcurl, for the CLI and tools (never called
/// on the event loop).
///
/// Invariant: TLS is verified as `trust` says; nothing here turns
/// verification off unless `trust` is `.insecure`.
public struct HTTPClient {
    /// One response.
    public struct Response {
        public let status: Int
        /// Response headers, names in lower case (the last of a repeated name).
        public let headers: [String: String]
        public let body: Data

        /// The body parsed as a JSON object, if it is one.
        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        }
    }

    /// Bodies larger than this are sent with `Expect: 100-continue`.
    public static let expectContinueBytesMin = 64 * 1024

    public let trust: TLSTrust
    /// Bounds a whole call.
    public let timeoutMs: Int
    /// Bounds connecting (TCP and TLS): a dead server costs this, not `timeoutMs`.
    public let connectTimeoutMs: Int

    public init(trust: TLSTrust = .system, timeoutMs: Int = 5_000, connectTimeoutMs: Int? = nil) {
        self.trust = trust
        self.timeoutMs = timeoutMs
        self.connectTimeoutMs = min(connectTimeoutMs ?? timeoutMs, timeoutMs)
    }

    /// Sends one request and waits for the answer.
    public func send(_ method: String, _ url: String, body: Data? = nil, headers: [String: String] = [:]) throws -> Response {
        var headerLines = headers.map { "\($0.key): \($0.value)" }
        if body != nil, headers["Content-Type"] == nil { headerLines.append("Content-Type: application/json") }
        // A body the server may refuse by its size alone waits for `100
        // Continue`: h2o answers 413 before reading such a body and closes,
        // which would reset a connection still uploading. Small bodies go at
        // once.
        headerLines.append((body?.count ?? 0) > Self.expectContinueBytesMin ? "Expect: 100-continue" : "Expect:")
        var result = lts_curl_result_t()
        var caFile: String?
        var pin: String?
        var insecure: Int32 = 0
        switch trust {
        case .system: break
        case .caFile(let path): caFile = path
        case .pinnedSHA256(let bytes): pin = Crypto.hex(bytes)
        case .insecure: insecure = 1
        }
        let payload = body ?? Data()
        let status: Int32 = payload.withUnsafeBytes { bytes in
            let pointer = bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
            return lts_curl_request(method, url, headerLines.joined(separator: "\n"), body == nil ? nil : pointer,
                                    bytes.count, caFile, pin, insecure, timeoutMs, connectTimeoutMs, &result)
        }
        defer { lts_curl_result_free(&result) }
        guard status == 0 else {
            let message = withUnsafeBytes(of: result.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw TransportError("\(method) \(url) failed: \(message)")
        }
        let data = result.body.map { Data(bytes: $0, count: result.body_len) } ?? Data()
        let head = result.headers.map { String(cString: $0) } ?? ""
        return Response(status: result.status, headers: Self.parseHeaders(head), body: data)
    }

    /// Parses the header block of the final response (after any 100 Continue).
    static func parseHeaders(_ block: String) -> [String: String] {
        var headers: [String: String] = [:]
        for line in block.components(separatedBy: "\r\n") {
            if line.hasPrefix("HTTP/") {
                headers = [:]
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return headers
    }
}
