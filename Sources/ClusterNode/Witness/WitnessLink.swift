import Foundation
import Logging
import Platform
import Replication
import Transport

/// A node's connection to `lts witness`: one TLS connection kept open,
/// requests (claims, and status probes that tell whether the witness is
/// reachable while no claim is due) sent one at a time in order, each
/// answered or given up after `timeoutMs` (the connection is then dropped
/// and made again for the next).
///
/// Invariant: every request passed to `ask` or `probe` gets exactly one
/// `done` call, on the loop thread, never from within the call; a request
/// waits behind the one in flight, so answers come in the order asked.
final class WitnessLink: WitnessConnection {
    private let loop: EventLoop
    private let host: String
    private let port: Int
    private let path: String
    private var tls: TLSClientContext?
    private let key: [UInt8]
    private let timeoutMs: UInt64
    private let logger: Logger
    private var stream: RawStream?
    private var connecting = false
    /// The connection being made while `connecting`, cancelled by `close()`.
    private var connector: StreamConnector?
    private var reader = HTTP1ResponseReader()
    /// A request as sent, and what to do with its response (nil: none came).
    private typealias Request = (bytes: [UInt8], done: (HTTP1ResponseReader.Response?) -> Void)
    private var queue: [Request] = []
    private var inFlight: Request?
    private var timer: LoopTimer?
    /// Why the last claim got no answer (nil after an answer), for the logs
    /// and health: logged when it changes, not for every claim.
    private(set) var lastProblem: String?
    /// When the witness last answered anything (nil: not since start).
    private(set) var lastAnswerMs: UInt64?
    private var closed = false
    private let statusPath: String

    /// The witness's URL as configured (`witness.url`).
    let url: String

    init(loop: EventLoop, url: URLComponents, tls: TLSClientContext?, clusterSecret: String, timeoutMs: UInt64, logger: Logger) {
        self.loop = loop
        host = url.host ?? ""
        port = url.port ?? (url.scheme == "https" ? 443 : 80)
        let base = url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path
        path = base + WitnessWire.claimPath
        statusPath = base + WitnessWire.statusPath
        self.tls = tls
        key = WitnessWire.key(clusterSecret: clusterSecret)
        self.timeoutMs = timeoutMs
        self.logger = logger
        self.url = url.string ?? ""
    }

    /// Called when an answer proved the cluster secret, with the TLS context
    /// that verified the witness (nil for plain HTTP).
    var onWitnessProven: ((TLSClientContext?) -> Void)?

    /// Verifies the witness with `context` from the next connection on.
    func replaceTLS(_ context: TLSClientContext) {
        guard tls != nil else { return }
        tls = context
    }

    /// Sends `claim`; `done` gets the answer, or nil when none came in time.
    func ask(_ claim: WitnessClaim, done: @escaping (WitnessAnswer?) -> Void) {
        let body = WitnessWire.encode(claim)
        let mac = Crypto.hex(WitnessWire.claimMAC(key: key, body: body))
        let head = "POST \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\(WitnessWire.macHeader): \(mac)\r\n\r\n"
        send(Array(head.utf8) + Array(body)) { [weak self] response in
            guard let self, let response else { return done(nil) }
            guard response.head.status == 200 else {
                noteProblem("the witness refused the claim with HTTP \(response.head.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
                return done(nil)
            }
            do {
                let answer = try WitnessWire.decodeAnswer(Data(response.body), mac: response.head.headers[WitnessWire.macHeader],
                                                          claim: claim, claimBody: body, key: key)
                onWitnessProven?(tls)
                done(answer)
            } catch let error as JSONFieldError {
                noteProblem("the witness's answer is refused: \(error.key) \(error.reason)")
                done(nil)
            } catch {
                noteProblem("the witness's answer is refused: \(error)")
                done(nil)
            }
        }
    }

    /// Asks the witness for its status, to know it is reachable; `done`
    /// gets whether it answered.
    func probe(done: @escaping (Bool) -> Void) {
        send(Array("GET \(statusPath) HTTP/1.1\r\nHost: \(host)\r\n\r\n".utf8)) { response in
            done(response?.head.status == 200)
        }
    }

    private func send(_ bytes: [UInt8], done: @escaping (HTTP1ResponseReader.Response?) -> Void) {
        loop.assertInLoop()
        queue.append((bytes, done))
        // Connecting and writing report back only from later callbacks.
        sendNext()
    }

    func close() {
        closed = true
        timer?.cancel()
        stream?.close()
        stream = nil
        let waiting = (inFlight.map { [$0] } ?? []) + queue
        inFlight = nil
        queue = []
        for entry in waiting { entry.done(nil) }
        connector?.cancel()
        connector = nil
    }

    private func sendNext() {
        guard !closed, inFlight == nil, !queue.isEmpty else { return }
        let next = queue.removeFirst()
        inFlight = next
        timer = LoopTimer(loop: loop, delayMs: timeoutMs) { [weak self] in
            self?.fail("no answer within \(self?.timeoutMs ?? 0) ms")
        }
        guard let stream, stream.isOpen else { return connect() }
        _ = stream.write(next.bytes)
    }

    private func connect() {
        guard !connecting else { return }
        connecting = true
        connector = StreamConnector.connect(loop: loop, host: host, port: port, tls: tls, timeoutMs: timeoutMs) { [weak self] result in
            guard let self else { return }
            connecting = false
            connector = nil
            guard !closed else {
                if case .success(let stream) = result { stream.close() }
                return
            }
            switch result {
            case .failure(let error):
                fail("cannot connect: \(error)")
            case .success(let stream):
                guard !closed, let inFlight else { return stream.close() }
                self.stream = stream
                reader = HTTP1ResponseReader()
                stream.onData = { [weak self, weak stream] bytes in
                    guard let self, let stream, stream === self.stream else { return }
                    received(bytes)
                }
                stream.onClose = { [weak self, weak stream] reason in
                    guard let self, let stream, stream === self.stream else { return }
                    self.stream = nil
                    if self.inFlight != nil { fail("the witness closed the connection: \(reason ?? "closed")") }
                }
                stream.startReading()
                _ = stream.write(inFlight.bytes)
            }
        }
    }

    private func received(_ bytes: [UInt8]) {
        let responses: [HTTP1ResponseReader.Response]
        do {
            responses = try reader.feed(bytes)
        } catch {
            return fail("the witness's answer is not valid HTTP: \(error)")
        }
        for response in responses {
            guard let inFlight else { return fail("the witness answered a request that was not sent") }
            timer?.cancel()
            if lastProblem != nil { logger.info("the witness \(url) answers again") }
            lastProblem = nil
            lastAnswerMs = loop.nowMs
            self.inFlight = nil
            inFlight.done(response)
        }
        sendNext()
    }

    /// Logs a problem when it is new (not once per request).
    private func noteProblem(_ problem: String) {
        if lastProblem != problem { logger.warning("witness \(url): \(problem)") }
        lastProblem = problem
    }

    /// The request in flight gets no answer; the connection is dropped (a
    /// late answer on it would be taken for the next request's).
    private func fail(_ problem: String) {
        timer?.cancel()
        noteProblem(problem)
        let dropped = stream
        stream = nil
        dropped?.close()
        let done = inFlight?.done
        inFlight = nil
        done?(nil)
        sendNext()
    }
}
