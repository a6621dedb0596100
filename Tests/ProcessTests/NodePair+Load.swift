import Foundation
@testable import ClusterNode
@testable import OperatorTools
import LTSTestSupport
import XCTest

/// A pair under failing-over load, and the checks every failure story ends
/// with: both nodes hold the same log, and it holds every acknowledged grant.
extension NodePair {
    static let scanItem = "itemId=s,product=dbr,chargeWay=scan,quantity=100000000,expires=2099-12-31"

    /// Starts both nodes (node 0 leads), sets the admin up, imports a scan
    /// item and starts a load that has had `warmUp` grants acknowledged.
    func startUnderLoad(warmUp: Int = 200) throws -> (code: String, load: FailoverLoad) {
        XCTAssertEqual(try startBoth(), 0, "at a cold start with equal logs the main leads")
        try setUpAdmin(on: 0)
        let code = try importLicense(on: 0, items: [Self.scanItem])
        let load = FailoverLoad(servers: servers, code: code)
        XCTAssertTrue(load.waitForMore(warmUp), "no load on the primary")
        return (code, load)
    }

    /// Waits until both nodes hold the same log, durable in their stores
    /// (the cluster status's `flushedLsn` is its `lsn` on both), so that
    /// what the stores list is the whole log. Needs the admin on both.
    /// Health's `lsn` alone counts records a store has not written yet: a
    /// primary that had just re-applied 12,000 records listed its grants
    /// 3,763 short of what both stores held a moment later.
    func waitForSameDurableLsn() throws {
        try wait(for: "both nodes at the same lsn, durable") {
            let status = try (0..<2).map { try admin($0, "GET", "/api/admin/cluster").json }
            guard let a = status[0]?["lsn"] as? Int, let b = status[1]?["lsn"] as? Int,
                  status[0]?["flushedLsn"] as? Int == a, status[1]?["flushedLsn"] as? Int == b else { return false }
            return a == b
        }
    }

    /// Waits until both nodes hold the same log.
    func waitForSameLsn() throws {
        try wait(for: "both nodes at the same lsn") {
            guard let a = health(0)?["lsn"] as? Int, let b = health(1)?["lsn"] as? Int else { return false }
            return a == b
        }
    }

    /// Waits until both nodes hold the same log, then checks that each holds
    /// every acknowledged grant.
    func assertBothHold(_ acknowledged: [String: String], file: StaticString = #filePath, line: UInt = #line) throws {
        try waitForSameLsn()
        for index in 0..<2 { try assertHolds(index, acknowledged, file: file, line: line) }
    }

    /// Checks that node `index` lists every acknowledged grant
    /// (requestId → grantId), and no grant or requestId twice.
    func assertHolds(_ index: Int, _ acknowledged: [String: String], file: StaticString = #filePath, line: UInt = #line) throws {
        let listed = try grants(index)
        var byGrantId: [String: String] = [:]
        for grant in listed {
            guard let grantId = grant["grantId"] as? String else { continue }
            XCTAssertNil(byGrantId[grantId], "grant \(grantId) is listed twice on node \(index)", file: file, line: line)
            byGrantId[grantId] = grant["requestId"] as? String
        }
        let lost = acknowledged.filter { byGrantId[$0.value] != $0.key }
        XCTAssertEqual(lost.count, 0, "node \(index) lost \(lost.count) of \(acknowledged.count) acknowledged grants, e.g. \(lost.first.map { "\($0)" } ?? "")",
                       file: file, line: line)
        let requestIds = listed.compactMap { $0["requestId"] as? String }
        XCTAssertEqual(Set(requestIds).count, requestIds.count, "a requestId was granted twice on node \(index)", file: file, line: line)
    }
}
