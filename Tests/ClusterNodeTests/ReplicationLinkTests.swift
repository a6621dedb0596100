@testable import ClusterNode
import Foundation
import LicenseState
import Logging
import LTSTestSupport
import Platform
import Replication
import Transport
import XCTest

/// The replication link over real TLS streams on one in-process loop: what
/// flows, what is refused, and that a refused stream delivers nothing.
/// Every wait is for an event on the loop (a delivery, a close, a log line);
/// the harness deadline only bounds a scenario that hangs.
///
/// Invariant: every scenario closes the links it made before it finishes,
/// so no stream or timer outlives it.
final class ReplicationLinkTests: XCTestCase {
    private static let secret = "correct horse battery staple"
    private static let otherSecret = "incorrect horse battery staple"
    private static let uuidA = "aaaaaaaa-0000-4000-8000-00000000000a"
    private static let uuidB = "bbbbbbbb-0000-4000-8000-00000000000b"

    // MARK: Flow

    func testMessagesOfEveryKindFlowInOrderBeforeAndAfterTheStreamIsUp() {
        let harness = LoopHarness()
        harness.run { h in
            let b = try Endpoint(harness: h)
            var delivered: [ReplicationMessage] = []
            let first = Self.everyKind(base: 1)
            let second = Self.everyKind(base: 100)
            var linkA: ReplicationLink!
            var linkB: ReplicationLink!
            linkB = try self.link(h, dialing: nil, uuid: Self.uuidB) { message in
                delivered.append(message)
                if delivered.count == first.count {
                    XCTAssertEqual(delivered, first)
                    XCTAssertTrue(linkA.isConnected)
                    for message in second { linkA.send(message) }
                } else if delivered.count == first.count + second.count {
                    XCTAssertEqual(delivered, first + second)
                    Self.end(h, linkA, linkB)
                }
            }
            b.receiver = linkB
            linkA = try self.link(h, dialing: b, uuid: Self.uuidA) { XCTFail("A received \($0)") }
            XCTAssertFalse(linkA.isConnected)
            // Sent before any stream exists: they wait in the queue.
            for message in first { linkA.send(message) }
        }
    }

    /// What a node reads travels with the stream it dials: the other end
    /// knows it once the stream is authenticated (`PeerUpgradeHold` decides
    /// from it what may be streamed back).
    func testTheReceiverLearnsWhatTheDialingNodeReads() {
        let harness = LoopHarness()
        harness.run { h in
            let b = try Endpoint(harness: h)
            let stated = ReplicationReads(protocolVersion: 3, recordTagMax: 30, snapshotFormatMax: 9, schemaVersionMax: 8)
            var linkA: ReplicationLink!
            var linkB: ReplicationLink!
            linkB = try self.link(h, dialing: nil, uuid: Self.uuidB) { _ in
                XCTAssertEqual(linkB.peerReads, stated)
                Self.end(h, linkA, linkB)
            }
            XCTAssertNil(linkB.peerReads, "nothing is known before a stream")
            b.receiver = linkB
            linkA = try self.link(h, dialing: b, uuid: Self.uuidA, ownReads: stated) { XCTFail("A received \($0)") }
            linkA.send(Self.heartbeat(1))
        }
    }

    func testWhileDialingOnlyTheNewestMessagesAreKept() {
        let harness = LoopHarness()
        harness.run { h in
            let b = try Endpoint(harness: h)
            let extra = 10
            let sent = (1...(ReplicationLink.queuedMessagesMax + extra)).map { Self.heartbeat(UInt64($0)) }
            let marker = Self.heartbeat(999_999)
            var delivered: [ReplicationMessage] = []
            var linkA: ReplicationLink!
            var linkB: ReplicationLink!
            linkB = try self.link(h, dialing: nil, uuid: Self.uuidB) { message in
                delivered.append(message)
                if delivered.count == ReplicationLink.queuedMessagesMax {
                    XCTAssertEqual(delivered, Array(sent.suffix(ReplicationLink.queuedMessagesMax)))
                    XCTAssertEqual(linkA.droppedMessagesTotal, extra)
                    linkA.send(marker)
                } else if message == marker {
                    XCTAssertEqual(delivered.count, ReplicationLink.queuedMessagesMax + 1, "messages arrived after the queue")
                    Self.end(h, linkA, linkB)
                }
            }
            b.receiver = linkB
            linkA = try self.link(h, dialing: b, uuid: Self.uuidA) { XCTFail("A received \($0)") }
            for message in sent { linkA.send(message) }
        }
    }

    func testTheOutboundSideRedialsAfterTheServerSideClosesTheStream() {
        let harness = LoopHarness()
        harness.run { h in
            let b = try Endpoint(harness: h)
            let logsA = LogSink()
            var linkA: ReplicationLink!
            var linkB2: ReplicationLink!
            let linkB1 = try self.link(h, dialing: nil, uuid: Self.uuidB) { message in
                XCTAssertEqual(message, Self.heartbeat(1))
                // The server side goes away (as a restarting node does) and
                // a new link takes the route.
                b.receiver?.close()
                linkB2 = try! self.link(h, dialing: nil, uuid: Self.uuidB) { message in
                    XCTAssertEqual(message, Self.heartbeat(2), "a message of the old stream arrived again, or one was lost")
                    XCTAssertTrue(linkA.isConnected)
                    Self.end(h, linkA, linkB2)
                }
                b.receiver = linkB2
            }
            b.receiver = linkB1
            logsA.onEntry = { entry in
                guard entry.level == .warning, entry.message.contains("the stream was lost") else { return }
                XCTAssertFalse(linkA.isConnected)
                linkA.send(Self.heartbeat(2))
            }
            linkA = try self.link(h, dialing: b, uuid: Self.uuidA, logs: logsA) { XCTFail("A received \($0)") }
            linkA.send(Self.heartbeat(1))
        }
    }

    func testANewerAuthenticatedInboundStreamReplacesTheOlderOne() {
        let harness = LoopHarness()
        harness.run { h in
            let b = try Endpoint(harness: h)
            var linkB: ReplicationLink!
            linkB = try self.link(h, dialing: nil, uuid: Self.uuidB) { message in
                XCTAssertEqual(message, Self.heartbeat(7))
                Self.end(h, linkB)
            }
            b.receiver = linkB
            self.authenticatedPeer(h, b) { older in
                var olderClosed = false
                var newer: RawPeer?
                // The server closes the older stream when the newer one
                // authenticates; the two events may reach this end in
                // either order.
                func sendWhenReplaced() {
                    guard olderClosed, let newer else { return }
                    newer.send(ReplicationMessageCodec.encode(Self.heartbeat(7)))
                }
                older.onClosed = {
                    XCTAssertNotNil(newer ?? nil, "the older stream closed before a newer one was even dialed")
                    olderClosed = true
                    sendWhenReplaced()
                }
                self.authenticatedPeer(h, b) { authenticated in
                    newer = authenticated
                    sendWhenReplaced()
                }
            }
        }
    }

    // MARK: Refusals

    func testAWrongSecretIsRefusedByBothSidesDeliversNothingAndIsLogged() {
        let harness = LoopHarness()
        harness.run { h in
            let b = try Endpoint(harness: h)
            let logsA = LogSink()
            let logsB = LogSink()
            var linkA: ReplicationLink!
            let linkB = try self.link(h, dialing: nil, uuid: Self.uuidB, secret: Self.otherSecret, logs: logsB) {
                XCTFail("B delivered \($0) from a stream with the wrong secret")
            }
            b.receiver = linkB
            var serverWarned = false
            var clientWarned = false
            func check() {
                guard serverWarned, clientWarned else { return }
                XCTAssertFalse(linkA.isConnected)
                XCTAssertGreaterThanOrEqual(linkA.refusalsTotal, 1)
                XCTAssertGreaterThanOrEqual(linkB.refusalsTotal, 1)
                for entry in logsA.entries + logsB.entries {
                    XCTAssertFalse(entry.message.contains(Self.secret) || entry.message.contains(Self.otherSecret), "a secret was logged: \(entry.message)")
                }
                Self.end(h, linkA, linkB)
            }
            logsB.onEntry = { entry in
                guard entry.level == .warning, entry.message.contains("clusterSecret") else { return }
                XCTAssertTrue(entry.message.contains("127.0.0.1"), "the warning does not name the peer: \(entry.message)")
                XCTAssertTrue(entry.message.contains(Self.uuidA), "the warning does not name the peer node: \(entry.message)")
                serverWarned = true
                check()
            }
            logsA.onEntry = { entry in
                guard entry.level == .warning, entry.message.contains("clusterSecret") else { return }
                XCTAssertTrue(entry.message.contains("127.0.0.1:\(b.port)"), "the warning does not name the peer: \(entry.message)")
                clientWarned = true
                check()
            }
            linkA = try self.link(h, dialing: b, uuid: Self.uuidA, logs: logsA) { XCTFail("A received \($0)") }
            linkA.send(Self.heartbeat(1))
        }
    }

    func testAServerThatCannotProveTheSecretGetsNoMessages() {
        let harness = LoopHarness()
        harness.run { h in
            let b = try Endpoint(harness: h)
            let logsA = LogSink()
            var linkA: ReplicationLink!
            var clientWarned = false
            var serverSawClose = false
            func check() {
                guard clientWarned, serverSawClose else { return }
                XCTAssertFalse(linkA.isConnected)
                Self.end(h, linkA)
            }
            // A server that does not hold the secret but answers anyway, with
            // a welcome made under another key.
            b.route = { request in
                request.upgrade(to: ReplicationHandshake.protocolName) { stream in
                    guard let stream else { return XCTFail("the upgrade failed") }
                    let serverNonce = Crypto.randomBytes(ReplicationHandshake.nonceBytes)
                    let peer = RawPeer(stream)
                    peer.onFrame = { frame in
                        guard let auth = try? ReplicationHandshake.parseAuth(frame) else { return XCTFail("after the welcome, A sent frame type \(frame.type)") }
                        let wrongKey = ReplicationHandshake.key(clusterSecret: Self.otherSecret)
                        peer.send(ReplicationHandshake.welcome(key: wrongKey, clientNonce: auth.clientNonce, serverNonce: serverNonce))
                    }
                    peer.onClosed = {
                        serverSawClose = true
                        check()
                    }
                    peer.send(ReplicationHandshake.challenge(serverNonce: serverNonce))
                    peer.start()
                }
            }
            logsA.onEntry = { entry in
                guard entry.level == .warning, entry.message.contains("does not prove it holds") else { return }
                XCTAssertTrue(entry.message.contains("127.0.0.1:\(b.port)"), entry.message)
                XCTAssertEqual(linkA.refusalsTotal, 1)
                clientWarned = true
                check()
            }
            linkA = try self.link(h, dialing: b, uuid: Self.uuidA, logs: logsA) { XCTFail("A received \($0)") }
            linkA.send(Self.heartbeat(1))
        }
    }

    func testALinkDialingItselfIsRefused() {
        let harness = LoopHarness()
        harness.run { h in
            let a = try Endpoint(harness: h)
            let logs = LogSink()
            var linkA: ReplicationLink!
            logs.onEntry = { entry in
                guard entry.level == .warning, entry.message.contains("this node itself") else { return }
                XCTAssertFalse(linkA.isConnected)
                Self.end(h, linkA)
            }
            linkA = try self.link(h, dialing: a, uuid: Self.uuidA, logs: logs) { XCTFail("delivered its own message \($0)") }
            a.receiver = linkA
            linkA.send(Self.heartbeat(1))
        }
    }

    func testARequestWithoutTheUpgradeHeaderGets426JSON() {
        let harness = LoopHarness()
        harness.run { h in
            let b = try Endpoint(harness: h)
            let linkB = try self.link(h, dialing: nil, uuid: Self.uuidB) { XCTFail("delivered \($0)") }
            b.receiver = linkB
            let client = HTTPClient(trust: .pinnedSHA256(b.fingerprint))
            h.blocking({ try? client.send("GET", "https://127.0.0.1:\(b.port)/lts/cluster/stream") }, then: { response in
                XCTAssertEqual(response?.status, 426)
                XCTAssertEqual(response?.headers["content-type"], "application/json")
                XCTAssertEqual(response?.json?["code"] as? Int, -20400)
                XCTAssertEqual(response?.json?["code"] as? Int, ReplicationLink.upgradeRequired.code)
                XCTAssertEqual(response?.headers["upgrade"], ReplicationHandshake.protocolName)
                Self.end(h, linkB)
            })
        }
    }

    func testGarbageBeforeOrAfterAuthenticationClosesTheStreamAndDeliversNothing() {
        let harness = LoopHarness()
        harness.run { h in
            let b = try Endpoint(harness: h)
            let linkB = try self.link(h, dialing: nil, uuid: Self.uuidB) { XCTFail("delivered \($0) from garbage") }
            b.receiver = linkB
            // Not a frame: a length far over frameBytesMax.
            let garbage = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8) + Crypto.randomBytes(512)
            self.upgradedPeer(h, b) { peer in
                peer.onClosed = {
                    self.authenticatedPeer(h, b) { peer in
                        peer.onClosed = { Self.end(h, linkB) }
                        peer.stream.write(garbage)
                    }
                }
                peer.stream.write(garbage)
                peer.start()
            }
        }
    }

    func testATruncatedFrameThenCloseDeliversNothingOfIt() {
        let harness = LoopHarness()
        harness.run { h in
            let b = try Endpoint(harness: h)
            var delivered: [ReplicationMessage] = []
            var first: RawPeer?
            var linkB: ReplicationLink!
            linkB = try self.link(h, dialing: nil, uuid: Self.uuidB) { message in
                delivered.append(message)
                if message == Self.heartbeat(1), let first {
                    // All of the frame but its last three bytes, then the end.
                    first.stream.write(Array(ReplicationMessageCodec.encode(Self.heartbeat(2)).encoded().dropLast(3)))
                    first.stream.close()
                    self.authenticatedPeer(h, b) { $0.send(ReplicationMessageCodec.encode(Self.heartbeat(3))) }
                } else if message == Self.heartbeat(3) {
                    XCTAssertEqual(delivered, [Self.heartbeat(1), Self.heartbeat(3)])
                    Self.end(h, linkB)
                }
            }
            b.receiver = linkB
            self.authenticatedPeer(h, b) { authenticated in
                first = authenticated
                authenticated.send(ReplicationMessageCodec.encode(Self.heartbeat(1)))
            }
        }
    }

    func testABadFrameAfterAuthenticationClosesTheStreamAndNothingAfterItIsDelivered() {
        var corrupt = ReplicationMessageCodec.encode(Self.heartbeat(2)).encoded()
        corrupt[6] ^= 0xFF
        let cases: [(String, [UInt8])] = [
            ("a corrupt CRC", corrupt),
            ("a message that does not decode", Frame(type: ReplicationMessageCodec.FrameType.heartbeat.rawValue, payload: [1]).encoded()),
            ("a message with trailing bytes", Frame(type: 3, payload: ReplicationMessageCodec.encode(Self.heartbeat(2)).payload + [0]).encoded()),
            ("a handshake frame", ReplicationHandshake.challenge(serverNonce: Crypto.randomBytes(ReplicationHandshake.nonceBytes)).encoded()),
            ("an unknown frame type", Frame(type: 200, payload: []).encoded()),
            ("an empty frame", [0, 0, 0, 0, 0, 0, 0, 0]),
        ]
        for (name, bad) in cases {
            let harness = LoopHarness()
            harness.run { h in
                let b = try Endpoint(harness: h)
                var delivered: [ReplicationMessage] = []
                var peer: RawPeer?
                let linkB = try self.link(h, dialing: nil, uuid: Self.uuidB) { message in
                    delivered.append(message)
                    guard let peer, message == Self.heartbeat(1) else { return XCTFail("\(name): delivered \(message)") }
                    // Delivered on its own first, so the bad frame cannot
                    // share a read with it.
                    peer.stream.write(bad + ReplicationMessageCodec.encode(Self.heartbeat(3)).encoded())
                }
                b.receiver = linkB
                self.authenticatedPeer(h, b) { authenticated in
                    peer = authenticated
                    authenticated.onClosed = {
                        XCTAssertEqual(delivered, [Self.heartbeat(1)], name)
                        Self.end(h, linkB)
                    }
                    authenticated.send(ReplicationMessageCodec.encode(Self.heartbeat(1)))
                }
            }
        }
    }

    func testAHandshakeThatDoesNotCompleteInTimeIsClosedOnBothSides() {
        let timeoutMs: UInt64 = 150
        let harness = LoopHarness()
        harness.run { h in
            let b = try Endpoint(harness: h)
            let linkB = try self.link(h, dialing: nil, uuid: Self.uuidB, handshakeTimeoutMs: timeoutMs) { XCTFail("delivered \($0)") }
            b.receiver = linkB
            // Server side: a client that upgrades and never authenticates.
            self.upgradedPeer(h, b) { silent in
                let upgradedAtMs = h.loop.nowMs
                var challenged = false
                silent.onFrame = { challenged = $0.type == ReplicationHandshake.FrameType.challenge.rawValue }
                silent.onClosed = {
                    XCTAssertTrue(challenged)
                    XCTAssertGreaterThanOrEqual(h.loop.nowMs - upgradedAtMs, timeoutMs - 10)
                    // Client side: a server that upgrades and never challenges;
                    // the client gives up and dials again.
                    var upgrades = 0
                    var linkA: ReplicationLink!
                    b.route = { request in
                        upgrades += 1
                        if upgrades == 2 {
                            XCTAssertFalse(linkA.isConnected)
                            request.respond(status: 503, body: Data())
                            return Self.end(h, linkA, linkB)
                        }
                        request.upgrade(to: ReplicationHandshake.protocolName) { $0?.startReading() }
                    }
                    linkA = try! self.link(h, dialing: b, uuid: Self.uuidA, handshakeTimeoutMs: timeoutMs) { XCTFail("A received \($0)") }
                    linkA.send(Self.heartbeat(1))
                }
                silent.start()
            }
        }
    }

    // MARK: Handshake frames

    func testHandshakeFramesRoundTripAndRefuseWhatIsMalformed() throws {
        let key = ReplicationHandshake.key(clusterSecret: Self.secret)
        let serverNonce = Crypto.randomBytes(ReplicationHandshake.nonceBytes)
        let clientNonce = Crypto.randomBytes(ReplicationHandshake.nonceBytes)
        XCTAssertEqual(try ReplicationHandshake.serverNonce(fromChallenge: ReplicationHandshake.challenge(serverNonce: serverNonce)), serverNonce)

        let authFrame = ReplicationHandshake.auth(key: key, serverNonce: serverNonce, clientNonce: clientNonce, nodeUUID: Self.uuidA)
        XCTAssertFalse(authFrame.payload.containsSlice(Array(Self.secret.utf8)), "the secret is on the wire")
        let auth = try ReplicationHandshake.parseAuth(authFrame)
        XCTAssertEqual(auth.nodeUUID, Self.uuidA)
        XCTAssertTrue(ReplicationHandshake.authProvesSecret(auth, key: key, serverNonce: serverNonce))
        XCTAssertFalse(ReplicationHandshake.authProvesSecret(auth, key: ReplicationHandshake.key(clusterSecret: Self.otherSecret), serverNonce: serverNonce))
        XCTAssertFalse(ReplicationHandshake.authProvesSecret(auth, key: key, serverNonce: clientNonce), "an auth for another challenge passed")

        let welcome = ReplicationHandshake.welcome(key: key, clientNonce: clientNonce, serverNonce: serverNonce)
        XCTAssertTrue(try ReplicationHandshake.welcomeProvesSecret(welcome, key: key, clientNonce: clientNonce, serverNonce: serverNonce))
        XCTAssertFalse(try ReplicationHandshake.welcomeProvesSecret(welcome, key: key, clientNonce: serverNonce, serverNonce: clientNonce))
        // The client's MAC sent back as a welcome is not a server proof.
        var reflected = BinaryWriter()
        reflected.data(auth.mac)
        XCTAssertFalse(try ReplicationHandshake.welcomeProvesSecret(Frame(type: ReplicationHandshake.FrameType.welcome.rawValue, payload: reflected.bytes),
                                                                     key: key, clientNonce: clientNonce, serverNonce: serverNonce))

        func craftedAuth(nonce: [UInt8], uuid: String, mac: [UInt8], trailing: [UInt8] = []) -> Frame {
            var writer = BinaryWriter()
            writer.data(nonce)
            writer.string(uuid)
            writer.data(mac)
            return Frame(type: ReplicationHandshake.FrameType.auth.rawValue, payload: writer.bytes + trailing)
        }
        let malformed: [Frame] = [
            craftedAuth(nonce: Array(clientNonce.dropLast()), uuid: Self.uuidA, mac: auth.mac),
            craftedAuth(nonce: clientNonce, uuid: "", mac: auth.mac),
            craftedAuth(nonce: clientNonce, uuid: "node\nforged log line", mac: auth.mac),
            craftedAuth(nonce: clientNonce, uuid: String(repeating: "a", count: ReplicationHandshake.nodeUUIDBytesMax + 1), mac: auth.mac),
            craftedAuth(nonce: clientNonce, uuid: Self.uuidA, mac: auth.mac + [0]),
            craftedAuth(nonce: clientNonce, uuid: Self.uuidA, mac: auth.mac, trailing: [0]),
            Frame(type: ReplicationHandshake.FrameType.challenge.rawValue, payload: authFrame.payload),
            Frame(type: ReplicationHandshake.FrameType.auth.rawValue, payload: Array(authFrame.payload.dropLast())),
        ]
        for frame in malformed {
            XCTAssertThrowsError(try ReplicationHandshake.parseAuth(frame), "accepted \(frame)")
        }
        XCTAssertThrowsError(try ReplicationHandshake.serverNonce(fromChallenge: welcome))
        XCTAssertThrowsError(try ReplicationHandshake.welcomeProvesSecret(Frame(type: ReplicationHandshake.FrameType.welcome.rawValue, payload: welcome.payload + [0]),
                                                                          key: key, clientNonce: clientNonce, serverNonce: serverNonce))
    }

    // MARK: Helpers

    /// Messages of all eight kinds, with field values offset by `base`.
    private static func everyKind(base: UInt64) -> [ReplicationMessage] {
        let entries = [ReplicatedEntry(lsn: base + 1, term: 2, payload: [1, 2, 3]), ReplicatedEntry(lsn: base + 2, term: 3, payload: [])]
        let history = TermHistory(starts: [.init(term: 1, lsn: 1), .init(term: 2, lsn: base + 1)], lastLsn: base + 2)!
        return [
            .hello(term: 3, session: base, nodeIndex: 1, history: history),
            .append(term: 3, session: base, prevLsn: base, prevTerm: 1, entries: entries, commitLsn: base),
            .heartbeat(term: 3, session: base, commitLsn: base + 1, sentLsn: base + 2),
            .ack(term: 3, session: base, flushedLsn: base + 2),
            .diverged(term: 3, session: base, matchLsn: base - 1),
            .reconcile(term: 3, session: base, entries: entries),
            .reconciled(term: 3, session: base, throughLsn: base + 2),
            .handover(term: 3, session: base, lastLsn: base + 2),
        ]
    }

    private static func heartbeat(_ n: UInt64) -> ReplicationMessage {
        .heartbeat(term: 1, session: 1, commitLsn: n, sentLsn: n)
    }

    /// A link that dials `peer` (or an address it never dials, when the
    /// test only receives with it).
    private func link(_ h: LoopHarness, dialing peer: Endpoint?, uuid: String, secret: String = ReplicationLinkTests.secret,
                      logs: LogSink = LogSink(), handshakeTimeoutMs: UInt64 = ReplicationLink.handshakeTimeoutMs,
                      ownReads: ReplicationReads = ClusterDriver.ownReads,
                      onMessage: @escaping (ReplicationMessage) -> Void) throws -> ReplicationLink {
        let port = peer?.port ?? 1
        let tls = try TLSClientContext(trust: .pinnedSHA256(peer?.fingerprint ?? [UInt8](repeating: 0, count: 32)))
        let logger = Logger(label: uuid) { LogHandlerForTests(label: $0, sink: logs) }
        return ReplicationLink(loop: h.loop, peerURL: URLComponents(string: "https://127.0.0.1:\(port)/dls/")!, tls: tls,
                               clusterSecret: secret, nodeUUID: uuid, logger: logger, ownReads: ownReads,
                               handshakeTimeoutMs: handshakeTimeoutMs, onMessage: onMessage)
    }

    /// Closes the links (their streams and timers) and ends the scenario.
    private static func end(_ h: LoopHarness, _ links: ReplicationLink...) {
        for link in links { link.close() }
        h.finish()
    }

    /// A TLS stream to the endpoint's replication route, upgraded.
    private func upgradedPeer(_ h: LoopHarness, _ endpoint: Endpoint, then: @escaping (RawPeer) -> Void) {
        let tls = try! TLSClientContext(trust: .pinnedSHA256(endpoint.fingerprint))
        StreamConnector.connect(loop: h.loop, host: "127.0.0.1", port: endpoint.port, tls: tls, timeoutMs: 5_000) { connected in
            guard case .success(let raw) = connected else {
                XCTFail("connect failed: \(connected)")
                return h.finish()
            }
            UpgradeClient.upgrade(stream: raw, host: "127.0.0.1", path: "/dls/cluster/stream",
                                  protocolName: ReplicationHandshake.protocolName) { upgraded in
                guard case .success(let (stream, _)) = upgraded else {
                    XCTFail("upgrade failed: \(upgraded)")
                    return h.finish()
                }
                then(RawPeer(stream))
            }
        }
    }

    /// An upgraded stream that completed the client handshake with `secret`
    /// and checked the server's proof; reading is started.
    private func authenticatedPeer(_ h: LoopHarness, _ endpoint: Endpoint, secret: String = ReplicationLinkTests.secret,
                                   then: @escaping (RawPeer) -> Void) {
        upgradedPeer(h, endpoint) { peer in
            let key = ReplicationHandshake.key(clusterSecret: secret)
            let clientNonce = Crypto.randomBytes(ReplicationHandshake.nonceBytes)
            var serverNonce: [UInt8]?
            peer.onClosed = {
                XCTFail("the server closed the stream during the handshake")
                h.finish()
            }
            peer.onFrame = { frame in
                if let nonce = serverNonce {
                    XCTAssertEqual(try? ReplicationHandshake.welcomeProvesSecret(frame, key: key, clientNonce: clientNonce, serverNonce: nonce), true)
                    peer.onFrame = { XCTFail("the server sent frame type \($0.type) after the welcome") }
                    peer.onClosed = nil
                    then(peer)
                } else {
                    guard let nonce = try? ReplicationHandshake.serverNonce(fromChallenge: frame) else { return XCTFail("no challenge first") }
                    serverNonce = nonce
                    peer.send(ReplicationHandshake.auth(key: key, serverNonce: nonce, clientNonce: clientNonce, nodeUUID: Self.uuidA))
                }
            }
            peer.start()
        }
    }
}

// MARK: - Test fixtures

extension ReplicationLinkTests {
    /// One node's server side: HTTPS on a loopback port with a self-signed
    /// certificate, whose `/cluster/stream` route goes to `route`, by
    /// default to `receiver.accept`.
    ///
    /// Invariant: lives (kept by the harness) until the scenario ends.
    fileprivate final class Endpoint {
        let directory: String
        let fingerprint: [UInt8]
        let port: Int
        private var server: HTTPServer!
        var receiver: ReplicationLink?
        var route: ((HTTPRequest) -> Void)?

        init(harness: LoopHarness) throws {
            directory = NSTemporaryDirectory() + "lts-link-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let certificatePath = directory + "/node.crt"
            let keyPath = directory + "/node.key"
            try SelfSignedCertificate.ensure(certificatePath: certificatePath, keyPath: keyPath, hostNames: ["localhost"])
            fingerprint = SelfSignedCertificate.parseFingerprint(try SelfSignedCertificate.fingerprint(certificatePath: certificatePath))!
            let tls = try TLSServerContext(certificatePath: certificatePath, keyPath: keyPath, http2: false)
            var router = Router<HTTPServer.Route>()
            var dispatch: ((HTTPRequest) -> Void)?
            router.add("GET", "/cluster/stream", HTTPServer.Route { dispatch?($0) })
            let server = HTTPServer(loop: harness.loop, router: router, tls: tls, http2: false, bodyLimitBytesMax: 64 * 1024)
            port = try server.listen(host: "127.0.0.1", port: 0)
            self.server = server
            dispatch = { [unowned self] request in
                if let route = self.route { return route(request) }
                guard let receiver = self.receiver else { return XCTFail("a stream request arrived with no receiver") }
                receiver.accept(request)
            }
            harness.keep(self)
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// A test's own end of an upgraded stream: writes frames, reads frames.
    ///
    /// Invariant: frames are handed to `onFrame` only after `start()`, in
    /// order; a stream the decoder refuses counts as closed by the test.
    fileprivate final class RawPeer {
        let stream: RawStream
        private var decoder = FrameDecoder()
        var onFrame: ((Frame) -> Void)?
        var onClosed: (() -> Void)?

        init(_ stream: RawStream) { self.stream = stream }

        /// Starts reading; bytes that arrived with the `101` come first.
        func start() {
            stream.onClose = { _ in self.onClosed?() }
            stream.onData = { bytes in
                guard let frames = try? self.decoder.feed(bytes) else {
                    XCTFail("the link sent a bad frame")
                    return self.stream.close()
                }
                for frame in frames { self.onFrame?(frame) }
            }
            stream.startReading()
        }

        func send(_ frame: Frame) {
            stream.write(frame.encoded())
        }
    }

    /// Log lines kept for a test, with a hook called (on the logging
    /// thread, here the loop) for each.
    ///
    /// Invariant: `entries` holds every line in the order it was logged.
    fileprivate final class LogSink: @unchecked Sendable {
        struct Entry {
            let level: Logger.Level
            let message: String
        }

        private let lock = NSLock()
        private var kept: [Entry] = []
        var onEntry: ((Entry) -> Void)?

        var entries: [Entry] { lock.withLock { kept } }

        func add(_ entry: Entry) {
            lock.withLock { kept.append(entry) }
            onEntry?(entry)
        }
    }

    /// A swift-log handler that writes into a `LogSink`.
    ///
    /// Invariant: passes on every level, so a test sees what a node would
    /// log at any configured level.
    fileprivate struct LogHandlerForTests: LogHandler {
        let label: String
        let sink: LogSink
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            sink.add(LogSink.Entry(level: event.level, message: event.message.description))
        }
    }
}

private extension Array where Element == UInt8 {
    func containsSlice(_ slice: [UInt8]) -> Bool {
        guard !slice.isEmpty, slice.count <= count else { return slice.isEmpty }
        return (0...(count - slice.count)).contains { Array(self[$0..<($0 + slice.count)]) == slice }
    }
}
