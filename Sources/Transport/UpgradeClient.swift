import Foundation

/// The client half of an HTTP/1.1 `Upgrade`: sends the request on a fresh
/// stream, reads the response head, and hands the stream over after `101`.
///
/// Invariant: `completion` is called exactly once; on success the stream's
/// next reader receives every byte that followed the response head.
public enum UpgradeClient {
    /// Largest response head accepted before the stream is refused.
    public static let responseHeadBytesMax = 16 * 1024

    /// The parsed response head.
    public struct ResponseHead: Equatable {
        public let status: Int
        /// Header names in lower case.
        public let headers: [String: String]
    }

    /// Sends `GET path` asking to upgrade to `protocolName` with extra headers.
    public static func upgrade(stream: RawStream, host: String, path: String, protocolName: String,
                               headers: [(String, String)] = [],
                               completion: @escaping (Result<(RawStream, ResponseHead), TransportError>) -> Void) {
        var request = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: Upgrade\r\nUpgrade: \(protocolName)\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        var received: [UInt8] = []
        var done = false
        stream.onClose = { reason in
            guard !done else { return }
            done = true
            completion(.failure(TransportError("the server closed the connection before upgrading: \(reason ?? "closed")")))
        }
        stream.onData = { bytes in
            guard !done else { return }
            received.append(contentsOf: bytes)
            guard let end = headEnd(received) else {
                if received.count > responseHeadBytesMax {
                    done = true
                    stream.close()
                    completion(.failure(TransportError("the upgrade response head is larger than \(responseHeadBytesMax) bytes")))
                }
                return
            }
            done = true
            stream.onData = nil
            stream.onClose = nil
            guard let head = parseHead(Array(received[..<end])) else {
                stream.close()
                completion(.failure(TransportError("the upgrade response is not valid HTTP/1.1")))
                return
            }
            let rest = Array(received[(end + 4)...])
            guard head.status == 101 else {
                stream.close()
                let body = String(decoding: rest, as: UTF8.self)
                completion(.failure(TransportError("the server refused the upgrade with HTTP \(head.status): \(body)")))
                return
            }
            stream.unread(rest)
            completion(.success((stream, head)))
        }
        stream.startReading()
        stream.write(Array(request.utf8))
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

    /// Parses `HTTP/1.1 NNN reason` and `name: value` lines; nil when malformed.
    static func parseHead(_ bytes: [UInt8]) -> ResponseHead? {
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
        return ResponseHead(status: status, headers: headers)
    }
}
