import Foundation
import LTSTestSupport
import Transport
import XCTest

/// Malformed client bodies are refused with 400 (or 413) and log nothing.
final class ClientInputTests: XCTestCase {
    func testMalformedBodiesAreRefusedAndChangeNothing() throws {
        let licensed = try LicensedNode()
        _ = try licensed.importLicense(try licensed.issue(items: ["itemId=s,product=dbr,chargeWay=scan,quantity=100,expires=2099-12-31"]))
        let lsn = try licensed.health()["lsn"] as? Int
        let good: [String: Any] = ["handshakeCode": "acme-1", "clientUUID": "c1", "product": "dbr"]
        func with(_ key: String, _ value: Any?) -> Data {
            var fields = good
            fields[key] = value
            return json(fields)
        }
        let bodies: [(String, Data)] = [
            ("not JSON", Data("{handshakeCode".utf8)),
            ("a JSON array", Data("[1,2]".utf8)),
            ("missing clientUUID", with("clientUUID", nil)),
            ("missing product", with("product", nil)),
            ("a number as code", with("handshakeCode", 7)),
            ("an unknown field", with("colour", "blue")),
            ("zero scans", with("scans", 0)),
            ("fractional scans", with("scans", 1.5)),
            ("too many scans", with("scans", 10_000_000)),
            ("a boolean as scans", with("scans", true)),
            ("an empty client", with("clientUUID", "")),
            ("a long client", with("clientUUID", String(repeating: "x", count: 129))),
        ]
        for (name, body) in bodies {
            let response = try licensed.node.client.send("POST", licensed.node.url("/api/v1/authorize"), body: body)
            XCTAssertEqual(response.status, 400, name)
            XCTAssertEqual(response.json?["code"] as? Int, -20001, name)
        }
        let huge = try licensed.node.client.send("POST", licensed.node.url("/api/v1/authorize"), body: with("domain", String(repeating: "d", count: 20_000)))
        XCTAssertEqual(huge.status, 413)
        let noGrant = try licensed.client("heartbeat", ["grantId": "nope", "extra": 1])
        XCTAssertEqual(noGrant.status, 400)
        XCTAssertEqual(try licensed.health()["lsn"] as? Int, lsn, "refused calls must log nothing")
        XCTAssertEqual(try licensed.items()["s"]?["used"] as? Int, 0)
        XCTAssertEqual(try licensed.node.client.send("POST", licensed.node.url("/api/v1/authorize"), body: json(good)).status, 200)
    }
}
