import Foundation
import Logging
import Platform
import Replication
import Transport

/// The authenticated streams between this node and its peer: one outbound
/// stream this node dials and writes its messages to, and one inbound stream
/// the peer dialed, whose messages go to `onMessage`. Both are HTTP/1.1
/// upgrades to `lts-replication/1` opened by `ReplicationHandshake`; after
/// it, each stream carries frames one way only.
///
/// Invariants: a message is written only to an outbound stream whose
/// handshake completed, and delivered only from an inbound stream whose
/// handshake completed and whose frames so far were all valid; a stream that
/// breaks a rule (bad frame, unexpected type, undecodable message, wrong
/// secret, handshake over `handshakeTimeoutMs`) is closed and nothing more
/// is read from it. There is at most one outbound stream (being dialed or
/// open) and one authenticated inbound stream; at most `queuedMessagesMax`
/// messages holding at most `queuedPayloadBytesMax` payload bytes wait for
/// the outbound stream. Every timer belongs to a stream or
/// to the redial and is cancelled with it. Everything runs on the loop thread.
final class ReplicationLink {
    /// Messages kept while no outbound stream is open; older ones are dropped
    /// first, as the replication protocol recovers from lost messages.
    static let queuedMessagesMax = 1_024
    /// Payload bytes kept in that queue: an append may carry 8 MiB.
    static let queuedPayloadBytesMax = 32 << 20
    /// Time a stream gets to authenticate: an outbound one from its TCP and
    /// TLS connection (which `StreamConnector` bounds by the same time), an
    /// inbound one from its `101`.
    static let handshakeTimeoutMs: UInt64 = 5_000
    /// First wait before dialing again after a failure; it doubles up to
    /// `redialDelayMsMax` and starts over once a stream authenticates.
    static let redialDelayMsMin: UInt64 = 50
    static let redialDelayMsMax: UInt64 = 1_000
    /// How long bytes written to the outbound stream may stay unacknowledged
    /// by the peer's TCP, or wait for a peer that takes no more (its window
    /// closed), before the stream is dropped and dialed again (see
    /// `StreamConnector.connect`), by default. A stream stalled that long
    /// carries nothing the pair can use: a peer silent for the failover
    /// timeout is already taken as gone, and a fresh stream is a dial away.
    /// After a cut of 20 s, a stream kept open delivered the new primary's
    /// term 8 s after the heal, and two primaries served until then.
    static let stallLimitMs: UInt32 = 2_000
    /// Inbound streams still in their handshake at once: a new one beyond
    /// it replaces the oldest (which had its chance to prove itself), so
    /// unauthenticated clients can neither pile up streams and timers nor
    /// hold every slot while the real peer waits.
    static let inboundHandshakesMax = 8
    /// Inbound streams in their handshake from one address at once; more
    /// are refused (the peer needs one).
    static let inboundHandshakesPerAddressMax = 2
    /// A refusal (wrong secret) is warned about at most once per interval;
    /// a misconfigured peer redials every second and would flood the log.
    static let refusalWarningIntervalMs: UInt64 = 60_000
    /// The stream's path below the API root of the peer URL.
    static let streamPath = "cluster/stream"
    /// The answer to a request on the stream path that does not ask to upgrade.
    static let upgradeRequired = APIError(
        status: 426, code: -20400,
        message: "This path carries the replication stream between the two nodes; it needs \"Upgrade: \(ReplicationHandshake.protocolName)\".")

    /// One upgraded stream and how far its handshake got.
    ///
    /// Invariant: `deadline` is set exactly while the handshake runs; once
    /// `phase` is `.closed` no frame of the stream is handled.
    private final class Connection {
        /// Where a stream stands; only an `.open` stream carries messages,
        /// and a stream only moves forward through these cases.
        enum Phase {
            /// Outbound: the HTTP upgrade is in flight.
            case upgrading
            /// Outbound: upgraded, waiting for the server's challenge.
            case awaitingChallenge
            /// Outbound: `auth` sent, waiting for the server's proof.
            case awaitingWelcome(serverNonce: [UInt8], clientNonce: [UInt8])
            /// Inbound: `challenge` sent, waiting for the client's proof.
            case awaitingAuth(serverNonce: [UInt8])
            case open
            case closed

            var isOpen: Bool {
                if case .open = self { return true }
                return false
            }
        }

        let stream: RawStream
        let isOutbound: Bool
        /// The other end as logs name it (address, or host:port).
        let peer: String
        var phase: Phase
        var decoder = FrameDecoder()
        var deadline: LoopTimer?
        /// Inbound: what the peer's lts reads, as its upgrade request stated.
        let reads: ReplicationReads

        init(stream: RawStream, isOutbound: Bool, peer: String, phase: Phase, reads: ReplicationReads = .protocol1) {
            self.stream = stream
            self.isOutbound = isOutbound
            self.peer = peer
            self.phase = phase
            self.reads = reads
        }

        var isOpen: Bool { phase.isOpen }

        var isClosed: Bool {
            if case .closed = phase { return true }
            return false
        }
    }

    /// Where the outbound stream stands.
    ///
    /// Invariant: only the connection in `.stream` has its frames handled
    /// and its failures redialed; a dial whose attempt is no longer the one
    /// in `.dialing` closes what it made.
    private enum Outbound {
        /// Nothing to send yet, or the link is closed.
        case idle
        /// The TCP (and TLS) connection for dial `attempt` is being made.
        case dialing(attempt: UInt64)
        /// A stream exists: upgrading, authenticating or open (see its phase).
        case stream(Connection)
        /// Waiting to dial again.
        case waiting(LoopTimer)
    }

    private let loop: EventLoop
    private let host: String
    private let port: Int
    private let path: String
    private var tls: TLSClientContext?
    private let key: [UInt8]
    private let nodeUUID: String
    private let logger: Logger
    private let handshakeTimeoutMs: UInt64
    private let stallLimitMs: UInt32
    private let onMessage: (ReplicationMessage) -> Void
    /// What this node's lts reads, stated on every stream it dials.
    private let ownReads: ReplicationReads

    private var isClosed = false
    private var outbound = Outbound.idle
    /// The dial in flight (`Outbound.dialing`), cancelled by `close()`.
    private var dialer: StreamConnector?
    private var dialAttempts: UInt64 = 0
    private var redialDelayMs = ReplicationLink.redialDelayMsMin
    /// Messages waiting for an open outbound stream, oldest first.
    private var queue: [ReplicationMessage] = []
    private var queuedPayloadBytes = 0
    private var inboundHandshakes: [Connection] = []
    private var inbound: Connection?
    private var refusalWarnedAtMs: UInt64?
    private var refusalsUnwarned = 0
    /// Whether the failures since the outbound stream was last open were
    /// reported already (only the first of a series is a warning).
    private var outboundFailureReported = false

    /// Streams refused because the other end does not hold the secret.
    private(set) var refusalsTotal = 0
    /// Messages dropped from a full queue.
    private(set) var droppedMessagesTotal = 0

    /// - Parameters:
    ///   - peerURL: the peer's API root, e.g. `https://host:port/dls/`; the
    ///     stream is `GET <path>cluster/stream` on it.
    ///   - tls: how to verify the peer; required for an `https` URL.
    ///   - clusterSecret: the secret both nodes share; only MACs under its
    ///     hash leave the process.
    ///   - nodeUUID: this node's UUID, sent with its authentication.
    ///   - ownReads: what this node's lts reads, stated to the peer.
    ///   - handshakeTimeoutMs: see `ReplicationLink.handshakeTimeoutMs`.
    ///   - stallLimitMs: see `ReplicationLink.stallLimitMs`.
    ///   - onMessage: receives the peer's messages in order, on the loop.
    init(loop: EventLoop, peerURL: URLComponents, tls: TLSClientContext?, clusterSecret: String, nodeUUID: String, logger: Logger,
         ownReads: ReplicationReads = ClusterDriver.ownReads, handshakeTimeoutMs: UInt64 = ReplicationLink.handshakeTimeoutMs,
         stallLimitMs: UInt32 = ReplicationLink.stallLimitMs, onMessage: @escaping (ReplicationMessage) -> Void) {
        guard var host = peerURL.host, !host.isEmpty else { preconditionFailure("the peer URL names a host") }
        // Foundation keeps the brackets of an IPv6 literal; the resolver takes it bare.
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let isPlain = peerURL.scheme == "http"
        precondition(isPlain || (peerURL.scheme == "https" && tls != nil), "an https peer URL needs a TLS context")
        precondition(ReplicationHandshake.isWellFormed(nodeUUID: nodeUUID), "the node UUID is letters, digits and dashes")
        self.loop = loop
        self.host = host
        port = peerURL.port ?? (isPlain ? 80 : 443)
        let root = peerURL.path.hasSuffix("/") ? peerURL.path : peerURL.path + "/"
        path = root + Self.streamPath
        self.tls = isPlain ? nil : tls
        key = ReplicationHandshake.key(clusterSecret: clusterSecret)
        self.nodeUUID = nodeUUID
        self.logger = logger
        self.handshakeTimeoutMs = handshakeTimeoutMs
        self.stallLimitMs = stallLimitMs
        self.onMessage = onMessage
        self.ownReads = ownReads
    }

    // MARK: API

    /// Called when an outbound stream's peer proved the cluster secret,
    /// with the TLS context that verified it (nil for plain HTTP).
    var onPeerProven: ((TLSClientContext?) -> Void)?

    /// The peer this node paired with (nil: any node that proves the secret).
    var pairedPeer: PairedPeer?

    /// What to say when the peer's certificate was refused: gets its
    /// SHA-256, returns the sentence naming the setting to fix.
    var certificateRefusedHint: (([UInt8]) -> String)?

    /// Verifies the peer with `context` from the next dial on.
    func replaceTLS(_ context: TLSClientContext) {
        guard tls != nil else { return }
        tls = context
    }

    /// What the peer's lts reads, as its last authenticated stream to this
    /// node stated (nil before the first).
    private(set) var peerReads: ReplicationReads?

    /// True while the outbound stream is authenticated.
    var isConnected: Bool {
        loop.assertInLoop()
        if case .stream(let connection) = outbound { return connection.isOpen }
        return false
    }

    /// Sends over the outbound stream. Without one, the message waits in a
    /// queue of at most `queuedMessagesMax` (the oldest is dropped) and the
    /// link dials, or waits out its backoff, then sends the queue in order.
    func send(_ message: ReplicationMessage) {
        loop.assertInLoop()
        guard !isClosed else { return }
        if case .stream(let connection) = outbound, connection.isOpen {
            if connection.stream.write(ReplicationMessageCodec.encode(message).encoded()) { return }
            // The stream is closing, or the peer stopped reading for so long
            // that the write queue is full: start over on a fresh stream.
            enqueue(message)
            shut(connection, reason: "the stream does not take more data", byPeer: false)
            return
        }
        enqueue(message)
        if case .idle = outbound { dial() }
    }

    /// The handler of `GET …/cluster/stream`: upgrades, authenticates the
    /// peer, then hands each of its messages to `onMessage`. A newer
    /// authenticated stream replaces the older one.
    func accept(_ request: HTTPRequest) {
        loop.assertInLoop()
        guard request.wantsUpgrade(to: ReplicationHandshake.protocolName) else {
            request.respond(error: Self.upgradeRequired, headers: [("upgrade", ReplicationHandshake.protocolName)])
            return
        }
        guard !isClosed else {
            request.respond(error: .unavailable("The replication link of this node is closed."))
            return
        }
        let peer = request.peerAddress
        guard let reads = ReplicationReads.parse(header: request.header(ReplicationReads.headerName)) else {
            request.respond(error: .badRequest("The header \(ReplicationReads.headerName) must read \"protocol=N; records=N; snapshot=N; schema=N\"."))
            return
        }
        guard inboundHandshakes.filter({ $0.peer == peer }).count < Self.inboundHandshakesPerAddressMax else {
            request.respond(error: .unavailable("Too many replication streams from \(peer) are authenticating at once; try again."))
            return
        }
        request.upgrade(to: ReplicationHandshake.protocolName) { [weak self] stream in
            guard let stream else { return }
            guard let self else {
                stream.close()
                return
            }
            self.startInbound(stream, peer: peer, reads: reads)
        }
    }

    /// Closes every stream, cancels every timer and drops the queue; later
    /// calls to `send` do nothing and `accept` answers 503.
    func close() {
        loop.assertInLoop()
        guard !isClosed else { return }
        isClosed = true
        queue = []
        queuedPayloadBytes = 0
        switch outbound {
        case .stream(let connection): shut(connection, reason: nil, byPeer: false)
        case .waiting(let timer): timer.cancel()
        case .idle, .dialing: break
        }
        // A dial in flight is given up (its completion finds the link closed).
        outbound = .idle
        dialer?.cancel()
        dialer = nil
        for connection in inboundHandshakes { shut(connection, reason: nil, byPeer: false) }
        if let inbound { shut(inbound, reason: nil, byPeer: false) }
    }

    // MARK: Outbound

    private func enqueue(_ message: ReplicationMessage) {
        var drop = 0
        queuedPayloadBytes += message.payloadBytes
        while drop < queue.count, queue.count - drop >= Self.queuedMessagesMax || queuedPayloadBytes > Self.queuedPayloadBytesMax {
            queuedPayloadBytes -= queue[drop].payloadBytes
            drop += 1
        }
        queue.removeFirst(drop)
        droppedMessagesTotal += drop
        queue.append(message)
    }

    /// `host:port` as a Host header and the logs write it.
    private var peerName: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    private func dial() {
        dialAttempts += 1
        let attempt = dialAttempts
        outbound = .dialing(attempt: attempt)
        let presentedBefore = tls?.lastPresentedPeer?.count ?? 0
        dialer = StreamConnector.connect(loop: loop, host: host, port: port, tls: tls, timeoutMs: handshakeTimeoutMs,
                                        stallLimitMs: stallLimitMs) { [weak self] result in
            guard let self, case .dialing(let current) = self.outbound, current == attempt else {
                if case .success(let stream) = result { stream.close() }
                return
            }
            self.dialer = nil
            switch result {
            case .failure(let error):
                // A certificate shown on this dial and refused: say which setting decides.
                if let presented = self.tls?.lastPresentedPeer, presented.count != presentedBefore,
                   self.tls?.lastVerifiedPeer?.certificate != presented.certificate,
                   let hint = self.certificateRefusedHint?(presented.certificate) {
                    return self.outboundFailed("cannot connect: \(error); \(hint)")
                }
                self.outboundFailed("cannot connect: \(error)")
            case .success(let stream):
                self.upgrade(stream)
            }
        }
    }

    private func upgrade(_ stream: RawStream) {
        let connection = Connection(stream: stream, isOutbound: true, peer: peerName, phase: .upgrading)
        outbound = .stream(connection)
        armDeadline(connection)
        UpgradeClient.upgrade(stream: stream, host: peerName, path: path, protocolName: ReplicationHandshake.protocolName,
                              headers: [(ReplicationReads.headerName, ownReads.header)]) {
            [weak self, weak connection] result in
            guard let self, let connection, case .upgrading = connection.phase else {
                if case .success(let (stream, _)) = result { stream.close() }
                return
            }
            switch result {
            case .failure(let error):
                self.shut(connection, reason: error.description, byPeer: true)
            case .success(let (stream, _)):
                connection.phase = .awaitingChallenge
                self.attach(connection, to: stream)
            }
        }
    }

    /// The outbound handshake completed: send what waited.
    private func outboundOpened(_ connection: Connection) {
        connection.phase = .open
        disarmDeadline(connection)
        redialDelayMs = Self.redialDelayMsMin
        outboundFailureReported = false
        logger.info("replication stream to \(connection.peer) authenticated")
        let waiting = queue
        queue = []
        queuedPayloadBytes = 0
        for (index, message) in waiting.enumerated() {
            guard connection.stream.write(ReplicationMessageCodec.encode(message).encoded()) else {
                queue = Array(waiting[index...])
                queuedPayloadBytes = queue.reduce(0) { $0 + $1.payloadBytes }
                return shut(connection, reason: "the stream does not take more data", byPeer: false)
            }
        }
    }

    /// Any outbound failure: reports it (the first of a series as a
    /// warning, nil when it was reported already), then dials again after
    /// the backoff.
    private func outboundFailed(_ reason: String?) {
        outbound = .idle
        if !isClosed {
            let delayMs = redialDelayMs
            redialDelayMs = min(redialDelayMs * 2, Self.redialDelayMsMax)
            outbound = .waiting(LoopTimer(loop: loop, delayMs: delayMs) { [weak self] in self?.redialDue() })
        }
        let firstOfSeries = !outboundFailureReported
        outboundFailureReported = true
        // Logged last: the state above is complete whatever a log handler does.
        guard let reason else { return }
        if firstOfSeries {
            logger.warning("replication stream to \(peerName): \(reason); dialing again until it answers")
        } else {
            logger.debug("replication stream to \(peerName): \(reason)")
        }
    }

    private func redialDue() {
        guard case .waiting(let timer) = outbound else { return }
        timer.cancel()
        dial()
    }

    // MARK: Inbound

    private func startInbound(_ stream: RawStream, peer: String, reads: ReplicationReads) {
        guard !isClosed else {
            stream.close()
            return
        }
        if inboundHandshakes.count >= Self.inboundHandshakesMax, let oldest = inboundHandshakes.first {
            shut(oldest, reason: "\(Self.inboundHandshakesMax) replication streams were authenticating at once; the oldest makes room for a new one", byPeer: false)
        }
        let serverNonce = Crypto.randomBytes(ReplicationHandshake.nonceBytes)
        let connection = Connection(stream: stream, isOutbound: false, peer: peer, phase: .awaitingAuth(serverNonce: serverNonce), reads: reads)
        inboundHandshakes.append(connection)
        armDeadline(connection)
        stream.write(ReplicationHandshake.challenge(serverNonce: serverNonce).encoded())
        attach(connection, to: stream)
    }

    private func inboundOpened(_ connection: Connection, auth: ReplicationHandshake.Auth, serverNonce: [UInt8]) {
        connection.phase = .open
        disarmDeadline(connection)
        inboundHandshakes.removeAll { $0 === connection }
        let welcome = ReplicationHandshake.welcome(key: key, clientNonce: auth.clientNonce, serverNonce: serverNonce)
        connection.stream.write(welcome.encoded())
        if let older = inbound { shut(older, reason: "a newer stream from the peer replaced it", byPeer: false) }
        inbound = connection
        peerReads = connection.reads
        logger.info("replication stream from \(connection.peer) (node \(auth.nodeUUID), replication \(connection.reads)) authenticated")
        // The peer is back: this node's answers must reach it now, not after
        // the rest of a backoff, or a restarted peer hears nothing, takes
        // itself for alone and takes over.
        redialDelayMs = Self.redialDelayMsMin
        redialDue()
    }

    // MARK: Frames

    private func attach(_ connection: Connection, to stream: RawStream) {
        stream.onClose = { [weak self, weak connection] reason in
            guard let self, let connection else { return }
            self.shut(connection, reason: reason ?? "closed", byPeer: true)
        }
        stream.onData = { [weak self, weak connection] bytes in
            guard let self, let connection else { return }
            self.received(bytes, on: connection)
        }
        stream.startReading()
    }

    private func received(_ bytes: [UInt8], on connection: Connection) {
        guard !connection.isClosed else { return }
        let frames: [Frame]
        do {
            frames = try connection.decoder.feed(bytes)
        } catch {
            shut(connection, reason: "a bad frame (\(error))", byPeer: false)
            return
        }
        // A frame handler may close this stream (or the whole link, from
        // onMessage): nothing after that is handled.
        for frame in frames where !connection.isClosed {
            handle(frame, on: connection)
        }
    }

    private func handle(_ frame: Frame, on connection: Connection) {
        switch connection.phase {
        case .upgrading, .closed:
            preconditionFailure("a frame arrived on a stream in phase \(connection.phase)")
        case .awaitingChallenge:
            guard let serverNonce = try? ReplicationHandshake.serverNonce(fromChallenge: frame) else {
                return shut(connection, reason: "a frame of type \(frame.type) instead of a well-formed challenge", byPeer: false)
            }
            let clientNonce = Crypto.randomBytes(ReplicationHandshake.nonceBytes)
            connection.phase = .awaitingWelcome(serverNonce: serverNonce, clientNonce: clientNonce)
            connection.stream.write(ReplicationHandshake.auth(key: key, serverNonce: serverNonce, clientNonce: clientNonce,
                                                              nodeUUID: nodeUUID).encoded())
        case .awaitingWelcome(let serverNonce, let clientNonce):
            let proven: Bool
            do {
                proven = try ReplicationHandshake.welcomeProvesSecret(frame, key: key, clientNonce: clientNonce, serverNonce: serverNonce)
            } catch {
                return shut(connection, reason: "a frame of type \(frame.type) instead of a well-formed welcome", byPeer: false)
            }
            guard proven else {
                warnRefusal("refused the replication stream to \(connection.peer): the peer does not prove it holds this node's clusterSecret")
                return shut(connection, reason: nil, byPeer: false)
            }
            onPeerProven?(tls)
            outboundOpened(connection)
        case .awaitingAuth(let serverNonce):
            let auth: ReplicationHandshake.Auth
            do {
                auth = try ReplicationHandshake.parseAuth(frame)
            } catch {
                return shut(connection, reason: "a frame of type \(frame.type) instead of a well-formed auth", byPeer: false)
            }
            guard ReplicationHandshake.authProvesSecret(auth, key: key, serverNonce: serverNonce) else {
                warnRefusal("refused a replication stream from \(connection.peer) (node \(auth.nodeUUID)): it does not prove it holds this node's clusterSecret")
                return shut(connection, reason: nil, byPeer: false)
            }
            guard auth.nodeUUID != nodeUUID else {
                logger.warning("refused a replication stream from \(connection.peer): it comes from this node itself; the peer URL in servers must name the other node")
                return shut(connection, reason: nil, byPeer: false)
            }
            if let pairedPeer, !pairedPeer.admits(auth.nodeUUID) {
                warnRefusal("refused a replication stream from \(connection.peer) (node \(auth.nodeUUID)): this node is paired with node \(pairedPeer.uuid ?? "?") (\(pairedPeer.path)); another node holds the cluster secret, or the peer was rebuilt with a new data dir: if so, delete that file and restart this node")
                return shut(connection, reason: nil, byPeer: false)
            }
            inboundOpened(connection, auth: auth, serverNonce: serverNonce)
        case .open where connection.isOutbound:
            shut(connection, reason: "the peer sent a frame of type \(frame.type) on this node's one-way stream", byPeer: false)
        case .open:
            let message: ReplicationMessage
            do {
                message = try ReplicationMessageCodec.decode(frame)
            } catch {
                return shut(connection, reason: "a frame of type \(frame.type) that is not a valid replication message", byPeer: false)
            }
            onMessage(message)
        }
    }

    // MARK: Closing

    /// Closes a stream for good and forgets it; an outbound stream is dialed
    /// again unless the link is closed. Called again for the same stream
    /// (from its onClose), it does nothing.
    /// - Parameters:
    ///   - reason: why, for the log; nil when it was reported already or the
    ///     owner closed the link.
    ///   - byPeer: the other end ended it (rather than this node refusing it).
    private func shut(_ connection: Connection, reason: String?, byPeer: Bool) {
        guard !connection.isClosed else { return }
        let phase = connection.phase
        connection.phase = .closed
        disarmDeadline(connection)
        connection.stream.close()
        if connection.isOutbound {
            outboundShut(connection, phase: phase, reason: reason, byPeer: byPeer)
        } else {
            inboundShut(connection, phase: phase, reason: reason, byPeer: byPeer)
        }
    }

    private func outboundShut(_ connection: Connection, phase: Connection.Phase, reason: String?, byPeer: Bool) {
        guard case .stream(let current) = outbound, current === connection else { return }
        outbound = .idle
        guard !isClosed else { return }
        if byPeer, case .awaitingWelcome = phase {
            // A server refuses a wrong secret by closing the stream, so this
            // is the client's only sign of it: name the setting to check.
            warnRefusal("the peer at \(connection.peer) closed the replication stream instead of accepting this node's authentication; check that both nodes have the same clusterSecret")
            return outboundFailed(nil)
        }
        outboundFailed(reason.map { phase.isOpen ? "the stream was lost: \($0)" : "\($0) during the handshake" })
    }

    private func inboundShut(_ connection: Connection, phase: Connection.Phase, reason: String?, byPeer: Bool) {
        inboundHandshakes.removeAll { $0 === connection }
        if inbound === connection { inbound = nil }
        guard let reason else { return }
        if !phase.isOpen {
            // Before authentication anyone may connect: not worth a warning.
            logger.info("closed an unauthenticated replication stream from \(connection.peer): \(reason)")
        } else if byPeer {
            logger.info("the replication stream from \(connection.peer) ended: \(reason)")
        } else {
            logger.warning("closed the replication stream from \(connection.peer): \(reason)")
        }
    }

    private func armDeadline(_ connection: Connection) {
        connection.deadline = LoopTimer(loop: loop, delayMs: handshakeTimeoutMs) { [weak self, weak connection] in
            guard let self, let connection else { return }
            self.shut(connection, reason: "no completed handshake within \(self.handshakeTimeoutMs) ms", byPeer: false)
        }
    }

    private func disarmDeadline(_ connection: Connection) {
        connection.deadline?.cancel()
        connection.deadline = nil
    }

    private func warnRefusal(_ message: String) {
        refusalsTotal += 1
        let nowMs = loop.nowMs
        if let warnedAtMs = refusalWarnedAtMs, nowMs - warnedAtMs < Self.refusalWarningIntervalMs {
            refusalsUnwarned += 1
            return
        }
        let suppressed = refusalsUnwarned > 0 ? " (\(refusalsUnwarned) more refusals since the last warning)" : ""
        logger.warning("\(message)\(suppressed)")
        refusalWarnedAtMs = nowMs
        refusalsUnwarned = 0
    }
}
