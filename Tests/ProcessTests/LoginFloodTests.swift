import Foundation
import LTSTestSupport
import XCTest

/// Wrong logins from many addresses, each under its own limit (issue 17,
/// finding 1): the hashes run on the node's password thread, not on the
/// pool that commits the log, so grants keep their pace; checks beyond the
/// password queue are refused at once instead of piling up.
/// `make attack` (`LTS_ATTACK_SCALE` > 1) floods from 100 addresses for
/// 60 s instead, and holds authorize's p99 to 50 ms.
final class LoginFloodTests: XCTestCase {
    static let long = AttackTests.scale > 1
    static let addresses = long ? 100 : 60
    static let loginsPerAddress = 5
    static let floodSeconds = 60

    func testALoginFloodFromManyAddressesDoesNotStallGrants() throws {
        let licensed = try LicensedNode()
        let imported = try licensed.importLicense(try licensed.issue(items: ["itemId=s,product=dbr,chargeWay=scan,quantity=100000000,expires=2099-12-31"]))
        let code = try XCTUnwrap(imported.json?["handshakeCode"] as? String)
        let login = licensed.node.url("/api/admin/login")
        // Each address sends its 5 wrong logins in turn (or, long, wrong
        // logins for 60 s); 40 addresses at once (long, all of them).
        let rounds = Self.long ? "while [ $(date +%s) -lt \(Int(Date().timeIntervalSince1970) + Self.floodSeconds) ]" : "for i in $(seq \(Self.loginsPerAddress))"
        let script = """
        seq 2 \(Self.addresses + 1) | xargs -P \(Self.long ? Self.addresses : 40) -I{} sh -c '\(rounds); do \
        curl -sk -o /dev/null -w "%{http_code}\\n" --max-time 60 --interface 127.0.0.{} -X POST \(login) \
        -H "Content-Type: application/json" -d "{\\"password\\":\\"not the password $$\\"}"; done'
        """
        let flood = Process()
        flood.executableURL = URL(fileURLWithPath: "/bin/sh")
        flood.arguments = ["-c", script]
        let output = Pipe()
        flood.standardOutput = output
        try flood.run()
        var latencies: [Double] = []
        var index = 0
        while flood.isRunning {
            index += 1
            let started = Date()
            let answer = try licensed.client("authorize", ["handshakeCode": code, "clientUUID": "c", "product": "dbr", "requestId": "r\(index)"])
            latencies.append(Date().timeIntervalSince(started))
            XCTAssertEqual(answer.status, 200, String(decoding: answer.body, as: UTF8.self))
        }
        let statuses = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        let counts = Dictionary(grouping: statuses, by: { String($0) }).mapValues(\.count)
        if !Self.long {
            XCTAssertEqual(statuses.count, Self.addresses * Self.loginsPerAddress, "every login was answered: \(counts)")
        }
        XCTAssertEqual(statuses.filter { $0 == "000" }.count, 0, "a login went unanswered: \(counts)")
        XCTAssertGreaterThan(counts["503"] ?? 0, 0, "the password queue's cap never bit: \(counts)")
        XCTAssertGreaterThan(counts["401"] ?? 0, 0, "no wrong password was checked at all: \(counts)")
        let sorted = latencies.sorted()
        let p99 = sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
        print("login flood (\(counts)): \(sorted.count) authorize calls, p50 \(Int(sorted[sorted.count / 2] * 1_000)) ms, p99 \(Int(p99 * 1_000)) ms, max \(Int(sorted.last! * 1_000)) ms")
        XCTAssertLessThan(sorted.last!, 1.0, "an authorize waited behind the password hashes")
        if Self.long {
            XCTAssertLessThanOrEqual(p99, 0.050, "authorize p99 during the flood")
        }
    }
}
