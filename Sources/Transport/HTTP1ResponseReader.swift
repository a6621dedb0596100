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
    /// Works on the bytes: a load generator parses one head per response,
    /// and Foundation's string splitting and trimming had cost it two thirds
    /// of its time (bench/README.md).
    static func parseHead(_ bytes: [UInt8]) -> Head? {
        var lines = lineRanges(bytes)
        guard !lines.isEmpty else { return nil }
        let statusLine = bytes[lines.removeFirst()]
        // "HTTP/1.x" SP three digits, then SP and a reason, or nothing.
        let prefix = Array("HTTP/1.".utf8)
        guard statusLine.count >= 12, statusLine.starts(with: prefix) else { return nil }
        let version = statusLine.index(statusLine.startIndex, offsetBy: prefix.count)
        guard statusLine[version + 1] == space else { return nil }
        var codeEnd = version + 2
        while codeEnd < statusLine.endIndex, statusLine[codeEnd] != space { codeEnd += 1 }
        guard let status = Int(String(decoding: statusLine[(version + 2)..<codeEnd], as: UTF8.self)),
              (100...599).contains(status) else { return nil }
        var headers: [String: String] = [:]
        for range in lines {
            let line = bytes[range]
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
            let name = trimmed(line[..<colon])
            guard !name.isEmpty else { return nil }
            headers[String(decoding: name.map(lowercased), as: UTF8.self)] = String(decoding: trimmed(line[(colon + 1)...]), as: UTF8.self)
        }
        return Head(status: status, headers: headers)
    }

    private static let space = UInt8(ascii: " ")

    /// The ranges of the CRLF-separated lines of `bytes`.
    private static func lineRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == 13, bytes[index + 1] == 10 {
                ranges.append(start..<index)
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        ranges.append(start..<bytes.count)
        return ranges
    }

    /// `bytes` without leading and trailing spaces and tabs.
    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == space || first == 9 { slice.removeFirst() }
        while let last = slice.last, last == space || last == 9 { slice.removeLast() }
        return slice
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (65...90).contains(byte) ? byte + 32 : byte
    }
}
