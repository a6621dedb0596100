import Foundation
import LicenseClient
import LicenseState
import LTSTestSupport
import Transport
import XCTest

/// LicenseClient numbers the sendings of one request (`attempt`), and the
/// node logs the number with the answer: what lets a pair keep, after a
/// split, the answer the client took (README, "Answers during a split").
final class ClientAttemptTests: XCTestCase {
    func testARequestSentAgainAfterATimeoutCarriesALaterAttemptIntoTheLog() throws {
        let licensed = try LicensedNode()
        _ = try licensed.importLicense(try licensed.issue(items: ["itemId=s,product=dbr,chargeWay=scan,quantity=1000,expires=2099-12-31"]))
        var settings = LicenseClient.Settings(servers: [(licensed.node.url("/"), .pinnedSHA256(licensed.node.fingerprint))],
                                              handshakeCode: "acme-1", clientUUID: "attempt-client")
        settings.requestTimeoutMs = 400
        settings.callDeadlineMs = 20_000
        let client = try LicenseClient(settings: settings)
        let paused = try XCTUnwrap(licensed.node.process?.processIdentifier)

        // The node is stopped: the first sending times out, and so do the
        // next ones until it runs again.
        kill(paused, SIGSTOP)
        let answered = DispatchSemaphore(value: 0)
        var result: Result<Authorization, Error>?
        DispatchQueue.global().async {
            result = Result { try client.authorize(product: "dbr", requestId: "r-attempts") }
            answered.signal()
        }
        Thread.sleep(forTimeInterval: 1.5)
        kill(paused, SIGCONT)
        XCTAssertEqual(answered.wait(timeout: .now() + 20), .success, "no answer after the node ran again")
        let grant = try XCTUnwrap(result).get()

        let listed = try licensed.grants().filter { $0["requestId"] as? String == "r-attempts" }
        XCTAssertEqual(listed.map { $0["grantId"] as? String }, [grant.grantId], "one grant for the request, the one the client took")
        licensed.node.stop()
        let database = try Transport.SQLiteDatabase(path: licensed.node.directory + "/data/lts.sqlite", readOnly: true)
        defer { database.close() }
        var attempts: [String: [Int]] = [:]
        for row in try database.query("SELECT payload FROM wal WHERE kind IN ('grant', 'answered-again') ORDER BY lsn") {
            switch try LogRecordCodec.decode(try XCTUnwrap(row[0].blob)) {
            case .grant(let logged) where logged.requestId == "r-attempts":
                attempts["grant", default: []].append(logged.attempt ?? 0)
            case .grantAnsweredAgain(let logged, _) where logged.requestId == "r-attempts":
                attempts["answered-again", default: []].append(logged.attempt ?? 0)
            default:
                break
            }
        }
        print("attempts logged for r-attempts: \(attempts)")
        XCTAssertEqual(attempts["grant"]?.count, 1, "the request is granted once")
        // The answer the client took went to a sending after the first, which timed out.
        let latest = (attempts["grant"] ?? []) + (attempts["answered-again"] ?? [])
        XCTAssertGreaterThanOrEqual(latest.max() ?? 0, 2, "no sending after the first reached the log with its attempt")
    }
}
