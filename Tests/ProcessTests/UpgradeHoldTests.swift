import Foundation
@testable import ClusterNode
import LicenseState
import Logging
import LTSTestSupport
import Platform
import Replication
import Transport
import XCTest

/// A real primary and a standby that states it reads less than the
/// primary's log holds (here the test's own end of the replication link,
/// stating record tags up to 17, as an lts from before the cluster identity
/// record would): the primary streams it no record, only heartbeats, and
/// says so in its log and health; once the standby dials again stating what
/// this lts reads (it was upgraded), the log reaches it.
final class UpgradeHoldTests: XCTestCase {
    static let secret = "upgrade hold test secret 0123456789"
    static let standbyUUID = "5a1e0b1d-0000-4000-8000-00000000000b"

    func testAStandbyThatCannotReadTheLogIsHeldUntilItStatesItCan() throws {
        let harness = LoopHarness()
        let directory = NSTemporaryDirectory() + "lts-hold-\(UUID().uuidString)"
        let tls = directory + "/node/data/tls"
        try FileManager.default.createDirectory(atPath: tls, withIntermediateDirectories: true)
        _ = try SelfSignedCertificate.ensure(certificatePath: tls + "/node.crt", keyPath: tls + "/node.key", hostNames: ["127.0.0.1"])
        let nodeFingerprint = SelfSignedCertificate.parseFingerprint(try SelfSignedCertificate.fingerprint(certificatePath: tls + "/node.crt"))!
        let nodePort = try NodePair.freePort()
        let old = ReplicationReads(protocolVersion: 2, recordTagMax: 17, snapshotFormatMax: 4, schemaVersionMax: 5)
        var started: NodeProcess?
        defer { started?.stop() }
        harness.run(timeoutMs: 60_000) { h in
            let standby = try FakeStandby(harness: h, directory: directory, nodePort: nodePort, nodeFingerprint: nodeFingerprint)
            let node = try NodeProcess(config: [
                "serverMode": "main_standby", "servers": ["self", "https://127.0.0.1:\(standby.port)/dls/"],
                "listen": "127.0.0.1:\(nodePort)", "dataDir": "data", "clusterSecret": Self.secret,
                "peerFingerprint": try SelfSignedCertificate.fingerprint(certificatePath: standby.certificatePath),
            ], directory: directory + "/node")
            started = node
            standby.connect(stating: old)
            h.blocking({ () -> String? in
                do { try node.start() } catch { return "\(error)" }
                return node.waitForLogLine(containing: "it cannot read that, so it is held detached", timeoutSeconds: 30)
            }, then: { line in
                XCTAssertTrue(line?.contains("tag 18 at lsn 1") == true, line ?? node.logText)
                XCTAssertTrue(standby.heartbeats > 0, "the held standby hears the primary")
                XCTAssertEqual(standby.appendedLsns, [], "nothing it cannot read was streamed to it")
                h.blocking({
                    try? HTTPClient(trust: .pinnedSHA256(node.fingerprint)).send("GET", node.url("/api/health")).json?["peer"] as? [String: Any]
                }, then: { peer in
                    XCTAssertEqual(peer?["state"] as? String, "heldForUpgrade")
                    XCTAssertTrue((peer?["heldForUpgrade"] as? String)?.contains("record tags up to 17") == true, "\(peer ?? [:])")
                    // Upgraded: the standby dials again and states what this lts reads.
                    standby.onAppend = { lsns in
                        guard lsns.contains(1) else { return }
                        standby.close()
                        h.finish()
                    }
                    standby.connect(stating: ClusterDriver.ownReads)
                })
            })
        }
        XCTAssertEqual(started?.stop(), 0)
        started = nil
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// The test's end of a pair: an HTTPS server for the primary's stream and a
/// `ReplicationLink` that dials the primary stating the reads it is given,
/// and says hello (an empty log) as a standby does.
///
/// Invariant: one link at a time; `connect` closes the one before.
private final class FakeStandby {
    let port: Int
    let certificatePath: String
    private let harness: LoopHarness
    private let nodePort: Int
    private let nodeFingerprint: [UInt8]
    private var server: HTTPServer!
    private var link: ReplicationLink?
    private var helloTimer: LoopTimer?
    private var term: UInt64 = 1
    private var session: UInt64 = 100
    private(set) var heartbeats = 0
    private(set) var appendedLsns: [UInt64] = []
    var onAppend: (([UInt64]) -> Void)?

    init(harness: LoopHarness, directory: String, nodePort: Int, nodeFingerprint: [UInt8]) throws {
        self.harness = harness
        self.nodePort = nodePort
        self.nodeFingerprint = nodeFingerprint
        try FileManager.default.createDirectory(atPath: directory + "/standby", withIntermediateDirectories: true)
        certificatePath = directory + "/standby/node.crt"
        let keyPath = directory + "/standby/node.key"
        _ = try SelfSignedCertificate.ensure(certificatePath: certificatePath, keyPath: keyPath, hostNames: ["127.0.0.1"])
        var router = Router<HTTPServer.Route>()
        var dispatch: ((HTTPRequest) -> Void)?
        router.add("GET", "/cluster/stream", HTTPServer.Route { dispatch?($0) })
        let server = HTTPServer(loop: harness.loop, router: router, tls: try TLSServerContext(certificatePath: certificatePath, keyPath: keyPath, http2: false),
                                http2: false, bodyLimitBytesMax: 64 * 1024)
        port = try server.listen(host: "127.0.0.1", port: 0)
        self.server = server
        dispatch = { [unowned self] request in self.link?.accept(request) }
        harness.keep(self)
    }

    /// A new link to the primary, stating `reads`, saying hello every 100 ms.
    func connect(stating reads: ReplicationReads) {
        link?.close()
        session += 1
        let logger = Logger(label: "fake-standby") { _ in SwiftLogNoOpLogHandler() }
        let link = ReplicationLink(loop: harness.loop, peerURL: URLComponents(string: "https://127.0.0.1:\(nodePort)/dls/")!,
                                   tls: try! TLSClientContext(trust: .pinnedSHA256(nodeFingerprint)), clusterSecret: UpgradeHoldTests.secret,
                                   nodeUUID: UpgradeHoldTests.standbyUUID, logger: logger, ownReads: reads) { [unowned self] message in
            self.receive(message)
        }
        self.link = link
        helloTimer?.cancel()
        helloTimer = LoopTimer(loop: harness.loop, delayMs: 0, repeatMs: 100) { [unowned self] in
            self.link?.send(.hello(term: self.term, session: self.session, nodeIndex: 1, history: TermHistory()))
        }
    }

    private func receive(_ message: ReplicationMessage) {
        term = max(term, message.term)
        switch message {
        case .heartbeat:
            heartbeats += 1
        case .append(_, _, _, _, let entries, _):
            appendedLsns += entries.map(\.lsn)
            onAppend?(entries.map(\.lsn))
        default:
            break
        }
    }

    /// Stops saying hello and closes the link (the server goes with the harness's loop).
    func close() {
        helloTimer?.cancel()
        link?.close()
    }
}
