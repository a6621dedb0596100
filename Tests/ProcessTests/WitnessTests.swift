import Foundation
@testable import OperatorTools
@testable import ClusterNode
import LTSTestSupport
import Platform
import Transport
import XCTest

/// A pair with a witness (`lts witness`), all real processes: a dead or
/// restarted witness changes nothing for a healthy pair; a killed primary
/// is replaced by the witness's grant; a cut between the nodes leaves one
/// writer; a primary cut from its standby and the witness stops answering
/// before the standby starts, and nothing acknowledged is lost.
final class WitnessTests: XCTestCase {
    /// `NodePair`'s cluster secret, which the witness shares.
    static let clusterSecret = "pair test secret 0123456789"

    /// Starts `lts witness` on `listen` (an address, or 0.0.0.0 for a
    /// witness the nodes reach through their namespaces' links).
    private func startWitness(listen: String = "127.0.0.1") throws -> NodeProcess {
        let port = try NodePair.freePort()
        let witness = try NodeProcess(config: ["listen": "\(listen):\(port)", "dataDir": "data", "clusterSecret": Self.clusterSecret],
                                      host: listen)
        try witness.start(arguments: ["witness", "--config", witness.configPath])
        XCTAssertFalse(witness.fingerprint.isEmpty, "the witness logs its certificate's fingerprint")
        return witness
    }

    /// A node's `witness` setting for a witness reached at `host`.
    private func setting(_ witness: NodeProcess, reachedAt host: String) -> [String: Any] {
        ["url": "https://\(host):\(witness.port)/", "fingerprint": witness.fingerprint.map { String(format: "%02X", $0) }.joined(separator: ":")]
    }

    /// A witness in the test's namespace and a pair in `network`, each node
    /// reaching the witness over its own link (so that it can be cut), the
    /// primary answering alone 500 ms after losing its standby.
    private func pairWithWitness(in network: NetworkNamespaces) throws -> (witness: NodeProcess, pair: NodePair) {
        let witness = try startWitness(listen: "0.0.0.0")
        let pair = try NodePair(extraConfig: ["degradeAfterMs": 500],
                                perNode: [0: ["witness": setting(witness, reachedAt: network.hostAddress(0))],
                                          1: ["witness": setting(witness, reachedAt: network.hostAddress(1))]],
                                network: network)
        return (witness, pair)
    }

    private func witnessHealth(_ pair: NodePair, _ index: Int) -> [String: Any]? {
        pair.health(index)?["witness"] as? [String: Any]
    }

    func testADeadOrRestartedWitnessNeverStopsAHealthyPair() throws {
        let witness = try startWitness()
        let pair = try NodePair(extraConfig: ["witness": setting(witness, reachedAt: "127.0.0.1")])
        let (_, load) = try pair.startUnderLoad()
        XCTAssertNotNil(pair.nodes[0].waitForLogLine(containing: "partition behaviour: witness", timeoutSeconds: 1))
        try pair.wait(for: "both nodes to reach the witness and the primary to hold its lease") {
            witnessHealth(pair, 0)?["reachable"] as? Bool == true && witnessHealth(pair, 1)?["reachable"] as? Bool == true
                && witnessHealth(pair, 0)?["lease"] as? Bool == true
        }
        let term = try XCTUnwrap(pair.health(0)?["term"] as? Int)

        witness.stop(signal: SIGKILL)
        try pair.wait(for: "both nodes to find the witness gone") {
            witnessHealth(pair, 0)?["reachable"] as? Bool == false && witnessHealth(pair, 1)?["reachable"] as? Bool == false
        }
        load.resetGap()
        XCTAssertTrue(load.waitForMore(300), "the attached pair serves on its standby's acknowledgements")
        XCTAssertEqual(witnessHealth(pair, 0)?["lease"] as? Bool, false, "no lease without the witness")
        let metrics = try pair.client(0).send("GET", pair.nodes[0].url("/metrics"))
        XCTAssertTrue(String(decoding: metrics.body, as: UTF8.self).contains("lts_witness_reachable 0"))

        try witness.start(arguments: ["witness", "--config", witness.configPath])
        XCTAssertNotNil(witness.waitForLogLine(containing: "term \(term) held by node 0", timeoutSeconds: 5),
                        "the witness restarts from its state:\n\(witness.logText)")
        try pair.wait(for: "the primary to hold its lease again") { witnessHealth(pair, 0)?["lease"] as? Bool == true }
        XCTAssertTrue(load.waitForMore(200))
        XCTAssertEqual((0..<2).map { pair.health($0)?["term"] as? Int }, [term, term], "nothing the witness did changed the term")
        XCTAssertEqual(pair.health(0)?["role"] as? String, "primary")
        try pair.assertBothHold(load.stop().acknowledged)
    }

    func testAWitnessThatRenewedItsCertificateStaysTrustedByItsKey() throws {
        let witness = try startWitness()
        let pair = try NodePair(extraConfig: ["witness": setting(witness, reachedAt: "127.0.0.1")])
        _ = try pair.startBoth()
        try pair.wait(for: "the primary to hold its lease") { witnessHealth(pair, 0)?["lease"] as? Bool == true }
        XCTAssertNotNil(pair.nodes[0].waitForLogLine(containing: "learned the witness's TLS key", timeoutSeconds: 5))
        // What the witness does 30 days before its certificate expires.
        witness.stop()
        try pair.wait(for: "the primary to find the witness gone") { witnessHealth(pair, 0)?["reachable"] as? Bool == false }
        let tls = witness.directory + "/data/tls"
        let (old, new) = try ServerCertificate.renew(certificatePath: tls + "/node.crt", keyPath: tls + "/node.key", hostNames: ["127.0.0.1"])
        try witness.start(arguments: ["witness", "--config", witness.configPath])
        XCTAssertEqual(witness.fingerprint, SelfSignedCertificate.parseFingerprint(new), "the witness serves the renewed certificate")
        try pair.wait(for: "the primary to hold its lease from the renewed witness") {
            witnessHealth(pair, 0)?["reachable"] as? Bool == true && witnessHealth(pair, 0)?["lease"] as? Bool == true
        }
        let line = try XCTUnwrap(pair.nodes[0].waitForLogLine(containing: "the witness presents the TLS certificate", timeoutSeconds: 5))
        XCTAssertTrue(line.contains(new) && line.contains(old), line)
    }

    func testAKilledPrimaryIsReplacedByTheWitnessGrant() throws {
        let witness = try startWitness()
        let pair = try NodePair(extraConfig: ["witness": setting(witness, reachedAt: "127.0.0.1")])
        let (_, load) = try pair.startUnderLoad()
        let term = try XCTUnwrap(pair.health(0)?["term"] as? Int)

        load.resetGap()
        pair.nodes[0].stop(signal: SIGKILL)
        try pair.waitForRole(1, "primary")
        XCTAssertNotNil(witness.waitForLogLine(containing: "granted term \(term + 1) to node 1", timeoutSeconds: 5), witness.logText)
        XCTAssertTrue(load.waitForMore(200), "the load follows to the new primary")
        print("kill -9 with a witness: the longest gap between grants was \(Int(load.largestGap * 1_000)) ms")
        XCTAssertLessThan(load.largestGap, PartitionTests.takeoverGapSecondsMax, "the load stalled too long")

        try pair.nodes[0].start()
        try pair.wait(for: "the old primary to rejoin as standby") {
            pair.health(0)?["role"] as? String == "standby" && (pair.health(0)?["peer"] as? [String: Any])?["state"] as? String == "attached"
        }
        try pair.assertBothHold(load.stop().acknowledged)
    }

    /// etcd as the witness: the pair forms through it, and a killed primary
    /// is replaced once its etcd lease ran out (whole seconds: slower than
    /// with `lts witness`).
    func testAnEtcdWitnessDecidesTheTakeover() throws {
        if let reason = EtcdProcess.unavailableReason { throw XCTSkip(reason) }
        let etcd = try EtcdProcess()
        let prefix = "/lts/pair-\(UUID().uuidString.prefix(8))"
        let pair = try NodePair(extraConfig: ["witness": ["etcd": [etcd.clientURL], "keyPrefix": prefix]])
        let (_, load) = try pair.startUnderLoad()
        try pair.wait(for: "both nodes to reach etcd and the primary to hold its lease") {
            witnessHealth(pair, 0)?["lease"] as? Bool == true && witnessHealth(pair, 1)?["reachable"] as? Bool == true
        }
        let term = try XCTUnwrap(pair.health(0)?["term"] as? Int)
        let calls = EtcdCalls(client: HTTPClient(timeoutMs: 2_000), endpoints: [etcd.clientURL])
        XCTAssertEqual(try calls.read(prefix: prefix).holder, EtcdWitnessRules.Holder(node: 0, term: UInt64(term)))

        load.resetGap()
        pair.nodes[0].stop(signal: SIGKILL)
        try pair.waitForRole(1, "primary")
        XCTAssertEqual(try calls.read(prefix: prefix).term, UInt64(term + 1), "the new term is etcd's grant")
        XCTAssertTrue(load.waitForMore(200), "the load follows to the new primary")
        print("kill -9 with an etcd witness: the longest gap between grants was \(Int(load.largestGap * 1_000)) ms")
        XCTAssertLessThan(load.largestGap, PartitionTests.takeoverGapSecondsMax, "the load stalled too long")
        try pair.nodes[0].start()
        try pair.wait(for: "the old primary to rejoin as standby") {
            (pair.health(0)?["peer"] as? [String: Any])?["state"] as? String == "attached"
        }
        try pair.assertBothHold(load.stop().acknowledged)
    }

    /// The link between the nodes cut; both still reach the witness: the
    /// primary keeps its lease and serves (alone, once degraded), the
    /// standby is refused every term it claims.
    func testACutBetweenTheNodesLeavesOneWriter() throws {
        if let reason = NetworkNamespaces.unavailableReason { throw XCTSkip(reason) }
        let network = try NetworkNamespaces()
        defer { network.remove() }
        let (witness, pair) = try pairWithWitness(in: network)
        let (code, load) = try pair.startUnderLoad()
        let term = try XCTUnwrap(pair.health(0)?["term"] as? Int)

        try network.partition()
        try pair.wait(for: "the primary to answer alone, on its lease") { pair.health(0)?["degraded"] as? Bool == true }
        XCTAssertTrue(load.waitForMore(200), "the primary serves during the cut")
        // Three failover timeouts: the standby claims, and is refused, again and again.
        let sides = SideCalls(pair: pair, code: code)
        sides.run(seconds: 3)
        XCTAssertEqual(sides.granted(by: 1), 0, "the standby answered writes during the cut: \(sides.summary)")
        XCTAssertGreaterThan(sides.granted(by: 0), 0, "the primary answered no write during the cut: \(sides.summary)")
        XCTAssertEqual(pair.health(1)?["role"] as? String, "standby")
        XCTAssertEqual(pair.health(1)?["term"] as? Int, term)

        try network.heal()
        try pair.wait(for: "the standby to attach again") {
            (pair.health(1)?["peer"] as? [String: Any])?["state"] as? String == "attached"
        }
        XCTAssertEqual((0..<2).map { pair.health($0)?["term"] as? Int }, [term, term], "no takeover")
        var acknowledged = load.stop().acknowledged
        acknowledged.merge(sides.acknowledged) { first, _ in first }
        try pair.assertBothHold(acknowledged)
        XCTAssertEqual(try pair.admin(0, "GET", "/api/admin/cluster").json?["reconciledTotal"] as? Int, 0, "one writer: nothing to reconcile")
        XCTAssertEqual(witness.process?.isRunning, true, "the witness ran throughout")
    }

    /// The main cut from its standby and from the witness while the clients
    /// (here, the test) still reach both: the main stops answering writes
    /// before the standby answers its first, and after the heal both hold
    /// every grant either acknowledged.
    func testAMainCutFromStandbyAndWitnessStopsBeforeTheStandbyStarts() throws {
        if let reason = NetworkNamespaces.unavailableReason { throw XCTSkip(reason) }
        let network = try NetworkNamespaces()
        defer { network.remove() }
        let (witness, pair) = try pairWithWitness(in: network)
        let (code, load) = try pair.startUnderLoad()
        let sides = SideCalls(pair: pair, code: code)
        sides.run(seconds: 0.5)
        XCTAssertGreaterThan(sides.granted(by: 0), 0, "the main answered nothing before the cut: \(sides.summary)")

        try network.partition()
        try network.cutWitness(from: 0, port: witness.port)
        sides.run(seconds: 30) { sides.granted(by: 1) >= 20 }
        let summary = sides.summary
        XCTAssertGreaterThanOrEqual(sides.granted(by: 1), 20, "the standby did not take over: \(summary)")
        let lastByMain = try XCTUnwrap(sides.lastGrantReceived(by: 0))
        let firstByStandby = try XCTUnwrap(sides.firstGrantSent(by: 1))
        XCTAssertLessThan(lastByMain, firstByStandby, "both nodes answered writes at once: \(summary)")
        XCTAssertTrue(sides.refusalCodes(by: 0).contains(-20103), "the cut-off main says why it refuses: \(summary)")
        print("main cut from standby and witness: \(summary)")

        try network.heal()
        try pair.wait(for: "the old main to step down and attach") {
            pair.health(0)?["role"] as? String == "standby"
                && (pair.health(0)?["peer"] as? [String: Any])?["state"] as? String == "attached"
        }
        var acknowledged = load.stop().acknowledged
        acknowledged.merge(sides.acknowledged) { first, _ in first }
        try pair.assertBothHold(acknowledged)
    }
}

/// Authorize calls sent straight to each node in turn (no failover), each
/// with a request ID of its own, recording who answered what and when.
///
/// Invariant: `acknowledged` holds exactly the calls answered 200.
private final class SideCalls {
    struct Call {
        var node: Int
        var sent: Date
        var received: Date
        var status: Int
        var code: Int?
    }

    private let pair: NodePair
    private let code: String
    private let clients: [HTTPClient]
    private(set) var calls: [Call] = []
    private(set) var acknowledged: [String: String] = [:]

    init(pair: NodePair, code: String) {
        self.pair = pair
        self.code = code
        clients = pair.servers.map { HTTPClient(trust: $0.trust, timeoutMs: 1_000) }
    }

    /// Calls each node in turn for `seconds`, or until `enough` holds.
    func run(seconds: Double, until enough: () -> Bool = { false }) {
        let end = Date().addingTimeInterval(seconds)
        var index = 0
        while Date() < end, !enough() {
            let node = index % 2
            let requestId = "side-\(index)"
            index += 1
            let sent = Date()
            let body = json(["handshakeCode": code, "clientUUID": "side", "product": "dbr", "requestId": requestId])
            let answer = try? clients[node].send("POST", pair.nodes[node].url("/api/v1/authorize"), body: body)
            calls.append(Call(node: node, sent: sent, received: Date(), status: answer?.status ?? 0, code: answer?.json?["code"] as? Int))
            if answer?.status == 200, let grantId = answer?.json?["grantId"] as? String { acknowledged[requestId] = grantId }
        }
    }

    func granted(by node: Int) -> Int { calls.filter { $0.node == node && $0.status == 200 }.count }
    func lastGrantReceived(by node: Int) -> Date? { calls.last { $0.node == node && $0.status == 200 }?.received }
    func firstGrantSent(by node: Int) -> Date? { calls.first { $0.node == node && $0.status == 200 }?.sent }
    func refusalCodes(by node: Int) -> Set<Int> { Set(calls.filter { $0.node == node }.compactMap(\.code)) }

    var summary: String {
        let start = calls.first?.sent ?? Date()
        return (0..<2).map { node in
            let mine = calls.filter { $0.node == node }
            let granted = mine.filter { $0.status == 200 }
            let span = granted.isEmpty ? "none" : "\(Int(granted.first!.sent.timeIntervalSince(start) * 1_000))–\(Int(granted.last!.received.timeIntervalSince(start) * 1_000)) ms"
            let statuses = Dictionary(grouping: mine, by: { "\($0.status)\($0.code.map { "/\($0)" } ?? "")" }).mapValues(\.count)
            return "node \(node): \(granted.count) granted (\(span)), answers \(statuses.sorted { $0.key < $1.key })"
        }.joined(separator: "; ")
    }
}
