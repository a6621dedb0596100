import Foundation
import LicenseState
import LTSTestSupport
import Platform
import Transport
import XCTest

/// `lts drill` against a pair started by `lts pair`, as an operator runs
/// it: a failover drill (SIGKILL of the primary, `lts pair` starts it
/// again) and a switchover there and back both report nothing lost,
/// changed or doubled and exit 0, with every field of the report present
/// and consistent; the reports are in the pair's log, listed on both nodes
/// and across a restart; the load uses no customer quota; a wrong password
/// gets no drill (exit 2), and a pair still starting is waited for. A
/// switchover drill passes with each way of trusting the pair's
/// self-signed certificates.
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

    /// An admin's view of one node of a started pair.
    private struct AdminView {
        let client: HTTPClient
        let base: String
        let token: String

        init(_ started: StartedPair, node: Int) throws {
            client = HTTPClient(trust: .caFile(started.certificates[node]), timeoutMs: 5_000)
            base = "https://127.0.0.1:\(started.port + node)/dls"
            let login = try client.send("POST", base + "/api/admin/login", body: Data("{\"password\":\"\(started.password)\"}".utf8))
            token = try XCTUnwrap(login.json?["token"] as? String, "login on node \(node): HTTP \(login.status)")
        }

        func get(_ path: String) throws -> HTTPClient.Response {
            try client.send("GET", base + path, headers: ["Authorization": "Bearer \(token)"])
        }

        func post(_ path: String, _ object: [String: Any]) throws -> HTTPClient.Response {
            try client.send("POST", base + path, body: try JSONSerialization.data(withJSONObject: object), headers: ["Authorization": "Bearer \(token)"])
        }

        func array(_ path: String) throws -> [[String: Any]] {
            let response = try get(path)
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: response.body) as? [[String: Any]], String(decoding: response.body, as: UTF8.self))
        }

        /// Units used per license item.
        func used() throws -> [String: Int] {
            Dictionary(uniqueKeysWithValues: try array("/api/admin/items").compactMap { item in
                (item["itemId"] as? String).map { ($0, item["used"] as? Int ?? -1) }
            })
        }
    }

    /// The fields every report carries, consistent with each other and with the drill's kind.
    private func assertWellFormed(_ report: [String: Any], kind: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(report["kind"] as? String, kind, file: file, line: line)
        XCTAssertTrue(ClusterIdentity.isWellFormed(report["id"] as? String ?? ""), "id", file: file, line: line)
        XCTAssertNotNil(report["ranBy"] as? String, file: file, line: line)
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let started = format.date(from: report["startedAt"] as? String ?? ""), ended = format.date(from: report["endedAt"] as? String ?? "")
        let event = format.date(from: report[kind == "switchover" ? "switchoverAt" : "faultAt"] as? String ?? "")
        XCTAssertNotNil(started, file: file, line: line)
        XCTAssertNotNil(event, file: file, line: line)
        if let started, let ended, let event {
            XCTAssertLessThanOrEqual(started, event, file: file, line: line)
            XCTAssertLessThanOrEqual(event, ended, file: file, line: line)
        }
        let detection = report["detectionMs"] as? Int ?? -1, promotion = report["promotionMs"] as? Int ?? -1
        XCTAssertGreaterThanOrEqual(detection, 0, file: file, line: line)
        XCTAssertLessThanOrEqual(detection, promotion, "detection is part of promotion", file: file, line: line)
        XCTAssertNotNil(report["outageMs"] as? Int, file: file, line: line)
        let definitions = report["definitions"] as? [String: String] ?? [:]
        XCTAssertEqual(Set(definitions.keys), ["detectionMs", "promotionMs", "outageMs", "rejoinMs"], file: file, line: line)
        XCTAssertGreaterThan(report["termAfter"] as? Int ?? 0, report["termBefore"] as? Int ?? .max, file: file, line: line)
        let nodes = report["nodes"] as? [[String: Any]] ?? []
        XCTAssertEqual(nodes.count, 2, file: file, line: line)
        for node in nodes {
            for key in ["url", "uuid", "version", "roleBefore", "roleAfter"] { XCTAssertNotNil(node[key] as? String, key, file: file, line: line) }
            XCTAssertNotNil(node["pidBefore"] as? Int, file: file, line: line)
        }
        XCTAssertEqual(Set(nodes.compactMap { $0["roleBefore"] as? String }), ["primary", "standby"], file: file, line: line)
        XCTAssertEqual((report["versions"] as? [String: String])?.count, 2, file: file, line: line)
        XCTAssertEqual((report["load"] as? [String: Any])?["drillItem"] as? Bool, true, file: file, line: line)
        for key in ["lost", "duplicated", "changed"] { XCTAssertEqual(report[key] as? Int, 0, key, file: file, line: line) }
        for key in ["lostIds", "duplicatedIds", "changedIds"] { XCTAssertEqual((report[key] as? [String])?.count, 0, key, file: file, line: line) }
        XCTAssertEqual(report["passed"] as? Bool, true, file: file, line: line)
        let acknowledged = report["acknowledged"] as? [String: Int] ?? [:]
        XCTAssertGreaterThan(acknowledged["before"] ?? 0, 0, file: file, line: line)
        XCTAssertGreaterThan(acknowledged["after"] ?? 0, 0, file: file, line: line)
    }

    func testFailoverAndSwitchoverDrillsAgainstLtsPair() throws {
        let started = try startPair()
        let (pair, directory, port, password) = (started.process, started.directory, started.port, started.password)
        defer { pair.stop(signal: SIGINT) }
        let servers = started.servers
        let common = ["--servers", servers, "--pair-dir", directory + "/p", "--clients", "4", "--json"]
        let usedBefore = try AdminView(started, node: 0).used()
        XCTAssertFalse(usedBefore.isEmpty, "the demo license has items")

        let wrong = try NodeProcess.run(["drill", "failover", "--password", "not the password"] + common)
        XCTAssertEqual(wrong.status, 2, wrong.error)
        XCTAssertTrue(wrong.error.contains("cannot log in"), wrong.error)

        // The password from a file; the load runs at least --seconds.
        let failover = try NodeProcess.run(["drill", "failover", "--password-file", directory + "/p/admin-password", "--seconds", "5"] + common)
        XCTAssertEqual(failover.status, 0, failover.error + failover.output)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(failover.output.utf8)) as? [String: Any], failover.output)
        assertWellFormed(report, kind: "failover")
        XCTAssertEqual(report["newPrimary"] as? String, "https://127.0.0.1:\(port + 1)/dls/")
        XCTAssertNotNil(report["rejoinMs"] as? Int, "the killed node, started again by lts pair, rejoins")
        XCTAssertEqual(report["loadSecondsAsked"] as? Double, 5)
        XCTAssertGreaterThanOrEqual(report["loadSeconds"] as? Double ?? 0, 5)
        let killed = try XCTUnwrap((report["nodes"] as? [[String: Any]])?.first { $0["roleBefore"] as? String == "primary" })
        let killedPid = try XCTUnwrap(killed["pidBefore"] as? Int)
        XCTAssertTrue((report["injection"] as? String ?? "").hasPrefix("SIGKILL of pid \(killedPid),"), report["injection"] as? String ?? "")
        XCTAssertNotEqual(killed["pidAfter"] as? Int, killedPid, "lts pair started the killed node again")

        // The password from the environment; a planned switchover is no fault.
        let switchover = try NodeProcess.run(["drill", "switchover", "--back"] + common, environment: ["LTS_PASSWORD": password])
        XCTAssertEqual(switchover.status, 0, switchover.error + switchover.output)
        let back = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(switchover.output.utf8)) as? [String: Any], switchover.output)
        assertWellFormed(back, kind: "switchover")
        XCTAssertFalse(switchover.output.lowercased().contains("fault"), switchover.output)
        XCTAssertTrue((back["injection"] as? String ?? "").hasPrefix("switchover requested through the API"), back["injection"] as? String ?? "")
        XCTAssertNotNil(back["backPromotionMs"] as? Int)

        // Both nodes list both reports, newest first, and give each by its ID.
        let ids = [back["id"] as? String, report["id"] as? String].compactMap { $0 }
        for node in 0..<2 {
            let view = try AdminView(started, node: node)
            XCTAssertEqual(try view.array("/api/admin/cluster/drills").compactMap { $0["id"] as? String }.prefix(2), ids[...], "node \(node)")
            let one = try view.get("/api/admin/cluster/drills/\(ids[1])")
            XCTAssertEqual(one.json?["injection"] as? String, report["injection"] as? String, "node \(node)")
            XCTAssertEqual(try view.get("/api/admin/cluster/drills/00000000-0000-4000-8000-000000000000").json?["code"] as? Int, -20104)
            XCTAssertEqual((try view.get("/api/admin/cluster").json?["lastDrill"] as? [String: Any])?["id"] as? String, ids[0], "node \(node)")
            XCTAssertEqual(try view.used(), usedBefore, "node \(node): the drills' load used no customer quota")
        }

        // The reports survive a restart: SIGKILL the standby, lts pair starts it again.
        let primary = try XCTUnwrap((back["nodes"] as? [[String: Any]])?.firstIndex { $0["roleAfter"] as? String == "primary" })
        let standbyName = primary == 0 ? "standby" : "main"
        let standbyPid = try XCTUnwrap(Int32(try String(contentsOfFile: directory + "/p/\(standbyName)/data/lts.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertEqual(kill(standbyPid, SIGKILL), 0)
        let deadline = Date().addingTimeInterval(30)
        var listed: [String] = []
        while Date() < deadline, listed.count < 2 {
            listed = ((try? AdminView(started, node: 1 - primary).array("/api/admin/cluster/drills")) ?? []).compactMap { $0["id"] as? String }
            if listed.count < 2 { usleep(100_000) }
        }
        XCTAssertEqual(listed.prefix(2), ids[...], "the restarted node replayed the reports from its log")

        // A report sent again is kept once; the standby sends writers to the primary; a bad ID is refused.
        let view = try AdminView(started, node: primary)
        XCTAssertEqual(try view.post("/api/admin/cluster/drills", back).status, 200)
        XCTAssertEqual(try AdminView(started, node: 1 - primary).post("/api/admin/cluster/drills", ["kind": "failover"]).json?["code"] as? Int, -20100)
        XCTAssertEqual(try view.post("/api/admin/cluster/drills", ["kind": "failover", "id": "NOT-A-UUID"]).status, 400)
        XCTAssertEqual(try view.array("/api/admin/cluster/drills").count, 2, "nothing more was kept")

        // The drill code opens only with a drill pass, which only an admin gets.
        for pass in [nil, "\(Int(Date().timeIntervalSince1970) + 600).00"] {
            var call: [String: Any] = ["handshakeCode": DrillItem.handshakeCode, "clientUUID": "not-a-drill", "product": DrillItem.product]
            call["sessionPassword"] = pass
            let refused = try view.client.send("POST", view.base + "/api/v1/authorize", body: try JSONSerialization.data(withJSONObject: call))
            XCTAssertEqual(refused.json?["code"] as? Int, -20112, String(decoding: refused.body, as: UTF8.self))
        }
        XCTAssertEqual(try view.client.send("POST", view.base + "/api/admin/cluster/drills/pass", body: Data("{}".utf8)).status, 401)

        // The client key the portal shows holds both servers, pinned: a client needs nothing else.
        let keyAnswer = try view.get("/api/admin/handshakes/demo-1/client-key")
        let key = try XCTUnwrap(keyAnswer.json?["clientKey"] as? String, String(decoding: keyAnswer.body, as: UTF8.self))
        let byKey = try NodeProcess.run(["client", "authorize", "--key", key, "--product", "dbr", "--json", "--state-dir", directory + "/client"])
        XCTAssertEqual(byKey.status, 0, byKey.error)
        XCTAssertEqual(try view.get("/api/admin/handshakes/nope-1/client-key").json?["code"] as? Int, -20312)
    }

    /// A drill started as the pair starts, before it elected a primary,
    /// waits for the pair and runs, instead of refusing.
    func testADrillStartedAsThePairStartsWaitsForIt() throws {
        let directory = NSTemporaryDirectory() + "lts-drill-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try NodePair.freeAdjacentPorts(count: 2)
        let pair = try NodeProcess(config: [:], directory: directory)
        try pair.start(arguments: ["pair", "--dir", directory + "/p", "--port", String(port)])
        defer { pair.stop(signal: SIGINT) }
        let passwordFile = directory + "/p/admin-password"
        // The main listens about a second before the pair has elected its primary.
        XCTAssertNotNil(pair.waitForLogLine(containing: "listening on https://127.0.0.1:\(port)/", timeoutSeconds: 30), pair.logText)
        let fileDeadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: passwordFile), Date() < fileDeadline { usleep(10_000) }
        let servers = "https://127.0.0.1:\(port)/dls/,https://127.0.0.1:\(port + 1)/dls/"
        let drill = try NodeProcess.run(["drill", "switchover", "--servers", servers, "--pair-dir", directory + "/p", "--password-file", passwordFile,
                                         "--clients", "2", "--json", "--ready-timeout", "60"])
        XCTAssertEqual(drill.status, 0, drill.error + drill.output)
        XCTAssertTrue(drill.error.contains("lts drill: waiting for the pair"), drill.error)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(drill.output.utf8)) as? [String: Any], drill.error + drill.output)
        assertWellFormed(report, kind: "switchover")
    }
}
