import Foundation
import LTSTestSupport
import Platform
import Transport
import XCTest

/// `lts drill` against a pair started by `lts pair`, as an operator runs
/// it: a failover drill (SIGKILL of the primary, `lts pair` starts it
/// again) and a switchover there and back both report nothing lost or
/// doubled and exit 0; the report is left on the primary; an unfit pair or
/// a wrong password gets no drill (exit 2). A switchover drill passes with
/// each way of trusting the pair's self-signed certificates.
final class DrillCommandTests: XCTestCase {
    /// A pair started by `lts pair` in a new temporary directory.
    private struct StartedPair {
        let process: NodeProcess
        let directory: String
        let port: Int
        let password: String
        var servers: String { "https://127.0.0.1:\(port)/dls/,https://127.0.0.1:\(port + 1)/dls/" }
        var certificates: [String] { ["main", "standby"].map { directory + "/p/\($0)/data/tls/node.crt" } }
    }

    private func startPair(witness: Bool = false) throws -> StartedPair {
        let directory = NSTemporaryDirectory() + "lts-drill-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try NodePair.freeAdjacentPorts(count: witness ? 3 : 2)
        let pair = try NodeProcess(config: [:], directory: directory)
        try pair.start(arguments: ["pair", "--dir", directory + "/p", "--port", String(port)] + (witness ? ["--witness"] : []))
        XCTAssertNotNil(pair.waitForLogLine(containing: "demo license imported", timeoutSeconds: 30), pair.logText)
        let password: String
        do {
            password = try String(contentsOfFile: directory + "/p/admin-password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            pair.stop(signal: SIGINT)
            throw error
        }
        return StartedPair(process: pair, directory: directory, port: port, password: password)
    }

    /// Two load clients, as in the report of a pinned drill that never got
    /// its grants: the pinned load parsed the system's CA bundle on every
    /// connection and the drill asked for 50 grants within each half-second
    /// poll, so only a fast load ever passed.
    func testSwitchoverDrillPassesWithFingerprintsAndWithCACertificates() throws {
        let started = try startPair()
        defer { started.process.stop(signal: SIGINT) }
        let fingerprints = try started.certificates.map { try SelfSignedCertificate.fingerprint(certificatePath: $0) }
        let trusts: [(name: String, arguments: [String])] = [
            ("--fingerprint", ["--fingerprint", fingerprints.joined(separator: ",")]),
            ("--cacert", ["--cacert", started.certificates.joined(separator: ",")]),
        ]
        for trust in trusts {
            let drill = try NodeProcess.run(["drill", "switchover", "--servers", started.servers, "--password", started.password,
                                             "--clients", "2", "--json"] + trust.arguments)
            XCTAssertEqual(drill.status, 0, "\(trust.name): \(drill.error)\(drill.output)")
            let report = try XCTUnwrap(try? JSONSerialization.jsonObject(with: Data(drill.output.utf8)) as? [String: Any],
                                       "\(trust.name): \(drill.error)\(drill.output)")
            XCTAssertEqual(report["lost"] as? Int, 0, trust.name)
            XCTAssertEqual(report["duplicated"] as? Int, 0, trust.name)
            XCTAssertGreaterThan((report["acknowledged"] as? [String: Int])?["after"] ?? 0, 0, trust.name)
        }
    }

    /// `lts pair --witness`: the nodes reach the witness, and both drills
    /// pass through it (a takeover by its grant, a switchover by the old
    /// primary's release).
    func testDrillsAgainstAPairWithAWitness() throws {
        let started = try startPair(witness: true)
        defer { started.process.stop(signal: SIGINT) }
        let main = HTTPClient(trust: .caFile(started.directory + "/p/main/data/tls/node.crt"), timeoutMs: 2_000)
        let health = try main.send("GET", "https://127.0.0.1:\(started.port)/dls/api/health").json
        XCTAssertEqual(health?["witness"] as? [String: Any] as NSDictionary?,
                       ["url": "https://127.0.0.1:\(started.port + 2)/", "reachable": true, "lease": true] as NSDictionary)
        let common = ["--servers", started.servers, "--pair-dir", started.directory + "/p", "--clients", "4", "--json", "--password", started.password]
        for kind in ["failover", "switchover"] {
            let drill = try NodeProcess.run(["drill", kind] + common)
            XCTAssertEqual(drill.status, 0, drill.error + drill.output)
            let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(drill.output.utf8)) as? [String: Any], drill.output)
            XCTAssertEqual(report["lost"] as? Int, 0, kind)
            XCTAssertEqual(report["duplicated"] as? Int, 0, kind)
        }
        XCTAssertNotNil(started.process.waitForLogLine(containing: "granted term 3 to node 1", timeoutSeconds: 5), "the failover took the witness's grant")
        XCTAssertNotNil(started.process.waitForLogLine(containing: "released term", timeoutSeconds: 5), "the switchover released the lease")
    }

    func testFailoverAndSwitchoverDrillsAgainstLtsPair() throws {
        let started = try startPair()
        let (pair, directory, port, password) = (started.process, started.directory, started.port, started.password)
        defer { pair.stop(signal: SIGINT) }
        let servers = started.servers
        let common = ["--servers", servers, "--pair-dir", directory + "/p", "--clients", "4", "--json"]

        let wrong = try NodeProcess.run(["drill", "failover", "--password", "not the password"] + common)
        XCTAssertEqual(wrong.status, 2, wrong.error)
        XCTAssertTrue(wrong.error.contains("cannot log in"), wrong.error)

        let failover = try NodeProcess.run(["drill", "failover", "--password", password] + common)
        XCTAssertEqual(failover.status, 0, failover.error + failover.output)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(failover.output.utf8)) as? [String: Any], failover.output)
        XCTAssertEqual(report["lost"] as? Int, 0)
        XCTAssertEqual(report["duplicated"] as? Int, 0)
        XCTAssertEqual(report["newPrimary"] as? String, "https://127.0.0.1:\(port + 1)/dls/")
        XCTAssertGreaterThan(report["promotionMs"] as? Int ?? 0, 0)
        XCTAssertNotNil(report["rejoinMs"] as? Int, "the killed node, started again by lts pair, rejoins")
        XCTAssertGreaterThan((report["acknowledged"] as? [String: Int])?["after"] ?? 0, 0)

        let switchover = try NodeProcess.run(["drill", "switchover", "--password", password, "--back"] + common)
        XCTAssertEqual(switchover.status, 0, switchover.error + switchover.output)
        let back = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(switchover.output.utf8)) as? [String: Any], switchover.output)
        XCTAssertEqual(back["lost"] as? Int, 0)
        XCTAssertEqual(back["duplicated"] as? Int, 0)
        XCTAssertNotNil(back["backPromotionMs"] as? Int)

        // The report is on the primary (node 1 again, after switching there and back).
        let client = HTTPClient(trust: .caFile(directory + "/p/standby/data/tls/node.crt"), timeoutMs: 2_000)
        let login = try client.send("POST", "https://127.0.0.1:\(port + 1)/dls/api/admin/login", body: Data("{\"password\":\"\(password)\"}".utf8))
        let token = try XCTUnwrap(login.json?["token"] as? String)
        let cluster = try client.send("GET", "https://127.0.0.1:\(port + 1)/dls/api/admin/cluster", headers: ["Authorization": "Bearer \(token)"])
        XCTAssertEqual((cluster.json?["lastDrill"] as? [String: Any])?["kind"] as? String, "switchover")

        // The client key the portal shows holds both servers, pinned: a client needs nothing else.
        let keyAnswer = try client.send("GET", "https://127.0.0.1:\(port + 1)/dls/api/admin/handshakes/demo-1/client-key",
                                        headers: ["Authorization": "Bearer \(token)"])
        let key = try XCTUnwrap(keyAnswer.json?["clientKey"] as? String, String(decoding: keyAnswer.body, as: UTF8.self))
        let byKey = try NodeProcess.run(["client", "authorize", "--key", key, "--product", "dbr", "--json", "--state-dir", directory + "/client"])
        XCTAssertEqual(byKey.status, 0, byKey.error)
        XCTAssertEqual(try client.send("GET", "https://127.0.0.1:\(port + 1)/dls/api/admin/handshakes/nope-1/client-key",
                                       headers: ["Authorization": "Bearer \(token)"]).json?["code"] as? Int, -20312)
    }
}
