import Foundation
import LTSTestSupport
import Platform
import XCTest

/// A node whose data dir's disk fills: writes are refused with -20006,
/// reads and health go on (health says why), and the node catches up by
/// itself once space is freed; a write the disk refused is kept, not lost.
final class DiskFullTests: XCTestCase {
    func testAFullDiskRefusesWritesServesReadsAndRecoversWhenSpaceReturns() throws {
        guard getuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
        let mountPoint = NSTemporaryDirectory() + "lts-disk-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        XCTAssertEqual(try Self.shell("/bin/mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mountPoint), 0)
        defer {
            _ = try? Self.shell("/bin/umount", "-l", mountPoint)
            try? FileManager.default.removeItem(atPath: mountPoint)
        }
        let licensed = try LicensedNode(extraConfig: ["dataDir": mountPoint + "/data"])
        let imported = try licensed.importLicense(try licensed.issue(items: ["itemId=s,product=dbr,chargeWay=scan,quantity=1000000,expires=2099-12-31"]))
        let code = try XCTUnwrap(imported.json?["handshakeCode"] as? String)
        let client = HTTPClient(trust: .pinnedSHA256(licensed.node.fingerprint), timeoutMs: 1_500)
        func authorize(_ requestId: String) -> HTTPClient.Response? {
            try? client.send("POST", licensed.node.url("/api/v1/authorize"),
                             body: json(["handshakeCode": code, "clientUUID": "c", "product": "dbr", "requestId": requestId]))
        }
        XCTAssertEqual(authorize("before")?.status, 200)

        // Fill the disk: dd stops at "No space left on device".
        XCTAssertNotEqual(try Self.shell("/bin/dd", "if=/dev/zero", "of=\(mountPoint)/filler", "bs=1M"), 0)
        var refused: HTTPClient.Response?
        var unanswered: [String] = []
        for index in 0..<2_000 where refused == nil {
            let requestId = "full-\(index)"
            guard let answer = authorize(requestId) else {
                unanswered.append(requestId)
                continue
            }
            if answer.status == 507 { refused = answer }
        }
        let refusal = try XCTUnwrap(refused, "no write was refused on a full disk")
        print("disk full: \(unanswered.count) call(s) held by the full disk before the refusal")
        XCTAssertEqual(refusal.json?["code"] as? Int, -20006)
        XCTAssertEqual(try licensed.health()["diskFull"] as? Bool, true)
        XCTAssertEqual(try licensed.admin("GET", "/api/admin/items").status, 200, "reads go on")
        XCTAssertEqual(try licensed.node.metrics()["lts_store_disk_full"], 1)
        XCTAssertNotNil(licensed.node.waitForLogLine(containing: "disk is full", timeoutSeconds: 5))

        try FileManager.default.removeItem(atPath: mountPoint + "/filler")
        XCTAssertNotNil(licensed.node.waitForLogLine(containing: "has room again", timeoutSeconds: 10))
        XCTAssertNil(try licensed.health()["diskFull"])
        XCTAssertEqual(authorize("after")?.status, 200)
        // The calls the disk held were kept: a repeat returns their grant.
        for requestId in unanswered {
            XCTAssertEqual(authorize(requestId)?.json?["grantId"] != nil, true, "\(requestId) was not kept")
        }
        XCTAssertEqual(licensed.node.process?.isRunning, true, "the node never stopped")
    }

    @discardableResult
    static func shell(_ command: String, _ arguments: String...) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
