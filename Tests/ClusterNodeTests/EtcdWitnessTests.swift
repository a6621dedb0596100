@testable import ClusterNode
import LTSTestSupport
import Platform
import Replication
import XCTest

/// The etcd witness: its rules as a pure function, then claims against a
/// real etcd (`etcd-server`), as a node's worker thread sends them.
final class EtcdWitnessTests: XCTestCase {
    private func claim(_ node: Int, term: UInt64, release: Bool = false) -> WitnessClaim {
        WitnessClaim(id: 1, node: node, term: term, holdMs: 553, release: release)
    }

    func testTheRulesAreTheWitnessBooks() {
        typealias Rules = EtcdWitnessRules
        let empty = Rules.State()
        XCTAssertEqual(Rules.plan(claim(0, term: 2), empty), .take(term: 2, writeTerm: true))
        let held = Rules.State(term: 2, termRevision: 5, holder: Rules.Holder(node: 0, term: 2), holderRevision: 6)
        XCTAssertEqual(Rules.plan(claim(0, term: 2), held), .take(term: 2, writeTerm: false), "the holder renews")
        XCTAssertEqual(Rules.plan(claim(1, term: 3), held),
                       .refuse(WitnessAnswer(granted: false, highestTerm: 2, holder: 0, leaseRemainingMs: 0)), "the lease still runs")
        var expired = held
        expired.holder = nil
        expired.holderRevision = 0
        XCTAssertEqual(Rules.plan(claim(1, term: 3), expired), .take(term: 3, writeTerm: true), "the lease ran out")
        XCTAssertEqual(Rules.plan(claim(1, term: 1), expired),
                       .refuse(WitnessAnswer(granted: false, highestTerm: 2, holder: nil, leaseRemainingMs: 0)), "a lower term")
        XCTAssertEqual(Rules.plan(claim(0, term: 4), held), .take(term: 4, writeTerm: true), "the holder moves to a later term of its own")
        XCTAssertEqual(Rules.plan(claim(0, term: 2, release: true), held), .release)
        XCTAssertEqual(Rules.plan(claim(1, term: 3, release: true), held), .nothing)
        XCTAssertNil(Rules.Holder(text: "2:4"))
        XCTAssertNil(Rules.Holder(text: "0:x"))
        XCTAssertEqual(Rules.Holder(text: "1:7"), Rules.Holder(node: 1, term: 7))
    }

    func testClaimsAgainstARealEtcd() throws {
        if let reason = EtcdProcess.unavailableReason { throw XCTSkip(reason) }
        let etcd = try EtcdProcess()
        let calls = EtcdCalls(client: HTTPClient(timeoutMs: 2_000), endpoints: ["http://127.0.0.1:1", etcd.clientURL])
        let prefix = "/lts/test-\(UUID().uuidString)"
        func ask(_ claim: WitnessClaim) throws -> WitnessAnswer? { try EtcdWitness.perform(claim, etcd: calls, prefix: prefix) }

        let first = try XCTUnwrap(try ask(claim(0, term: 2)), "a dead first endpoint is skipped")
        XCTAssertTrue(first.granted)
        XCTAssertGreaterThanOrEqual(first.leaseRemainingMs, 1_000, "etcd leases are whole seconds")
        XCTAssertFalse(try XCTUnwrap(try ask(claim(1, term: 3))).granted, "the holder's lease runs")
        XCTAssertTrue(try XCTUnwrap(try ask(claim(0, term: 2))).granted, "the holder renews")
        XCTAssertEqual(try calls.read(prefix: prefix).holder, EtcdWitnessRules.Holder(node: 0, term: 2))

        // Node 0 stops renewing: its etcd lease runs out, and then node 1 gets term 3.
        let deadline = Date().addingTimeInterval(15)
        var taken: WitnessAnswer?
        while Date() < deadline {
            taken = try ask(claim(1, term: 3))
            if taken?.granted == true { break }
            usleep(200_000) // A claim every 200 ms, as a standby claims every heartbeat.
        }
        XCTAssertEqual(taken?.granted, true, "the term never moved after the lease ran out")
        let stale = try XCTUnwrap(try ask(claim(0, term: 2)))
        XCTAssertFalse(stale.granted)
        XCTAssertEqual(stale.highestTerm, 3, "the old holder learns the later term")
        XCTAssertNil(try ask(claim(1, term: 3, release: true)))
        XCTAssertNil(try calls.read(prefix: prefix).holder)
        XCTAssertTrue(try XCTUnwrap(try ask(claim(0, term: 4))).granted, "a released lease lets the next term go at once")
        XCTAssertEqual(try calls.read(prefix: prefix).term, 4)
    }
}
