import Foundation
import LTSTestSupport
import XCTest

/// `lts client` against a real pair: a client key stands in for the
/// servers, code and fingerprints; a call to the standby first still ends
/// at the primary; a refusal exits 3 with its DLS code; a lease is renewed
/// and released; no server at all exits 4.
final class ClientCommandTests: XCTestCase {
    func testTheClientCommandsAgainstAPair() throws {
        let pair = try NodePair()
        XCTAssertEqual(try pair.startBoth(), 0)
        try pair.setUpAdmin(on: 0)
        let code = try pair.importLicense(on: 0, items: ["itemId=c,product=dbr,chargeWay=concurrentInstance,quantity=5,expires=2099-12-31"])
        let urls = pair.nodes.map { $0.url("/") }
        let fingerprints = pair.nodes.map { $0.fingerprint.map { String(format: "%02X", $0) }.joined(separator: ":") }
        let state = ["--state-dir", pair.directory + "/client"]

        let keyRun = try NodeProcess.run(["client", "key", code, "--servers", urls.joined(separator: ","), "--fingerprint", fingerprints.joined(separator: ",")])
        XCTAssertEqual(keyRun.status, 0, keyRun.error)
        let key = keyRun.output.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(key.hasPrefix("lts1."), key)

        // The standby listed first: it redirects, the client follows.
        let standbyFirst = try NodeProcess.run(["client", "authorize", "--servers", urls.reversed().joined(separator: ","),
                                                "--fingerprint", fingerprints.reversed().joined(separator: ","), "--code", code,
                                                "--product", "dbr", "--json"] + state)
        XCTAssertEqual(standbyFirst.status, 0, standbyFirst.error)
        let first = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(standbyFirst.output.utf8)) as? [String: Any], standbyFirst.output)
        XCTAssertEqual(first["server"] as? String, urls[0])

        let byKey = try NodeProcess.run(["client", "authorize", "--key", key, "--product", "dbr", "--json"] + state)
        XCTAssertEqual(byKey.status, 0, byKey.error)
        let grant = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(byKey.output.utf8)) as? [String: Any])
        let grantId = try XCTUnwrap(grant["grantId"] as? String)
        XCTAssertEqual(grant["leaseSeconds"] as? Int, 180)

        let renewed = try NodeProcess.run(["client", "heartbeat", "--key", key, "--grant-id", grantId] + state)
        XCTAssertEqual(renewed.status, 0, renewed.error)
        XCTAssertTrue(renewed.output.contains("leaseSeconds"), renewed.output)
        XCTAssertEqual(try NodeProcess.run(["client", "release", "--key", key, "--grant-id", grantId] + state).status, 0)

        let refused = try NodeProcess.run(["client", "authorize", "--key", key, "--product", "other"] + state)
        XCTAssertEqual(refused.status, 3, refused.error)
        XCTAssertTrue(refused.error.contains("-20123"), refused.error)

        let uuid = try String(contentsOfFile: pair.directory + "/client/client-uuid", encoding: .utf8)
        XCTAssertNotNil(UUID(uuidString: uuid.trimmingCharacters(in: .whitespacesAndNewlines)), "the client UUID is kept")

        for node in pair.nodes { node.stop() }
        let nobody = try NodeProcess.run(["client", "authorize", "--key", key, "--product", "dbr", "--deadline-ms", "500"] + state)
        XCTAssertEqual(nobody.status, 4, nobody.error)
        XCTAssertTrue(nobody.error.contains("no license server answered"), nobody.error)
    }
}
