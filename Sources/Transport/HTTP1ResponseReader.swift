/// Cuts HTTP/1.1 responses with a `Content-Length` out of a byte stream
/// (keep-alive clients: load generators, the upgrade client).
///
/// Invariant: a response is returned only when its head parsed and its whole
/// body arrived; a malformed head, a chunked body or a head over
/// `headBytesMax` is an error after which the reader stays failed.
public struct HTTP1ResponseReader {
    /// Largest response head accepted.
    public static let headBytesMax = 16 * 1024
    /// Largest response body accepted.
    public static let bodyBytesMax = 16 << 20

    /// A parsed response head.
    public struct Head: Equatable {
        public let status: Int
        /// Header names in lower case.
        public let headers: [String: String]
    }

    /// One complete response.
    public struct Response: Equatable {
        public let head: Head
        public let body: [UInt8]
    }

    public struct Malformed: Error, Equatable {
        public let reason: String
    }

    private var buffer: [UInt8] = []
    private var failure: Malformed?

    public init() {}

    /// Adds bytes; returns every response now complete.
    public mutating func feed(_ bytes: [UInt8]) throws -> [Response] {
        if let failure { throw failure }
        buffer += bytes
        var responses: [Response] = []
        while let end = Self.headEnd(buffer) {
            guard let head = Self.parseHead(Array(buffer[..<end])) else { return try fail("the response head is not valid HTTP/1.1") }
            if head.headers["transfer-encoding"] != nil { return try fail("chunked responses are not supported") }
            let length = Int(head.headers["content-length"] ?? "0") ?? -1
            guard (0...Self.bodyBytesMax).contains(length) else { return try fail("the Content-Length is not valid") }
            guard buffer.count >= end + 4 + length else { break }
            responses.append(Response(head: head, body: Array(buffer[(end + 4)..<(end + 4 + length)])))
            buffer.removeFirst(end + 4 + length)
        }
        if buffer.count > Self.headBytesMax + Self.bodyBytesMax || (Self.headEnd(buffer) == nil && buffer.count > Self.headBytesMax) {
            return try fail("the response head is larger than \(Self.headBytesMax) bytes")
        }
        return responses
    }

    /// Adds bytes without cutting responses (see `takeHead`).
    public mutating func append(_ bytes: [UInt8]) {
        buffer += bytes
    }

    /// Bytes received after the last complete head, e.g. after `101`.
    public var remainder: [UInt8] { buffer }

    /// The head at the start of the buffer, when complete (for `101` answers,
    /// whose following bytes belong to another protocol).
    public mutating func takeHead() throws -> Head? {
        guard let end = Self.headEnd(buffer) else { return nil }
        guard let head = Self.parseHead(Array(buffer[..<end])) else {
            _ = try fail("the response head is not valid HTTP/1.1")
            return nil
        }
        buffer.removeFirst(end + 4)
        return head
    }

    private mutating func fail(_ reason: String) throws -> [Response] {
        failure = Malformed(reason: reason)
        buffer = []
        throw failure!
    }

    /// Index of the CRLFCRLF that ends the head, if present.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }

    /// Parses `HTTP/1.x NNN reason` and `name: value` lines; nil when malformed.
    static func parseHead(_ bytes: [UInt8]) -> Head? {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        guard !lines.isEmpty else { return nil }
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]),
              (100...599).contains(status) else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            guard !name.isEmpty else { return nil }
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Head(status: status, headers: headers)
    }
}
