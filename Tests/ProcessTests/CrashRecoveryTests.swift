import Foundation
import LTSTestSupport
import Transport
import XCTest

/// SIGKILL during a stream of authorizations: every grant a client saw
/// acknowledged is there after the restart, and none is counted twice.
final class CrashRecoveryTests: XCTestCase {
    func testAcknowledgedGrantsSurviveSIGKILL() throws {
        let licensed = try LicensedNode()
        _ = try licensed.importLicense(try licensed.issue(items: ["itemId=s,product=dbr,chargeWay=scan,quantity=1000000,expires=2099-12-31"]))
        let clients = 8
        let acknowledged = AcknowledgedGrants()
        let client = licensed.node.client
        let url = licensed.node.url("/api/v1/authorize")
        let enough = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        for worker in 0..<clients {
            DispatchQueue.global().async(group: group) {
                var sequence = 0
                var signalled = false
                while true {
                    sequence += 1
                    let requestId = "w\(worker)-\(sequence)"
                    guard let response = try? client.send("POST", url, body: json(["handshakeCode": "acme-1", "clientUUID": "w\(worker)",
                                                                                   "product": "dbr", "requestId": requestId])) else { return }
                    guard let grantId = response.json?["grantId"] as? String else { continue }
                    let count = acknowledged.add(requestId, grantId)
                    if count >= 300, !signalled, worker == 0 {
                        signalled = true
                        enough.signal()
                    }
                }
            }
        }
        XCTAssertEqual(enough.wait(timeout: .now() + 60), .success, "the node did not grant 300 authorizations")
        licensed.node.stop(signal: SIGKILL)
        XCTAssertEqual(group.wait(timeout: .now() + 30), .success)

        try licensed.node.start()
        try licensed.login()
        let grants = try licensed.grants()
        let stored = Dictionary(grants.map { ($0["grantId"] as! String, $0["requestId"] as? String) }, uniquingKeysWith: { first, _ in first })
        let seen = acknowledged.all
        for (requestId, grantId) in seen {
            XCTAssertEqual(stored[grantId], requestId, "acknowledged grant \(grantId) is lost")
        }
        XCTAssertEqual(try licensed.items()["s"]?["used"] as? Int, grants.count, "usage must equal the grants stored, each once")
        XCTAssertEqual(Set(grants.compactMap { $0["requestId"] as? String }).count, grants.count, "a requestId was counted twice")
        // Retrying every acknowledged request after the crash consumes nothing.
        for (requestId, grantId) in seen.prefix(50) {
            let worker = requestId.split(separator: "-")[0]
            let retry = try licensed.client("authorize", ["handshakeCode": "acme-1", "clientUUID": String(worker), "product": "dbr",
                                                          "requestId": requestId])
            XCTAssertEqual(retry.json?["grantId"] as? String, grantId)
        }
        XCTAssertEqual(try licensed.items()["s"]?["used"] as? Int, grants.count)
    }
}

/// Grants the load threads saw acknowledged: requestId → grantId.
private final class AcknowledgedGrants: @unchecked Sendable {
    private let lock = NSLock()
    private var grants: [String: String] = [:]

    /// Records one grant; returns how many there are now.
    func add(_ requestId: String, _ grantId: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        grants[requestId] = grantId
        return grants.count
    }

    var all: [String: String] {
        lock.lock()
        defer { lock.unlock() }
        return grants
    }
}
