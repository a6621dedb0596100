import Foundation
import Transport

/// A load generator for `lts bench authorize`: `clients` keep-alive HTTPS
/// connections, each sending one authorize call after the other until the
/// time is up, recording every latency. Client `i` authorizes under
/// `codes[i % codes.count]`. Each call carries a new `requestId` (and
/// `"attempt":1`), as `LicenseClient` sends, unless `requestIds` is false.
///
/// Invariant: each connection has at most one request in flight;
/// `completion` runs once, after every connection closed; no two calls of
/// one run, nor of two runs, share a request ID.
final class AuthorizeLoad {
    /// The outcome of a run.
    struct Summary {
        var grants = 0
        var refusals = 0
        var errors = 0
        var latenciesNs: [UInt64] = []
        var elapsedNs: UInt64 = 0
        /// What went wrong first, when anything did.
        var firstError: String?

        func percentileMs(_ p: Double) -> Double {
            guard !latenciesNs.isEmpty else { return 0 }
            let sorted = latenciesNs.sorted()
            return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1_000_000
        }
    }

    private let loop: EventLoop
    private let host: String
    private let port: Int
    private let path: String
    private let tls: TLSClientContext?
    private let codes: [String]
    private let product: String
    private let requestIds: Bool
    /// Makes this run's request IDs unlike any other run's.
    private let runPrefix = String(UInt32.random(in: .min ... .max), radix: 16)
    private var sequence = 0
    private var summary = Summary()
    private var open = 0
    private var deadlineNs: UInt64 = 0
    private var startNs: UInt64 = 0
    private var completion: ((Summary) -> Void)?

    init(loop: EventLoop, url: URLComponents, tls: TLSClientContext?, codes: [String], product: String, requestIds: Bool) {
        precondition(!codes.isEmpty, "at least one handshake code")
        self.loop = loop
        host = url.host ?? "127.0.0.1"
        port = url.port ?? 443
        var base = url.path.isEmpty || url.path == "/" ? "/dls/" : url.path
        if !base.hasSuffix("/") { base += "/" }
        path = base + "api/v1/authorize"
        self.tls = tls
        self.codes = codes
        self.product = product
        self.requestIds = requestIds
    }

    /// Runs `clients` connections for `seconds`.
    func run(clients: Int, seconds: Int, completion: @escaping (Summary) -> Void) {
        self.completion = completion
        startNs = MonotonicClock.nanoseconds()
        deadlineNs = startNs + UInt64(seconds) * 1_000_000_000
        for index in 0..<clients { connect(client: index) }
    }

    private func request(client: Int) -> [UInt8] {
        let code = codes[client % codes.count]
        var request = ""
        if requestIds {
            sequence += 1
            request = ",\"requestId\":\"\(runPrefix)-\(sequence)\",\"attempt\":1"
        }
        let body = "{\"handshakeCode\":\"\(code)\",\"clientUUID\":\"bench-\(client)\",\"product\":\"\(product)\"\(request)}"
        return Array("POST \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
    }

    private func connect(client: Int) {
        open += 1
        StreamConnector.connect(loop: loop, host: host, port: port, tls: tls, timeoutMs: 5_000) { [weak self] result in
            guard let self else { return }
            switch result {
            case .failure(let error):
                self.summary.errors += 1
                if self.summary.firstError == nil { self.summary.firstError = error.description }
                self.closed(client: client, retry: true)
            case .success(let stream):
                self.drive(stream, client: client)
            }
        }
    }

    private func drive(_ stream: RawStream, client: Int) {
        var reader = HTTP1ResponseReader()
        var sentNs = MonotonicClock.nanoseconds()
        stream.onData = { [weak self] chunk in
            guard let self else { return }
            do {
                for response in try reader.feed(chunk) {
                    let now = MonotonicClock.nanoseconds()
                    self.summary.latenciesNs.append(now - sentNs)
                    if response.head.status == 200 { self.summary.grants += 1 } else { self.summary.refusals += 1 }
                    if now >= self.deadlineNs {
                        stream.close()
                    } else {
                        sentNs = now
                        stream.write(self.request(client: client))
                    }
                }
            } catch {
                self.summary.errors += 1
                stream.close()
            }
        }
        stream.onClose = { [weak self] reason in
            if let reason, let self {
                self.summary.errors += 1
                if self.summary.firstError == nil { self.summary.firstError = reason }
            }
            self?.closed(client: client, retry: reason != nil)
        }
        stream.startReading()
        stream.write(request(client: client))
    }

    /// Wait before reconnecting after a failure, so a node that is still
    /// starting is not hammered.
    static let retryDelayMs: UInt64 = 100

    private func closed(client: Int, retry: Bool) {
        open -= 1
        if retry, MonotonicClock.nanoseconds() < deadlineNs {
            open += 1
            _ = LoopTimer(loop: loop, delayMs: Self.retryDelayMs) { [weak self] in
                self?.open -= 1
                self?.connect(client: client)
            }
            return
        }
        guard open == 0, let completion else { return }
        self.completion = nil
        summary.elapsedNs = MonotonicClock.nanoseconds() - startNs
        completion(summary)
    }
}
