import Foundation
import LicenseClient
import LTSTestSupport
import Transport
import XCTest

/// LicenseClient against a real main + standby pair: a failover during a
/// stream of authorizations, a lease kept across a failover, and usage
/// reports buffered while no server answers.
final class PairClientTests: XCTestCase {
    private func makeClient(_ pair: NodePair, code: String, deadlineMs: Int = 15_000) throws -> LicenseClient {
        var settings = LicenseClient.Settings(servers: pair.servers, handshakeCode: code, clientUUID: UUID().uuidString)
        settings.callDeadlineMs = deadlineMs
        return try LicenseClient(settings: settings)
    }

    private func itemUsed(_ pair: NodePair, on index: Int, item: String) throws -> Int? {
        let items = try JSONSerialization.jsonObject(with: try pair.admin(index, "GET", "/api/admin/items").body) as? [[String: Any]]
        return items?.first { $0["itemId"] as? String == item }?["used"] as? Int
    }

    func testAFailoverDuringAStreamOfAuthorizationsLosesNothingAndCountsNothingTwice() throws {
        let pair = try NodePair()
        XCTAssertEqual(try pair.startBoth(), 0)
        try pair.setUpAdmin(on: 0)
        let code = try pair.importLicense(on: 0, items: ["itemId=s,product=dbr,chargeWay=scan,quantity=100000000,expires=2099-12-31"])
        let client = try makeClient(pair, code: code)
        let granted = Granted()
        let stop = Flag()
        let group = DispatchGroup()
        for _ in 0..<4 {
            DispatchQueue.global().async(group: group) {
                while !stop.isSet {
                    guard let grant = try? client.authorize(product: "dbr") else { continue }
                    granted.add(grant)
                }
            }
        }
        XCTAssertTrue(granted.wait(until: 200), "no authorizations before the failover")
        pair.nodes[0].stop(signal: SIGKILL)
        let before = granted.count
        XCTAssertTrue(granted.wait(until: before + 200), "the client did not follow the failover")
        stop.set()
        group.wait()
        XCTAssertEqual(client.rememberedServer, pair.servers[1].url, "the client remembers the new primary")
        let listed = try pair.grants(1)
        var requestOf: [String: String] = [:]
        for grant in listed { requestOf[grant["grantId"] as? String ?? ""] = grant["requestId"] as? String }
        let all = granted.all
        let lost = all.filter { requestOf[$0.grantId] != $0.requestId }
        XCTAssertEqual(lost.count, 0, "acknowledged grants missing on the new primary, e.g. \(lost.first.map { "\($0)" } ?? "")")
        let requestIds = listed.compactMap { $0["requestId"] as? String }
        XCTAssertEqual(Set(requestIds).count, requestIds.count, "a requestId was counted twice")
        XCTAssertEqual(try itemUsed(pair, on: 1, item: "s"), listed.count, "usage equals the grants, each once")
    }

    func testALeaseKeptInTheBackgroundOutlivesAFailover() throws {
        let pair = try NodePair()
        XCTAssertEqual(try pair.startBoth(), 0)
        try pair.setUpAdmin(on: 0)
        let code = try pair.importLicense(on: 0, items: ["itemId=c,product=dbr,chargeWay=concurrentInstance,quantity=5,leaseSeconds=10,expires=2099-12-31"])
        let client = try makeClient(pair, code: code)
        let grant = try client.authorize(product: "dbr")
        XCTAssertEqual(grant.leaseSeconds, 10)
        let grantedAt = Date()
        let keeper = LeaseKeeper(client: client)
        defer { keeper.close() }
        let lost = Flag()
        keeper.onLost = { _, _ in lost.set() }
        keeper.keep(grantId: grant.grantId, leaseSeconds: grant.leaseSeconds)
        try pair.wait(timeoutSeconds: 20, for: "a first renewal") { keeper.renewals.count >= 1 }
        pair.nodes[0].stop(signal: SIGKILL)
        try pair.wait(timeoutSeconds: 30, for: "a renewal on the new primary, past the first lease's end") {
            keeper.renewals.lastServer == pair.servers[1].url && Date().timeIntervalSince(grantedAt) > 12
        }
        XCTAssertFalse(lost.isSet, "the lease was lost")
        XCTAssertEqual(try itemUsed(pair, on: 1, item: "c"), 1, "the lease is alive on the new primary")
        try client.release(grantId: grant.grantId)
        keeper.stop(grantId: grant.grantId)
        XCTAssertEqual(try itemUsed(pair, on: 1, item: "c"), 0)
        XCTAssertNoThrow(try client.release(grantId: grant.grantId), "releasing twice (a retry) is no error")
    }

    func testReportsBufferedWhileNoServerAnswersAreDeliveredOnce() throws {
        let pair = try NodePair()
        XCTAssertEqual(try pair.startBoth(), 0)
        try pair.setUpAdmin(on: 0)
        let code = try pair.importLicense(on: 0, items: ["itemId=s,product=dbr,chargeWay=scan,quantity=1000,expires=2099-12-31"])
        let client = try makeClient(pair, code: code, deadlineMs: 1_000)
        let buffer = try ReportBuffer(path: pair.directory + "/client/reports.jsonl")
        XCTAssertEqual(try client.report(scans: 3, buffer: buffer), .delivered(server: pair.servers[0].url))
        for node in pair.nodes { node.stop() }
        XCTAssertEqual(try client.report(scans: 4, buffer: buffer), .buffered)
        XCTAssertEqual(try client.report(scans: 5, buffer: buffer), .buffered)
        XCTAssertEqual(try client.deliverBuffered(buffer).delivered, 0, "nothing to deliver to while both are down")
        XCTAssertEqual(buffer.count, 2)

        XCTAssertEqual(try pair.startBoth(), 0)
        let waiting = buffer.pending
        XCTAssertEqual(try client.deliverBuffered(buffer).delivered, 2)
        XCTAssertEqual(buffer.count, 0)
        XCTAssertEqual(try itemUsed(pair, on: 0, item: "s"), 12)
        // An answer lost on the way back means a second delivery of the same report: counted once.
        let again = try ReportBuffer(path: pair.directory + "/client/again.jsonl")
        for report in waiting { try again.append(report) }
        XCTAssertEqual(try client.deliverBuffered(again).delivered, 2)
        XCTAssertEqual(try itemUsed(pair, on: 0, item: "s"), 12, "a report delivered twice counts once")
    }
}

/// Grants the load threads saw, in order; a test waits for a count.
private final class Granted: @unchecked Sendable {
    private let condition = NSCondition()
    private var grants: [Authorization] = []

    func add(_ grant: Authorization) {
        condition.lock()
        grants.append(grant)
        condition.broadcast()
        condition.unlock()
    }

    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return grants.count
    }

    var all: [Authorization] {
        condition.lock()
        defer { condition.unlock() }
        return grants
    }

    /// Waits (at most 30 s) until `count` grants were seen.
    func wait(until count: Int) -> Bool {
        let deadline = Date().addingTimeInterval(30)
        condition.lock()
        defer { condition.unlock() }
        while grants.count < count {
            guard condition.wait(until: deadline) else { return false }
        }
        return true
    }
}

/// A flag set once, read from any thread.
private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }

    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }
}
