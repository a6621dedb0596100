@testable import ClusterNode
import Foundation
import LicenseState
import Transport
import XCTest

/// The audit route's query and encodings, without a node: a query is
/// checked whole, CSV quotes every field and defuses what a spreadsheet
/// would run as a formula.
final class AuditAPIQueryTests: XCTestCase {
    func testAQueryIsCheckedWhole() throws {
        let query = try AuditAPI.Query(["since": "2026-12-07", "before": "9", "limit": "1000", "action": "login", "actor": "Session",
                                        "text": "198.51", "format": "csv"])
        XCTAssertEqual(query.since, UTCTime.parse("2026-12-07T00:00:00Z"))
        XCTAssertEqual(query.beforeId, 9)
        XCTAssertEqual(query.limit, 1000)
        XCTAssertEqual(query.action, .login)
        XCTAssertTrue(query.csv)
        let defaults = try AuditAPI.Query([:])
        XCTAssertEqual(defaults.limit, AuditAPI.defaultLimit)
        XCTAssertNil(defaults.since)
        XCTAssertFalse(defaults.csv)
        for bad in [["limit": "0"], ["limit": "1001"], ["since": "2026-13-01"], ["before": "0"], ["action": "Login"], ["format": "xml"],
                    ["text": String(repeating: "x", count: AuditAPI.filterBytesMax + 1)], ["page": "2"]] {
            XCTAssertThrowsError(try AuditAPI.Query(bad), "\(bad)") { error in
                XCTAssertEqual((error as? APIError)?.code, -20220, "\(bad)")
            }
        }
    }

    func testFiltersMatchCaseInsensitively() throws {
        let entry = AuditEntry(at: 0, actor: "admin session 0a1b2c3d", address: "198.51.100.7", action: .login, object: "", refusalCode: -20201)
        XCTAssertTrue(try AuditAPI.Query(["actor": "SESSION 0A"]).matches(entry))
        XCTAssertTrue(try AuditAPI.Query(["text": "refused -20201"]).matches(entry))
        XCTAssertTrue(try AuditAPI.Query(["text": "1970-01-01"]).matches(entry), "the time as shown")
        XCTAssertFalse(try AuditAPI.Query(["action": "logout"]).matches(entry))
        XCTAssertFalse(try AuditAPI.Query(["text": "203.0.113"]).matches(entry))
    }

    func testCSVQuotesEveryFieldAndDefusesFormulas() {
        let entries: [(id: Int64, entry: AuditEntry)] = [
            (2, AuditEntry(at: 1_796_636_531, actor: "anonymous", address: "2001:db8::1", action: .handshakeCreate,
                           object: "=HYPERLINK(\"http://x\",\"a, b\")", refusalCode: -20311)),
            (1, AuditEntry(at: 0, actor: "setup", address: "", action: .passwordSet, object: "-1+1", refusalCode: nil)),
        ]
        let text = String(decoding: AuditAPI.csv(entries), as: UTF8.self)
        XCTAssertEqual(text, """
            "id","at","actor","address","action","object","result"\r
            "2","2026-12-07T09:42:11Z","anonymous","2001:db8::1","handshake-create","'=HYPERLINK(""http://x"",""a, b"")","refused -20311"\r
            "1","1970-01-01T00:00:00Z","setup","","password-set","'-1+1","ok"\r

            """)
        let json = (try? JSONSerialization.jsonObject(with: AuditAPI.json(entries))) as? [[String: Any]]
        XCTAssertEqual(json?.first?["id"] as? Int, 2)
        XCTAssertEqual(json?.first?["object"] as? String, "=HYPERLINK(\"http://x\",\"a, b\")", "JSON keeps the text as it is")
        XCTAssertEqual(json?.last?["result"] as? String, "ok")
        XCTAssertEqual(Set(json?.first?.keys.map { $0 } ?? []), Set(AuditAPI.columns))
    }
}
