import Foundation
import Platform

/// The client half of an HTTP/1.1 `Upgrade`: sends the request on a fresh
/// stream, reads the response head, and hands the stream over after `101`.
///
/// Invariant: `completion` is called exactly once; on success the stream's
/// next reader receives every byte that followed the response head.
public enum UpgradeClient {
    /// Largest response head accepted before the stream is refused.
    public static let responseHeadBytesMax = HTTP1ResponseReader.headBytesMax

    /// Sends `GET path` asking to upgrade to `protocolName` with extra headers.
    public static func upgrade(stream: RawStream, host: String, path: String, protocolName: String,
                               headers: [(String, String)] = [],
                               completion: @escaping (Result<(RawStream, HTTP1ResponseReader.Head), TransportError>) -> Void) {
        var request = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: Upgrade\r\nUpgrade: \(protocolName)\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        var reader = HTTP1ResponseReader()
        var done = false
        stream.onClose = { reason in
            guard !done else { return }
            done = true
            completion(.failure(TransportError("the server closed the connection before upgrading: \(reason ?? "closed")")))
        }
        stream.onData = { bytes in
            guard !done else { return }
            let head: HTTP1ResponseReader.Head?
            do {
                head = try Self.head(&reader, adding: bytes)
            } catch {
                done = true
                stream.close()
                completion(.failure(TransportError("the upgrade response is refused: \(error)")))
                return
            }
            guard let head else { return }
            done = true
            stream.onData = nil
            stream.onClose = nil
            guard head.status == 101 else {
                stream.close()
                let body = String(decoding: reader.remainder, as: UTF8.self)
                completion(.failure(TransportError("the server refused the upgrade with HTTP \(head.status): \(body)")))
                return
            }
            stream.unread(reader.remainder)
            completion(.success((stream, head)))
        }
        stream.startReading()
        stream.write(Array(request.utf8))
    }

    /// Adds bytes without cutting responses (the body after a 101 is not
    /// HTTP) and takes the head once it is complete.
    private static func head(_ reader: inout HTTP1ResponseReader, adding bytes: [UInt8]) throws -> HTTP1ResponseReader.Head? {
        reader.append(bytes)
        if reader.remainder.count > responseHeadBytesMax, HTTP1ResponseReader.headEnd(reader.remainder) == nil {
            throw TransportError("the upgrade response head is larger than \(responseHeadBytesMax) bytes")
        }
        return try reader.takeHead()
    }
}
