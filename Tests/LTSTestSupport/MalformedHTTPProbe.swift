import Foundation
import Transport

/// Sends malformed HTTP over TLS, one connection per payload, and collects
/// what the server answered before it closed each connection.
public enum MalformedHTTPProbe {
    /// Inputs a server must refuse without crashing or hanging. The last one
    /// is a truncated request the client abandons.
    public static let payloads: [[UInt8]] = [
        Array("GARBAGE\r\n\r\n".utf8),
        Array("GET /dls/api/health HTTP/1.1\r\nno-colon-header\r\n\r\n".utf8),
        Array("GET /dls/api/health HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 500_000))\r\n\r\n".utf8),
        Array("POST /dls/api/health HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n".utf8),
        (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) },
        Array("GET /dls/api/health HTTP/1.1\r\nHost: x\r\n".utf8),
    ]

    /// Runs every payload against `127.0.0.1:port` in turn.
    /// - Parameters:
    ///   - prefixBytes: how much of each answer to keep.
    ///   - completion: the first bytes each connection received
    ///     (empty when the server closed without answering), in payload order.
    public static func run(loop: EventLoop, port: Int, fingerprint: [UInt8], payloads: [[UInt8]] = payloads, prefixBytes: Int = 12,
                           completion: @escaping ([String]) -> Void) throws {
        let tls = try TLSClientContext(trust: .pinnedSHA256(fingerprint))
        var remaining = payloads
        var answers: [String] = []
        func next() {
            guard !remaining.isEmpty else { return completion(answers) }
            let payload = remaining.removeFirst()
            let abandon = remaining.isEmpty && payloads.last == Self.payloads.last
            StreamConnector.connect(loop: loop, host: "127.0.0.1", port: port, tls: tls, timeoutMs: 5_000) { result in
                guard case .success(let stream) = result else {
                    answers.append("connect failed: \(result)")
                    return next()
                }
                var received: [UInt8] = []
                stream.onData = { received += $0 }
                stream.onClose = { _ in
                    answers.append(String(decoding: received.prefix(prefixBytes), as: UTF8.self))
                    next()
                }
                stream.startReading()
                stream.write(payload)
                if abandon { stream.close() }
            }
        }
        next()
    }
}
