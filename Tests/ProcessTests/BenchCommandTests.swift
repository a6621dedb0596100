import Foundation
import LTSTestSupport
import XCTest

/// `lts bench authorize` against a real node: the grants the load generator
/// counts are exactly the scans the node counted, and a refused code is
/// reported as refusals, not grants.
final class BenchCommandTests: XCTestCase {
    func testBenchAuthorizeCountsWhatTheNodeCounted() throws {
        let licensed = try LicensedNode()
        _ = try licensed.importLicense(try licensed.issue(items: ["itemId=s,product=dbr,chargeWay=scan,quantity=100000000,expires=2099-12-31"]))
        let hex = licensed.node.fingerprint.map { String(format: "%02X", $0) }.joined(separator: ":")
        let server = "https://127.0.0.1:\(licensed.node.port)/dls/"
        let run = try NodeProcess.run(["bench", "authorize", "--server", server, "--fingerprint", hex, "--code", "acme-1",
                                       "--clients", "4", "--seconds", "1", "--json"])
        XCTAssertEqual(run.status, 0, run.error)
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any], run.output)
        let grants = try XCTUnwrap(summary["grants"] as? Int)
        XCTAssertGreaterThan(grants, 0)
        XCTAssertEqual(summary["errors"] as? Int, 0)
        XCTAssertEqual(try licensed.items()["s"]?["used"] as? Int, grants)

        let refused = try NodeProcess.run(["bench", "authorize", "--server", server, "--fingerprint", hex, "--code", "acme-nope",
                                           "--clients", "2", "--seconds", "1", "--json"])
        XCTAssertEqual(refused.status, 1, "a run without one grant must fail")
        let refusedSummary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(refused.output.utf8)) as? [String: Any])
        XCTAssertGreaterThan(refusedSummary["refused"] as? Int ?? 0, 0)
        XCTAssertEqual(try licensed.items()["s"]?["used"] as? Int, grants)
    }

    func testBenchAuthorizeSpreadsClientsOverSeveralCodes() throws {
        let licensed = try LicensedNode()
        _ = try licensed.importLicense(try licensed.issue(items: ["itemId=a,product=dbr,chargeWay=scan,quantity=100000000,expires=2099-12-31"]))
        _ = try licensed.importLicense(try licensed.issue(items: ["itemId=b,product=dbr,chargeWay=scan,quantity=100000000,expires=2099-12-31"]))
        let hex = licensed.node.fingerprint.map { String(format: "%02X", $0) }.joined(separator: ":")
        let server = "https://127.0.0.1:\(licensed.node.port)/dls/"
        let run = try NodeProcess.run(["bench", "authorize", "--server", server, "--fingerprint", hex, "--code", "acme-1,acme-2",
                                       "--clients", "4", "--seconds", "1", "--json"])
        XCTAssertEqual(run.status, 0, run.error)
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any], run.output)
        let grants = try XCTUnwrap(summary["grants"] as? Int)
        XCTAssertEqual(summary["errors"] as? Int, 0)
        XCTAssertEqual(summary["refused"] as? Int, 0)
        let items = try licensed.items()
        let usedA = try XCTUnwrap(items["a"]?["used"] as? Int), usedB = try XCTUnwrap(items["b"]?["used"] as? Int)
        XCTAssertGreaterThan(usedA, 0, "clients 0 and 2 authorize under acme-1")
        XCTAssertGreaterThan(usedB, 0, "clients 1 and 3 authorize under acme-2")
        XCTAssertEqual(usedA + usedB, grants)

        let empty = try NodeProcess.run(["bench", "authorize", "--server", server, "--fingerprint", hex, "--code", ",", "--seconds", "1"])
        XCTAssertNotEqual(empty.status, 0, "--code without a code is refused")
    }
}
