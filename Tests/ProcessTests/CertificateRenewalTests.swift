import Foundation
import LTSTestSupport
import Platform
import XCTest

/// A self-signed certificate is renewed for the same key before it expires,
/// its new fingerprint logged, and a peer that pinned the old fingerprint
/// keeps trusting it through the key it learned on the replication stream
/// (issue 17, finding 8).
final class CertificateRenewalTests: XCTestCase {
    func testANodeRenewsACertificateThirtyDaysBeforeItExpiresForTheSameKey() throws {
        let directory = NSTemporaryDirectory() + "lts-renewal-\(UUID().uuidString)"
        let tls = directory + "/data/tls"
        try FileManager.default.createDirectory(atPath: tls, withIntermediateDirectories: true)
        try SelfSignedCertificate.ensure(certificatePath: tls + "/node.crt", keyPath: tls + "/node.key", hostNames: ["127.0.0.1"],
                                         validityDays: 20)
        let before = try SelfSignedCertificate.keyAndExpiry(certificatePath: tls + "/node.crt")
        let oldFingerprint = try SelfSignedCertificate.fingerprint(certificatePath: tls + "/node.crt")
        let node = try NodeProcess(config: ["serverMode": "standalone", "listen": "127.0.0.1:0", "dataDir": "data"], directory: directory)
        try node.start()
        let line = try XCTUnwrap(node.waitForLogLine(containing: "renewed the self-signed TLS certificate", timeoutSeconds: 5))
        let after = try SelfSignedCertificate.keyAndExpiry(certificatePath: tls + "/node.crt")
        let newFingerprint = try SelfSignedCertificate.fingerprint(certificatePath: tls + "/node.crt")
        XCTAssertEqual(after.keySHA256, before.keySHA256, "a renewal keeps the key")
        XCTAssertNotEqual(newFingerprint, oldFingerprint)
        XCTAssertTrue(line.contains(newFingerprint) && line.contains(oldFingerprint), line)
        let days = (after.notAfter - Int64(Date().timeIntervalSince1970)) / 86_400
        XCTAssertTrue((824...825).contains(days), "the renewed certificate is valid \(days) days")
        XCTAssertEqual(node.fingerprint, SelfSignedCertificate.parseFingerprint(newFingerprint), "the node serves the renewed certificate")
        XCTAssertEqual(try node.client.send("GET", node.url("/api/health")).status, 200)
    }

    func testAPairThatPinnedTheOldFingerprintKeepsReplicatingAfterARenewal() throws {
        let pair = try NodePair(pinFingerprints: true)
        _ = try pair.startBoth()
        _ = try pair.waitForAttachedPair()
        // Each node learned the other's key on its first proven stream.
        for index in 0..<2 {
            XCTAssertNotNil(pair.nodes[index].waitForLogLine(containing: "learned the peer's TLS key", timeoutSeconds: 10), "node \(index)")
        }
        let renew = try NodeProcess.run(["tls", "renew", "--config", pair.nodes[0].configPath])
        XCTAssertEqual(renew.status, 0, renew.error)
        let renewed = try SelfSignedCertificate.fingerprint(certificatePath: pair.nodes[0].directory + "/data/tls/node.crt")
        XCTAssertTrue(renew.output.contains("fingerprint \(renewed)"), renew.output)
        // The main serves it from the next connection on.
        kill(try XCTUnwrap(pair.nodes[0].process?.processIdentifier), SIGHUP)
        XCTAssertNotNil(pair.nodes[0].waitForLogLine(containing: "now serving the TLS certificate", timeoutSeconds: 10))
        pair.nodes[0].fingerprint = try XCTUnwrap(SelfSignedCertificate.parseFingerprint(renewed))
        // The standby, restarted, dials the main anew: the pinned fingerprint
        // no longer matches, the learned key does.
        pair.nodes[1].stop()
        try pair.nodes[1].start()
        _ = try pair.waitForAttachedPair()
        let trusted = try XCTUnwrap(pair.nodes[1].waitForLogLine(containing: "trusted because its key", timeoutSeconds: 10))
        XCTAssertTrue(trusted.contains(renewed), "\(trusted) names \(renewed)")
    }
}
