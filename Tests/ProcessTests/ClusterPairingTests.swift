import Foundation
import LTSTestSupport
import Platform
import XCTest

/// `lts cluster init` on the main and `lts cluster join TOKEN` on the
/// standby: two standalone nodes become an attached pair, each pinning the
/// other's certificate, with no file edited and no fingerprint copied.
final class ClusterPairingTests: XCTestCase {
    func testInitAndJoinFormAnAttachedPairWithNoFileEditedByHand() throws {
        let ports = [try NodePair.freePort(), try NodePair.freePort()]
        try formPair(hosts: ["127.0.0.1", "127.0.0.1"], ports: ports, launchers: [[], []])
    }

    /// The same on two network namespaces standing for two hosts: each
    /// command runs on its own host, and the main reaches the standby only
    /// by the URL the standby gave.
    func testInitAndJoinAcrossTwoHosts() throws {
        if let reason = NetworkNamespaces.unavailableReason { throw XCTSkip(reason) }
        let network = try NetworkNamespaces()
        defer { network.remove() }
        try formPair(hosts: [network.address(0), network.address(1)], ports: [48_443, 48_443], launchers: [network.launcher(0), network.launcher(1)])
    }

    private func formPair(hosts: [String], ports: [Int], launchers: [[String]]) throws {
        let urls = (0..<2).map { "https://\(hosts[$0]):\(ports[$0])/dls/" }
        // What a fresh install holds: a standalone configuration.
        let nodes = try (0..<2).map {
            try NodeProcess(config: ["serverMode": "standalone", "listen": "\(hosts[$0]):\(ports[$0])", "dataDir": "data"], host: hosts[$0],
                            launcher: launchers[$0])
        }

        let initRun = try NodeProcess.run(["cluster", "init", "--config", nodes[0].configPath, "--public-url", urls[0]], launcher: launchers[0])
        XCTAssertEqual(initRun.status, 0, initRun.error)
        let token = try XCTUnwrap(initRun.output.split(separator: "\n").last.map(String.init))
        XCTAssertTrue(token.hasPrefix("lts-join-1."), initRun.output)
        try nodes[0].start()

        let standbyBefore = try Data(contentsOf: URL(fileURLWithPath: nodes[1].configPath))
        let forged = try NodeProcess.run(["cluster", "join", try Self.withAnotherSecret(token), "--config", nodes[1].configPath,
                                          "--public-url", urls[1]], launcher: launchers[1])
        XCTAssertEqual(forged.status, 1)
        XCTAssertTrue(forged.error.contains("-20420"), forged.error)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: nodes[1].configPath)), standbyBefore, "a refused join writes nothing")

        let join = try NodeProcess.run(["cluster", "join", token, "--config", nodes[1].configPath, "--public-url", urls[1]], launcher: launchers[1])
        XCTAssertEqual(join.status, 0, join.error)
        XCTAssertNotNil(nodes[0].waitForLogLine(containing: "restarting as the main of the pair", timeoutSeconds: 10))
        try nodes[1].start()

        try Self.wait(for: "an attached pair, the main primary") {
            Self.health(nodes[0])?["role"] as? String == "primary" && Self.health(nodes[1])?["role"] as? String == "standby"
                && (Self.health(nodes[1])?["peer"] as? [String: Any])?["state"] as? String == "attached"
        }
        let configs = try nodes.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: $0.configPath))) as? [String: Any]) }
        XCTAssertEqual(configs[0]["servers"] as? [String], ["self", urls[1]])
        XCTAssertEqual(configs[1]["servers"] as? [String], [urls[0], "self"])
        XCTAssertEqual(configs[0]["clusterSecret"] as? String, configs[1]["clusterSecret"] as? String)
        for index in 0..<2 {
            XCTAssertEqual((configs[index]["peerFingerprint"] as? String).flatMap(SelfSignedCertificate.parseFingerprint), nodes[1 - index].fingerprint,
                           "node \(index) pins the other's certificate")
            let mode = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: nodes[index].configPath)[.posixPermissions] as? Int)
            XCTAssertEqual(mode & 0o007, 0, "a file holding the cluster secret gives others no access")
        }
        try Self.wait(for: "one cluster UUID on both") {
            guard let uuid = Self.health(nodes[0])?["clusterUuid"] as? String else { return false }
            return Self.health(nodes[1])?["clusterUuid"] as? String == uuid
        }

        let again = try NodeProcess.run(["cluster", "join", token, "--config", nodes[1].configPath + ".again", "--public-url",
                                         "https://\(hosts[1]):1/dls/"], launcher: launchers[1])
        XCTAssertEqual(again.status, 1, "a token opens one join")
        XCTAssertTrue(again.error.contains("-20420"), again.error)
    }

    func testMistakesAreNamedAndChangeNothing() throws {
        let node = try NodeProcess(config: ["serverMode": "standalone", "listen": "127.0.0.1:0", "dataDir": "data"])
        let before = try Data(contentsOf: URL(fileURLWithPath: node.configPath))
        let http = try NodeProcess.run(["cluster", "init", "--config", node.configPath, "--public-url", "http://main:48080/dls/"])
        XCTAssertEqual(http.status, 1)
        XCTAssertTrue(http.error.contains("--public-url must be an https URL"), http.error)
        let damaged = try NodeProcess.run(["cluster", "join", "lts-join-1.bm90IGEgdG9rZW4", "--config", node.configPath,
                                           "--public-url", "https://standby:48080/dls/"])
        XCTAssertEqual(damaged.status, 1)
        XCTAssertTrue(damaged.error.contains("the join token is damaged"), damaged.error)
        let other = try NodeProcess.run(["cluster", "join", "hello", "--config", node.configPath, "--public-url", "https://standby:48080/dls/"])
        XCTAssertTrue(other.error.contains("this is not a join token"), other.error)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: node.configPath)), before)

        let made = try NodeProcess.run(["cluster", "init", "--config", node.configPath, "--public-url", "https://main:48080/dls/", "--valid-hours", "1"])
        XCTAssertEqual(made.status, 0, made.error)
        let token = try XCTUnwrap(made.output.split(separator: "\n").last.map(String.init))
        let ownURL = try NodeProcess.run(["cluster", "join", token, "--config", node.configPath, "--public-url", "https://main:48080/dls/"])
        XCTAssertTrue(ownURL.error.contains("the main's own URL"), ownURL.error)
        let written = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: node.configPath))) as? [String: Any])
        XCTAssertEqual(written["publicUrl"] as? String, "https://main:48080/dls/")
        XCTAssertEqual((written["clusterSecret"] as? String)?.count, 64)
        XCTAssertEqual(written["listen"] as? String, "127.0.0.1:0", "settings the file had stay")
    }

    // MARK: Helpers

    /// The token with its secret replaced: what a guess looks like.
    static func withAnotherSecret(_ token: String) throws -> String {
        let prefix = "lts-join-1."
        var base64 = String(token.dropFirst(prefix.count)).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: try XCTUnwrap(Data(base64Encoded: base64))) as? [String: Any])
        object["secret"] = String(repeating: "ab", count: 32)
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return prefix + data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func health(_ node: NodeProcess) -> [String: Any]? {
        try? HTTPClient(trust: .pinnedSHA256(node.fingerprint), timeoutMs: 1_000).send("GET", node.url("/api/health")).json
    }

    static func wait(for what: String, timeoutSeconds: Double = 20, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if condition() { return }
            usleep(20_000)
        }
        XCTFail("timed out waiting for \(what)")
    }
}
