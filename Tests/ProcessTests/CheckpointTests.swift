import Foundation
import LTSTestSupport
import Transport
import XCTest

/// A node checkpoints its state and removes the log behind it; after a
/// crash it starts from the checkpoint with the same state, and a damaged
/// checkpoint refuses the start instead of serving a wrong state.
final class CheckpointTests: XCTestCase {
    private static let compacting: [String: Any] = ["logCheckpointRecords": 20, "logRetainedRecords": 5]

    /// A standalone node with 60 grants (requestIds r0…r59) and a compacted log, stopped by SIGKILL.
    private func compactedNode() throws -> (node: LicensedNode, grantIds: [String]) {
        let licensed = try LicensedNode(extraConfig: Self.compacting)
        _ = try licensed.importLicense(try licensed.issue(items: ["itemId=s,product=dbr,chargeWay=scan,quantity=1000,expires=2099-12-31"]))
        var grantIds: [String] = []
        for index in 0..<60 {
            let answer = try licensed.client("authorize", ["handshakeCode": "acme-1", "clientUUID": "c", "product": "dbr", "requestId": "r\(index)"])
            grantIds.append(try XCTUnwrap(answer.json?["grantId"] as? String, "authorization \(index) refused"))
        }
        licensed.node.stop(signal: SIGKILL)
        return (licensed, grantIds)
    }

    private func database(_ licensed: LicensedNode) -> String { licensed.node.directory + "/data/lts.sqlite" }

    func testACompactedLogRestartsWithTheSameState() throws {
        let (licensed, grantIds) = try compactedNode()
        let sqlite = try Transport.SQLiteDatabase(path: database(licensed))
        let firstLsn = try XCTUnwrap(sqlite.query("SELECT MIN(lsn) FROM wal").first?.first?.integer)
        let checkpointLsn = try XCTUnwrap(sqlite.query("SELECT lsn FROM checkpoint").first?.first?.integer, "no checkpoint written")
        sqlite.close()
        XCTAssertGreaterThan(firstLsn, 1, "the log behind the checkpoint was not removed")
        XCTAssertGreaterThanOrEqual(checkpointLsn, firstLsn - 1)

        try licensed.node.start()
        try licensed.login()
        XCTAssertEqual(try licensed.items()["s"]?["used"] as? Int, 60, "usage from the checkpoint and the log after it")
        XCTAssertEqual(try licensed.grants().count, 60, "grants behind the checkpoint stay listed")
        // Request IDs remembered in the checkpoint still make retries idempotent.
        let retry = try licensed.client("authorize", ["handshakeCode": "acme-1", "clientUUID": "c", "product": "dbr", "requestId": "r0"])
        XCTAssertEqual(retry.json?["grantId"] as? String, grantIds[0])
        XCTAssertEqual(try licensed.items()["s"]?["used"] as? Int, 60)
    }

    func testADamagedCheckpointRefusesTheStart() throws {
        let (licensed, _) = try compactedNode()
        let sqlite = try Transport.SQLiteDatabase(path: database(licensed))
        try sqlite.execute("UPDATE checkpoint SET state = CAST(replace(CAST(state AS TEXT), 'dbr', 'xbr') AS BLOB)")
        sqlite.close()
        let result = try NodeProcess.run(["serve", "--config", licensed.node.configPath])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.error.contains(database(licensed)), result.error)
        XCTAssertTrue(result.error.contains("checkpoint fails its checksum"), result.error)
    }
}
