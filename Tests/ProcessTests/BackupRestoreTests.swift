import Foundation
@testable import ClusterNode
@testable import OperatorTools
import LTSTestSupport
import Platform
import XCTest

/// `lts backup` copies a running node's store (here the standby's, under
/// load) and `lts restore` makes a new pair from it that holds every grant
/// acknowledged before the backup; restore refuses a damaged file and a
/// directory that is in use or holds a store, changing nothing.
final class BackupRestoreTests: XCTestCase {
    func testABackupOfTheStandbyUnderLoadRestoresIntoANewPairWithEveryAcknowledgedGrant() throws {
        let pair = try NodePair()
        let (_, load) = try pair.startUnderLoad(warmUp: 200)
        let before = load.acknowledgedGrants
        let clusterUuid = try XCTUnwrap(pair.health(0)?["clusterUuid"] as? String)
        let file = pair.directory + "/pair.ltsbackup"
        let made = try backup(from: pair.nodes[1], to: file, directory: pair.directory)
        XCTAssertEqual(made.status, 0, made.error)
        XCTAssertTrue(load.waitForMore(100), "the pair stopped serving during the backup")
        _ = load.stop()
        for node in pair.nodes { XCTAssertEqual(node.stop(), 0, node.logText) }
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)

        let restored = try NodePair()
        let restore = try NodeProcess.run(["restore", "--data", restored.nodes[0].directory + "/data", file])
        XCTAssertEqual(restore.status, 0, restore.error)
        XCTAssertTrue(restore.output.contains("cluster \(clusterUuid)"), restore.output)
        // The restored log is the longer one: its node leads, the empty one catches up from it.
        XCTAssertEqual(try restored.startBoth(), 0)
        XCTAssertEqual(restored.health(1)?["clusterUuid"] as? String, clusterUuid)
        try restored.assertBothHold(before)
        XCTAssertNil(restored.nodes[0].logText.range(of: "accept-data-loss"), "the restored node starts without accepting a loss")
    }

    func testRestoreRefusesADamagedFileAnOccupiedDirectoryAndAStoreUnlessForced() throws {
        let licensed = try LicensedNode()
        let imported = try licensed.importLicense(try licensed.issue(items: ["itemId=s,product=dbr,chargeWay=scan,quantity=100,expires=2099-12-31"]))
        let code = try XCTUnwrap(imported.json?["handshakeCode"] as? String)
        for index in 0..<5 {
            let answer = try licensed.client("authorize", ["handshakeCode": code, "clientUUID": "c\(index)", "product": "dbr", "requestId": "r\(index)"])
            XCTAssertEqual(answer.status, 200)
        }
        let directory = licensed.node.directory
        let file = directory + "/node.ltsbackup"
        XCTAssertEqual(try backup(from: licensed.node, to: file, directory: directory).status, 0)
        let again = try backup(from: licensed.node, to: file, directory: directory)
        XCTAssertEqual(again.status, 2, "an existing backup file is not overwritten")

        let data = directory + "/data"
        let inUse = try NodeProcess.run(["restore", "--data", data, "--force", file])
        XCTAssertEqual(inUse.status, 1)
        XCTAssertTrue(inUse.error.contains("in use by a running lts"), inUse.error)

        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[bytes.count / 2] ^= 0x55
        let damaged = directory + "/damaged.ltsbackup"
        try bytes.write(to: URL(fileURLWithPath: damaged))
        let fresh = directory + "/fresh"
        let refused = try NodeProcess.run(["restore", "--data", fresh, damaged])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.error.contains("damaged"), refused.error)
        let cut = directory + "/cut.ltsbackup"
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: cut))
        let short = try NodeProcess.run(["restore", "--data", fresh, cut])
        XCTAssertEqual(short.status, 1)
        XCTAssertTrue(short.error.contains("cut short"), short.error)
        // A header that lies about the log, with hashes made to match: the replay finds it out.
        let lying = directory + "/lying.ltsbackup"
        try rewriteHeader(of: file, to: lying) { $0.replacingOccurrences(of: "\"lsn\":", with: "\"lsn\":1") }
        let lied = try NodeProcess.run(["restore", "--data", fresh, lying])
        XCTAssertEqual(lied.status, 1)
        XCTAssertTrue(lied.error.contains("its header says lsn 1"), lied.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fresh), "a refused restore leaves no directory")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("fresh") }, [])

        let grants = try licensed.grants().map { $0["grantId"] as? String }
        XCTAssertEqual(grants.count, 5)
        XCTAssertEqual(licensed.node.stop(), 0)
        let holdsStore = try NodeProcess.run(["restore", "--data", data, file])
        XCTAssertEqual(holdsStore.status, 1)
        XCTAssertTrue(holdsStore.error.contains("only with --force"), holdsStore.error)
        // More grants after the backup: the forced restore takes the node back to the backup's.
        try licensed.node.start()
        try licensed.login()
        XCTAssertEqual(try licensed.client("authorize", ["handshakeCode": code, "clientUUID": "late", "product": "dbr"]).status, 200)
        XCTAssertEqual(licensed.node.stop(), 0)
        let forced = try NodeProcess.run(["restore", "--data", data, "--force", file])
        XCTAssertEqual(forced.status, 0, forced.error)
        try licensed.node.start()
        try licensed.login()
        XCTAssertEqual(try licensed.grants().map { $0["grantId"] as? String }, grants)
        XCTAssertEqual(try licensed.client("authorize", ["handshakeCode": code, "clientUUID": "c0", "product": "dbr", "requestId": "r0"]).json?["grantId"] as? String,
                       grants[0], "a remembered request is answered as before")
    }

    /// Writes `file` with its header changed by `change`, and its trailer hash made to match.
    private func rewriteHeader(of file: String, to path: String, _ change: (String) -> String) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        let lines = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
        let header = change(String(decoding: lines[1], as: UTF8.self))
        let body = lines[2].dropLast(72)
        let rewritten = lines[0] + Data("\n".utf8) + Data(header.utf8) + Data("\n".utf8) + body
        try (rewritten + Data("sha256 \(Crypto.hex(Crypto.sha256(Data(rewritten))))\n".utf8)).write(to: URL(fileURLWithPath: path))
    }

    private func backup(from node: NodeProcess, to file: String, directory: String) throws -> (status: Int32, output: String, error: String) {
        let passwordFile = directory + "/admin-password"
        try (LicensedNode.adminPassword + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        return try NodeProcess.run(["backup", "--server", node.url("/"), "--fingerprint", Crypto.hex(node.fingerprint),
                                    "--out", file, "--password-file", passwordFile])
    }
}
