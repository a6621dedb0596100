import Foundation
import Logging
import Replication
import Transport

/// A node's connection to `lts witness`: one TLS connection kept open,
/// claims sent one at a time in order, each answered or given up after
/// `timeoutMs` (the connection is then dropped and made again for the next).
///
/// Invariant: every claim passed to `ask` gets exactly one `done` call, on
/// the loop thread, never from within `ask`; a claim waits behind the one
/// in flight, so answers come in the order claims were asked.
final class WitnessLink {
    private let loop: EventLoop
    private let host: String
    private let port: Int
    private let path: String
    private let tls: TLSClientContext?
    private let key: [UInt8]
    private let timeoutMs: UInt64
    private let logger: Logger
    private var stream: RawStream?
    private var connecting = false
    private var reader = HTTP1ResponseReader()
    private var queue: [(claim: WitnessClaim, body: Data, done: (WitnessAnswer?) -> Void)] = []
    private var inFlight: (claim: WitnessClaim, body: Data, done: (WitnessAnswer?) -> Void)?
    private var timer: LoopTimer?
    /// Why the last claim got no answer (nil after an answer), for the logs
    /// and health: logged when it changes, not for every claim.
    private(set) var lastProblem: String?
    private var closed = false

    /// The witness's URL as configured (`witness.url`).
    let url: String

    init(loop: EventLoop, url: URLComponents, tls: TLSClientContext?, clusterSecret: String, timeoutMs: UInt64, logger: Logger) {
        self.loop = loop
        host = url.host ?? ""
        port = url.port ?? (url.scheme == "https" ? 443 : 80)
        let base = url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path
        path = base + WitnessWire.claimPath
        self.tls = tls
        key = WitnessWire.key(clusterSecret: clusterSecret)
        self.timeoutMs = timeoutMs
        self.logger = logger
        self.url = url.string ?? ""
    }

    /// Sends `claim`; `done` gets the answer, or nil when none came in time.
    func ask(_ claim: WitnessClaim, done: @escaping (WitnessAnswer?) -> Void) {
        loop.assertInLoop()
        queue.append((claim, WitnessWire.encode(claim), done))
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
    }

    private func sendNext() {
        guard !closed, inFlight == nil, !queue.isEmpty else { return }
        let next = queue.removeFirst()
        inFlight = next
        timer = LoopTimer(loop: loop, delayMs: timeoutMs) { [weak self] in
            self?.fail("no answer within \(self?.timeoutMs ?? 0) ms")
        }
        guard let stream, stream.isOpen else { return connect() }
        write(next.body, on: stream)
    }

    private func connect() {
        guard !connecting else { return }
        connecting = true
        StreamConnector.connect(loop: loop, host: host, port: port, tls: tls, timeoutMs: timeoutMs) { [weak self] result in
            guard let self else { return }
            connecting = false
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
                write(inFlight.body, on: stream)
            }
        }
    }

    private func write(_ body: Data, on stream: RawStream) {
        let mac = WitnessWire.claimMAC(key: key, body: body).map { String(format: "%02x", $0) }.joined()
        let head = "POST \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\(WitnessWire.macHeader): \(mac)\r\n\r\n"
        _ = stream.write(Array(head.utf8) + Array(body))
    }

    private func received(_ bytes: [UInt8]) {
        let responses: [HTTP1ResponseReader.Response]
        do {
            responses = try reader.feed(bytes)
        } catch {
            return fail("the witness's answer is not valid HTTP: \(error)")
        }
        for response in responses {
            guard let inFlight else { return fail("the witness answered a claim that was not asked") }
            guard response.head.status == 200 else {
                return fail("the witness refused the claim with HTTP \(response.head.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
            }
            do {
                let answer = try WitnessWire.decodeAnswer(Data(response.body), mac: response.head.headers[WitnessWire.macHeader],
                                                          claim: inFlight.claim, claimBody: inFlight.body, key: key)
                finish(answer)
            } catch let error as JSONFieldError {
                fail("the witness's answer is refused: \(error.key) \(error.reason)")
            } catch {
                fail("the witness's answer is refused: \(error)")
            }
        }
    }

    private func finish(_ answer: WitnessAnswer) {
        timer?.cancel()
        if lastProblem != nil { logger.info("the witness \(url) answers again") }
        lastProblem = nil
        let done = inFlight?.done
        inFlight = nil
        done?(answer)
        sendNext()
    }

    /// The claim in flight gets no answer; the connection is dropped (a
    /// late answer on it would be taken for the next claim's).
    private func fail(_ problem: String) {
        timer?.cancel()
        if lastProblem != problem { logger.warning("witness \(url): \(problem)") }
        lastProblem = problem
        let dropped = stream
        stream = nil
        dropped?.close()
        let done = inFlight?.done
        inFlight = nil
        done?(nil)
        sendNext()
    }
}
