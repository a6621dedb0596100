import Foundation
import Logging
import Platform
import Replication
import Transport

/// `lts witness`: the third party of a pair. It holds no license data, only
/// `WitnessBook` (the highest term granted, its holder, the lease), and
/// answers the nodes' claims over HTTPS, authenticated with the cluster
/// secret (`WitnessWire`).
///
/// Invariants: everything runs on one loop thread; a change of the book's
/// record is durable (`WitnessRecordFile`) before the answer that depends on
/// it leaves; if it cannot be made durable, the claim is answered 503 and
/// the book is read again from the file, so no grant is given that a
/// restart would forget.
public final class WitnessServer {
    private let config: WitnessConfig
    private let logger: Logger
    private let loop = EventLoop()
    private let key: [UInt8]
    private var book: WitnessBook?
    private var server: HTTPServer?
    private var signals: [SignalWatcher] = []
    private var certificateReloader: CertificateReloader?
    private var dataDirectory: DataDirectory?

    public init(config: WitnessConfig, logger: Logger) {
        self.config = config
        self.logger = logger
        key = WitnessWire.key(clusterSecret: config.clusterSecret)
    }

    /// Serves until SIGINT or SIGTERM.
    public func run() throws {
        try start()
        loop.run()
        loop.close()
        logger.info("witness stopped")
    }

    private func start() throws {
        let dataDirectory = try DataDirectory(path: config.dataDir)
        self.dataDirectory = dataDirectory
        let record = try WitnessRecordFile.read(dataDir: config.dataDir)
        book = WitnessBook(record: record, nowMs: loop.nowMs)
        if let holder = record.holder {
            logger.info("witness state: term \(record.highestTerm) held by node \(holder); its lease counts as held for \(record.holdMs) ms from now (the time this witness was down is unknown)")
        } else {
            logger.info("witness state: highest term granted \(record.highestTerm), no lease held")
        }
        let hostNames = ["0.0.0.0", "::", ""].contains(config.listenHost) ? [] : [config.listenHost]
        let tls = try ServerCertificate.context(for: config.tls, dataDirectory: dataDirectory, hostNames: hostNames, http2: false,
                                                logger: logger)
        var router = Router<HTTPServer.Route>(prefixes: [""])
        router.add("POST", WitnessWire.claimPath, HTTPServer.Route(bodyLimitBytes: WitnessWire.bodyBytesMax) { [unowned self] in claim($0) })
        router.add("GET", WitnessWire.statusPath, HTTPServer.Route { [unowned self] in status($0) })
        let server = HTTPServer(loop: loop, router: router, tls: tls, http2: false, bodyLimitBytesMax: WitnessWire.bodyBytesMax)
        self.server = server
        certificateReloader = CertificateReloader(loop: loop, setting: config.tls, dataDirectory: dataDirectory, hostNames: hostNames,
                                                  http2: false, logger: logger) { [weak server] in server?.replaceTLS($0) }
        let port = try server.listen(host: config.listenHost, port: config.listenPort)
        logger.info("witness listening on https://\(config.listenHost):\(port)/ (data \(config.dataDir))")
        for signum in [SIGINT, SIGTERM] {
            signals.append(SignalWatcher(loop: loop, signal: signum) { [weak self] signum in self?.stop(signal: signum) })
        }
    }

    private func stop(signal signum: Int32) {
        logger.info("received signal \(signum): stopping")
        signals.forEach { $0.cancel() }
        certificateReloader?.cancel()
        server?.stopAccepting { [weak self] in
            self?.server?.close()
            self?.loop.stop()
        }
    }

    private func claim(_ request: HTTPRequest) {
        let body = request.body
        let claim: WitnessClaim
        do {
            claim = try WitnessWire.decodeClaim(body, mac: request.header(WitnessWire.macHeader), key: key)
        } catch let error as JSONFieldError {
            logger.warning("claim from \(request.clientAddress) refused: \(error.key) \(error.reason)")
            return request.respond(error: APIError(status: error.key == WitnessWire.macHeader ? 403 : 400, code: -20410,
                                                   message: "The claim is refused: \(error.key) \(error.reason)."))
        } catch {
            return request.respond(error: .badRequest("The claim is refused: \(error)."))
        }
        guard var book else { return request.respond(error: .unavailable("The witness is starting.")) }
        let (answer, persist) = book.answer(claim, nowMs: loop.freshNowMs)
        if persist {
            do {
                try WitnessRecordFile.write(book.record, dataDir: config.dataDir)
            } catch {
                logger.error("cannot store the witness state (\(error)); the claim is not granted")
                self.book = (try? WitnessRecordFile.read(dataDir: config.dataDir)).map { WitnessBook(record: $0, nowMs: loop.nowMs) }
                return request.respond(error: .unavailable("The witness cannot store its state; retry."))
            }
            if answer.granted, answer.highestTerm != self.book?.record.highestTerm {
                logger.info("granted term \(claim.term) to node \(claim.node) (lease held \(claim.holdMs) ms)")
            } else if claim.release {
                logger.info("node \(claim.node) released term \(claim.term)")
            }
        }
        self.book = book
        let answerBody = WitnessWire.encode(answer, to: claim)
        let mac = Crypto.hex(WitnessWire.answerMAC(key: key, body: answerBody, claimBody: body))
        request.respond(status: 200, headers: [("content-type", "application/json"), (WitnessWire.macHeader, mac)], body: answerBody)
    }

    private func status(_ request: HTTPRequest) {
        guard let book else { return request.respond(error: .unavailable("The witness is starting.")) }
        let now = loop.nowMs
        request.respondJSON(["highestTerm": book.record.highestTerm, "holder": book.record.holder.map { $0 as Any } ?? NSNull(),
                             "leaseRemainingMs": book.leaseUntilMs > now ? book.leaseUntilMs - now : 0] as [String: Any])
    }
}
