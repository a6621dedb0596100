import Foundation
import LTSTestSupport
import XCTest

/// Every refused license file answers its code and changes nothing but
/// the audit log, which records the refusal.
final class LicenseImportRefusalTests: XCTestCase {
    private let item = "itemId=s1,product=dbr,chargeWay=scan,quantity=10,expires=2099-12-31"

    private func assertRefused(_ licensed: LicensedNode, _ body: Data, code: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let lsn = try licensed.health()["lsn"] as? Int
        let items = try licensed.items().keys.sorted()
        let response = try licensed.admin("POST", "/api/admin/licenses", body: body)
        XCTAssertEqual(response.json?["code"] as? Int, code, String(decoding: response.body, as: UTF8.self), file: file, line: line)
        XCTAssertGreaterThanOrEqual(response.status, 400, file: file, line: line)
        // Its audit entry is all it logs.
        XCTAssertEqual(try licensed.health()["lsn"] as? Int, lsn.map { $0 + 1 }, "a refused import logs its audit entry only", file: file, line: line)
        let newest = (try JSONSerialization.jsonObject(with: try licensed.admin("GET", "/api/admin/audit?limit=1").body) as? [[String: Any]])?.first
        XCTAssertEqual(newest?["action"] as? String, "license-import", file: file, line: line)
        XCTAssertEqual(newest?["result"] as? String, "refused \(code)", file: file, line: line)
        XCTAssertEqual(try licensed.items().keys.sorted(), items, file: file, line: line)
    }

    private func edited(_ path: String, _ change: (inout [String: Any]) -> Void) throws -> Data {
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        change(&object)
        return try JSONSerialization.data(withJSONObject: object)
    }

    func testRefusedFilesChangeNothing() throws {
        let licensed = try LicensedNode()
        let good = try licensed.issue(items: [item])
        // A changed quantity breaks the signature.
        try assertRefused(licensed, try edited(good) { file in
            var items = file["items"] as! [[String: Any]]
            items[0]["quantity"] = 1_000_000
            file["items"] = items
        }, code: -20300)
        // Signed by a vendor this node does not trust.
        let otherVendor = licensed.node.directory + "/other"
        XCTAssertEqual(try NodeProcess.run(["license", "keygen", "--out", otherVendor]).status, 0)
        try assertRefused(licensed, try Data(contentsOf: URL(fileURLWithPath: try licensed.issue(items: [item], key: otherVendor + "/issuer.key"))),
                          code: -20301)
        // Bound to another server.
        try assertRefused(licensed, try Data(contentsOf: URL(fileURLWithPath: try licensed.issue(boundTo: UUID().uuidString, items: [item]))),
                          code: -20302)
        // Malformed: unknown field, not JSON, empty.
        try assertRefused(licensed, try edited(good) { $0["extra"] = 1 }, code: -20303)
        try assertRefused(licensed, Data("not json".utf8), code: -20303)
        try assertRefused(licensed, Data(), code: -20303)
        // An item that has already expired.
        let expired = try licensed.issue(items: ["itemId=old,product=dbr,chargeWay=scan,quantity=10,starts=2020-01-01,expires=2021-01-01"])
        try assertRefused(licensed, try Data(contentsOf: URL(fileURLWithPath: expired)), code: -20305)

        // The good file imports once; the second time it is a re-import.
        XCTAssertEqual(try licensed.importLicense(good).status, 201)
        try assertRefused(licensed, try Data(contentsOf: URL(fileURLWithPath: good)), code: -20304)
    }

    func testBindingToThisServersUUIDIsAccepted() throws {
        let licensed = try LicensedNode()
        let uuid = try XCTUnwrap(licensed.health()["uuid"] as? String)
        XCTAssertEqual(try licensed.importLicense(try licensed.issue(boundTo: uuid.uppercased(), items: [item])).status, 201)
    }

    func testImportNeedsALogin() throws {
        let licensed = try LicensedNode()
        let response = try licensed.node.client.send("POST", licensed.node.url("/api/admin/licenses"),
                                                     body: try Data(contentsOf: URL(fileURLWithPath: try licensed.issue(items: [item]))))
        XCTAssertEqual(response.status, 401)
        XCTAssertEqual(response.json?["code"] as? Int, -20200)
        XCTAssertEqual(try licensed.items().count, 0)
    }
}
