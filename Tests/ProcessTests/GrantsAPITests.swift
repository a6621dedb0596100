import Foundation
import LTSTestSupport
import XCTest

/// `GET /dls/api/admin/grants?since=&limit=`: the pages of the grant list.
final class GrantsAPITests: XCTestCase {
    /// A `since` beyond every log position (up to the largest LSN, 2^64 − 1)
    /// is an empty page, not a crash (found by Schemathesis, tests/openapi);
    /// what is not a log position or a page size is 400.
    func testSinceBeyondEveryLogPositionIsAnEmptyPage() throws {
        let licensed = try LicensedNode()
        _ = try licensed.importLicense(try licensed.issue(items: ["itemId=s,product=dbr,chargeWay=scan,quantity=100,expires=2099-12-31"]))
        XCTAssertEqual(try licensed.client("authorize", ["handshakeCode": "acme-1", "clientUUID": "c1", "product": "dbr"]).status, 200)
        for since in ["9223372036854775807", "9223372036854775808", "18446744073709551615"] {
            let page = try licensed.admin("GET", "/api/admin/grants?since=\(since)&limit=10")
            XCTAssertEqual(page.status, 200, since)
            XCTAssertEqual(String(decoding: page.body, as: UTF8.self), "[]", since)
        }
        for query in ["since=18446744073709551616", "since=-1", "since=x", "limit=0", "limit=10001"] {
            let refused = try licensed.admin("GET", "/api/admin/grants?\(query)")
            XCTAssertEqual(refused.status, 400, query)
            XCTAssertEqual(refused.json?["code"] as? Int, -20001, query)
        }
        XCTAssertEqual(try licensed.grants().count, 1, "the node still serves the list")
    }
}
