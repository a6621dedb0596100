import Foundation
import LTSTestSupport
import Transport
import XCTest

/// A data dir written by an earlier lts (one per store schema and state
/// snapshot format in the project's history, kept in Tests/Fixtures/
/// datadir-*, made by tests/upgrade/make-datadir-fixture.py with that
/// version's binary) opens in this one: the node starts on it without
/// --accept-data-loss and lists the grants, license items and handshake
/// codes the old binary listed, then takes new grants on top.
final class DataDirUpgradeTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    func testEveryEarlierDataDirOpensWithItsGrantsItemsAndHandshakes() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures).filter { $0.hasPrefix("datadir-") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 7, "a fixture per store schema and snapshot format: \(names)")
        for name in names {
            try check(name)
        }
    }

    private func check(_ name: String) throws {
        let fixture = Self.fixtures + "/" + name
        let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture + "/expected.json")))
            as? [String: Any], name)
        let node = try NodeProcess(config: ["serverMode": "standalone", "listen": "127.0.0.1:0", "dataDir": "data"])
        try FileManager.default.createDirectory(atPath: node.directory + "/data", withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: fixture) where file != "expected.json" {
            try FileManager.default.copyItem(atPath: fixture + "/" + file, toPath: node.directory + "/data/" + file)
        }
        try node.start()
        defer { node.stop() }
        let client = HTTPClient(trust: .pinnedSHA256(node.fingerprint), timeoutMs: 10_000)
        let login = try client.send("POST", node.url("/api/admin/login"), body: json(["password": try XCTUnwrap(expected["password"] as? String)]))
        let token = try XCTUnwrap(login.json?["token"] as? String, "\(name): login with the old password: \(login.status)")
        func list(_ path: String) throws -> [[String: Any]] {
            let answer = try client.send("GET", node.url(path), headers: ["Authorization": "Bearer \(token)"])
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: answer.body) as? [[String: Any]], "\(name) \(path): \(answer.status)")
        }
        let grantFields = ["grantId", "requestId", "clientUUID", "itemId", "handshakeCode", "lsn", "term", "amount"]
        XCTAssertEqual(project(try list("/api/admin/grants?since=0&limit=1000"), grantFields),
                       project(expected["grants"] as? [[String: Any]] ?? [], grantFields), "\(name): grants")
        XCTAssertEqual(project(try list("/api/admin/items"), ["itemId", "product", "chargeWay", "quantity"]),
                       project(expected["items"] as? [[String: Any]] ?? [], ["itemId", "product", "chargeWay", "quantity"]), "\(name): items")
        let scanUsed = { (items: [[String: Any]]) in items.first { $0["itemId"] as? String == "scan-1" }?["used"] as? Int }
        XCTAssertEqual(scanUsed(try list("/api/admin/items")), scanUsed(expected["items"] as? [[String: Any]] ?? []), "\(name): scans used")
        XCTAssertEqual(project(try list("/api/admin/handshakes"), ["code", "items", "validation"]),
                       project(expected["handshakes"] as? [[String: Any]] ?? [], ["code", "items", "validation"]), "\(name): handshakes")
        let code = try XCTUnwrap((expected["handshakes"] as? [[String: Any]])?.compactMap { $0["code"] as? String }.first { $0 != "acme-web" })
        let fresh = try client.send("POST", node.url("/api/v1/authorize"), body: json(["handshakeCode": code, "clientUUID": "after-upgrade", "product": "dbr"]))
        XCTAssertEqual(fresh.status, 200, "\(name): a new grant on the upgraded store")
    }

    /// The given fields of each object, as text (JSON numbers and strings compare alike).
    private func project(_ objects: [[String: Any]], _ fields: [String]) -> [String] {
        objects.map { object in
            fields.map { field in
                guard let value = object[field], !(value is NSNull) else { return "\(field)=-" }
                if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) {
                    return "\(field)=" + String(decoding: data, as: UTF8.self)
                }
                return "\(field)=\(value)"
            }.joined(separator: " ")
        }
    }
}
