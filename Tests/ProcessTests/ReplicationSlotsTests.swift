import Foundation
import LTSTestSupport
import XCTest

/// Issue 17, finding 2: outsiders holding the replication stream's
/// unauthenticated handshake slots (from many addresses, reconnecting as
/// each is timed out) cannot keep a restarted peer out: the oldest waiting
/// handshake makes room for a new one, and one address holds two at most.
final class ReplicationSlotsTests: XCTestCase {
    static let holderAddresses = 12

    func testHeldHandshakeSlotsDoNotKeepARestartedPeerOut() throws {
        let pair = try NodePair()
        XCTAssertEqual(try pair.startBoth(), 0)
        try pair.waitForAttachedPair()
        let term = try XCTUnwrap(pair.health(0)?["term"] as? Int)
        // Each holder upgrades to the replication protocol and then says
        // nothing, again and again, from an address of its own.
        let request = "GET /dls/cluster/stream HTTP/1.1\\r\\nHost: x\\r\\nConnection: Upgrade\\r\\nUpgrade: lts-replication/1\\r\\n\\r\\n"
        let holders = (2..<(2 + Self.holderAddresses)).map { address in
            "while true; do (printf '\(request)'; sleep 7) | openssl s_client -quiet -connect 127.0.0.1:\(pair.ports[0]) -bind 127.0.0.\(address):0 > /dev/null 2>&1; done &"
        }.joined(separator: "\n") + "\nwait"
        let attack = Process()
        attack.executableURL = URL(fileURLWithPath: "/bin/sh")
        attack.arguments = ["-c", holders]
        try attack.run()
        defer {
            // The loops (whose command lines hold the script) and their
            // openssl processes all name this port.
            while (try? SpawnedProcess.output(of: ["/usr/bin/pkill", "-KILL", "-f", "127.0.0.1:\(pair.ports[0]) -bind"])) != nil {}
            attack.waitUntilExit()
        }
        // Held streams are closed as they time out (or make room): the holders are at it.
        try pair.wait(for: "the holders to reach the main") {
            pair.nodes[0].logText.components(separatedBy: "closed an unauthenticated replication stream").count > Self.holderAddresses
        }

        pair.nodes[1].stop(signal: SIGKILL)
        try pair.nodes[1].start()
        try pair.wait(for: "the restarted standby to attach while the slots are held") {
            (pair.health(1)?["peer"] as? [String: Any])?["state"] as? String == "attached"
                && (pair.health(0)?["peer"] as? [String: Any])?["state"] as? String == "attached"
        }
        XCTAssertEqual(pair.health(1)?["role"] as? String, "standby", "the restarted node did not take over")
        XCTAssertEqual((0..<2).map { pair.health($0)?["term"] as? Int }, [term, term])

        // A third handshake from one address is refused at once.
        let third = try SpawnedProcess.output(of: ["/bin/sh", "-c", """
            for i in 1 2 3; do (printf '\(request)'; sleep 2) | openssl s_client -quiet -connect 127.0.0.1:\(pair.ports[0]) -bind 127.0.0.200:0 2>/dev/null & sleep 0.3; done; wait
            """])
        XCTAssertTrue(third.contains("503"), "a third stream from one address was let in: \(third)")
    }
}
