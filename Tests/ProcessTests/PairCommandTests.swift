import Foundation
import LTSTestSupport
import Platform
import Transport
import XCTest

/// `lts pair` and `lts bench failover` as a user runs them.
final class PairCommandTests: XCTestCase {
    func testPairStartsAnAttachedPairWithADemoLicenseAndStopsOnSIGINT() throws {
        let directory = NSTemporaryDirectory() + "lts-pair-command-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try NodePair.freeAdjacentPorts()
        let pair = try NodeProcess(config: [:], directory: directory)
        try pair.start(arguments: ["pair", "--dir", directory + "/p", "--port", String(port)])
        let main = HTTPClient(trust: .caFile(directory + "/p/main/data/tls/node.crt"), timeoutMs: 2_000)
        let standby = HTTPClient(trust: .caFile(directory + "/p/standby/data/tls/node.crt"), timeoutMs: 2_000)
        let deadline = Date().addingTimeInterval(20)
        var attached = false
        while Date() < deadline, !attached {
            let lead = try? main.send("GET", "https://127.0.0.1:\(port)/dls/api/health").json
            let follow = try? standby.send("GET", "https://127.0.0.1:\(port + 1)/dls/api/health").json
            attached = lead?["role"] as? String == "primary" && (follow?["peer"] as? [String: Any])?["state"] as? String == "attached"
            if !attached { usleep(50_000) }
        }
        XCTAssertTrue(attached, "the pair did not form:\n\(pair.logText)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/p/demo-license.json"))
        // Issue 17, finding 8: the configs hold the cluster secret; the data dirs the keys and the database.
        func mode(_ path: String) -> Int? { (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int }
        for name in ["main", "standby"] {
            XCTAssertEqual(mode(directory + "/p/\(name)/lts.json"), 0o600, name)
            XCTAssertEqual(mode(directory + "/p/\(name)/data"), 0o700, name)
            XCTAssertEqual(mode(directory + "/p/\(name)"), 0o700, name)
        }
        XCTAssertEqual(mode(directory + "/p"), 0o700)
        XCTAssertNotNil(pair.waitForLogLine(containing: "demo license imported; handshake code", timeoutSeconds: 20), pair.logText)
        XCTAssertTrue(pair.logText.contains("https://127.0.0.1:\(port)/dls/page/#/index.html"), pair.logText)
        let password = try String(contentsOfFile: directory + "/p/admin-password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let login = try main.send("POST", "https://127.0.0.1:\(port)/dls/api/admin/login", body: Data("{\"password\":\"\(password)\"}".utf8))
        XCTAssertEqual(login.status, 200, "the printed admin password is set")
        XCTAssertEqual(pair.stop(signal: SIGINT), 0)
        XCTAssertNil(try? main.send("GET", "https://127.0.0.1:\(port)/dls/api/health"), "the main must be stopped")
        XCTAssertNil(try? standby.send("GET", "https://127.0.0.1:\(port + 1)/dls/api/health"), "the standby must be stopped")
    }

    /// Issue 20: the nodes end with `lts pair` however it ends, SIGKILL included (no orphans).
    func testChildrenEndWhenThePairIsKilled() throws {
        let directory = NSTemporaryDirectory() + "lts-pair-kill-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try NodePair.freeAdjacentPorts(count: 3)
        let pair = try NodeProcess(config: [:], directory: directory)
        try pair.start(arguments: ["pair", "--dir", directory + "/p", "--port", String(port), "--witness"])
        XCTAssertNotNil(pair.waitForLogLine(containing: "demo license imported; handshake code", timeoutSeconds: 30), pair.logText)
        let supervisor = try XCTUnwrap(pair.process?.processIdentifier)
        let children = Self.livingProcesses().filter { $0.parent == supervisor }.map(\.pid)
        XCTAssertEqual(children.count, 3, "the witness, the main and the standby:\n\(pair.logText)")
        kill(supervisor, SIGKILL)
        let deadline = Date().addingTimeInterval(5)
        var left = Set(children)
        while !left.isEmpty, Date() < deadline {
            left.formIntersection(Self.livingProcesses().map(\.pid))
            if !left.isEmpty { usleep(50_000) }
        }
        XCTAssertEqual(left, [], "children still running 5 s after lts pair was killed")
        left.forEach { kill($0, SIGKILL) }
    }

    /// The processes of this machine that run (zombies left out: a dead
    /// child whose new parent has not reaped it yet is gone all the same).
    private static func livingProcesses() -> [(pid: Int32, parent: Int32)] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let end = stat.lastIndex(of: ")") else { return nil }
            // After "pid (name)": the state, then the parent's pid.
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            guard fields.count > 1, fields[0] != "Z", let parent = Int32(fields[1]) else { return nil }
            return (pid, parent)
        }
    }

    func testBenchFailoverLosesNothing() throws {
        let port = try NodePair.freeAdjacentPorts()
        let run = try NodeProcess.run(["bench", "failover", "--rounds", "1", "--clients", "4", "--port", String(port), "--json"])
        XCTAssertEqual(run.status, 0, run.error)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any], run.output)
        XCTAssertEqual(report["lostAcknowledged"] as? Int, 0)
        XCTAssertGreaterThan(report["acknowledged"] as? Int ?? 0, 0)
        XCTAssertGreaterThan((report["outageMs"] as? [String: Double])?["max"] ?? 0, 0)
    }
}
