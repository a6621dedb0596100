import Foundation
import LTSTestSupport
import XCTest

/// A data dir whose database was deleted (or rolled back) keeps its node
/// UUID but not its log: the node refuses to serve it under the same
/// identity without a word, and names what to do.
final class DataLossTests: XCTestCase {
    func testADeletedDatabaseIsRefusedAtStartUnlessTheLossIsAccepted() throws {
        let licensed = try LicensedNode()
        let imported = try licensed.importLicense(try licensed.issue(items: ["itemId=s,product=dbr,chargeWay=scan,quantity=100,expires=2099-12-31"]))
        XCTAssertEqual(imported.status, 201)
        let data = licensed.node.directory + "/data"
        var marked = 0
        let deadline = Date().addingTimeInterval(10)
        while marked == 0, Date() < deadline {
            marked = (try? String(contentsOfFile: data + "/log-mark", encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
            if marked == 0 { usleep(20_000) }
        }
        XCTAssertGreaterThan(marked, 0, "the node marks the durable log")
        XCTAssertEqual(licensed.node.stop(), 0)
        // The mark may have moved on since: what the stopped node left is what counts.
        marked = (try? String(contentsOfFile: data + "/log-mark", encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: data + "/lts.sqlite" + suffix) }

        let refused = try NodeProcess.run(["serve", "--config", licensed.node.configPath], timeoutSeconds: 20)
        XCTAssertEqual(refused.status, 2, "an operator's decision: no restart loop")
        XCTAssertTrue(refused.error.contains("ends at lsn 0, but this data dir held lsn \(marked)"), refused.error)
        XCTAssertTrue(refused.error.contains("--accept-data-loss"), refused.error)

        try licensed.node.start(arguments: ["serve", "--config", licensed.node.configPath, "--accept-data-loss"])
        XCTAssertNotNil(licensed.node.waitForLogLine(containing: "as --accept-data-loss asks", timeoutSeconds: 5))
        XCTAssertEqual(licensed.node.stop(), 0)
        try licensed.node.start()
        XCTAssertEqual(try licensed.health()["role"] as? String, "standalone", "the accepted loss is not refused again")
    }
}
