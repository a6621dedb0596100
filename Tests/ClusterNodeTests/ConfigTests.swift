@testable import ClusterNode
import Foundation
import LicenseClient
import Platform
import XCTest

final class ConfigTests: XCTestCase {
    private let secret = "0123456789abcdef0123"

    private func parse(_ json: String) throws -> Config {
        try Config.parse(Data(json.utf8), baseDirectory: "/etc/lts")
    }

    private func assertRefused(_ json: String, key: String, _ reasonPart: String, line: UInt = #line) {
        XCTAssertThrowsError(try parse(json), line: line) { error in
            guard let error = error as? ConfigError else { return XCTFail("not a ConfigError: \(error)", line: line) }
            XCTAssertEqual(error.key, key, line: line)
            XCTAssertTrue(error.description.contains(reasonPart), "\(error)", line: line)
            XCTAssertTrue(error.description.contains("\"\(key)\"") || key.isEmpty, "\(error)", line: line)
        }
    }

    func testAnEmptyObjectIsAWorkingStandaloneNode() throws {
        let config = try parse("{}")
        XCTAssertEqual(config.serverMode, .standalone)
        XCTAssertEqual(config.listenHost, "0.0.0.0")
        XCTAssertEqual(config.listenPort, 48080)
        XCTAssertEqual(config.dataDir, "/etc/lts/lts-data")
        XCTAssertEqual(config.tls, .selfSigned)
        XCTAssertEqual(config.heartbeatMs, 100)
        XCTAssertEqual(config.failoverTimeoutMs, 1000)
        XCTAssertEqual(config.degradeAfterMs, 5000)
        XCTAssertEqual(config.replication, .sync)
        XCTAssertFalse(config.http2)
    }

    func testTwoServersMeanMainStandby() throws {
        let config = try parse(#"{"servers": ["self", "https://standby.example.com/dls/"], "clusterSecret": "\#(secret)"}"#)
        XCTAssertEqual(config.serverMode, .mainStandby)
        XCTAssertEqual(config.peerURL, "https://standby.example.com/dls/")
        XCTAssertEqual(config.selfIndex, 0)
    }

    func testTheSamplesAreRefusedUntilTheirPlaceholdersAreReplaced() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for name in ["lts.json.sample", "dls.json.sample"] {
            let text = try String(contentsOfFile: root.appendingPathComponent("Config/\(name)").path, encoding: .utf8)
            XCTAssertThrowsError(try parse(text), name) { error in
                XCTAssertEqual((error as? ConfigError)?.key, "clusterSecret", "\(error)")
            }
            let filledIn = text.replacingOccurrences(of: "replace-with-the-same-long-random-secret-on-both-nodes", with: "a secret of this very site 123")
                .replacingOccurrences(of: "www.example.com", with: "lts-a.corp.test").replacingOccurrences(of: "standby.example.com", with: "lts-b.corp.test")
                .replacingOccurrences(of: "witness.example.com", with: "lts-w.corp.test").replacingOccurrences(of: "smtp.example.com", with: "mail.corp.test")
                .replacingOccurrences(of: "replace-me", with: "mail password").replacingOccurrences(of: "AB:CD:EF:01:23:45:67:89:", with: "12:34:56:78:9A:BC:DE:F0:")
            let config = try parse(filledIn)
            XCTAssertEqual(config.serverMode, .mainStandby, name)
            XCTAssertNotEqual(config.tls, .off, "the samples never turn TLS off")
        }
    }

    func testEverySamplePlaceholderIsRefusedByItsKey() {
        let pair = #""servers": ["self", "https://b.corp.test/dls/"], "clusterSecret": "0123456789abcdef""#
        let sampleFingerprint = String(repeating: "AB:CD:EF:01:23:45:67:89:", count: 4).dropLast()
        assertRefused(#"{"servers": ["self", "https://b.corp.test/dls/"], "clusterSecret": "replace-with-the-same-long-random-secret-on-both-nodes"}"#,
                      key: "clusterSecret", "placeholder")
        assertRefused(#"{"servers": ["self", "https://standby.example.com:48080/dls/"], "clusterSecret": "0123456789abcdef"}"#,
                      key: "servers", "placeholder")
        assertRefused(#"{"publicUrl": "https://www.example.com:48080/dls/"}"#, key: "publicUrl", "placeholder")
        assertRefused(#"{\#(pair), "peerFingerprint": "\#(sampleFingerprint)"}"#, key: "peerFingerprint", "placeholder")
        assertRefused(#"{\#(pair), "witness": {"url": "https://witness.example.com:48090/", "caFile": "w.crt"}}"#, key: "witness.url", "placeholder")
        assertRefused(#"{\#(pair), "witness": {"url": "https://w.corp.test:48090/", "fingerprint": "\#(sampleFingerprint)"}}"#,
                      key: "witness.fingerprint", "placeholder")
        assertRefused(#"{"smtp": {"host": "smtp.example.com"}}"#, key: "smtp.host", "placeholder")
        assertRefused(#"{"smtp": {"host": "mail.corp.test", "password": "replace-me"}}"#, key: "smtp.password", "placeholder")
    }

    func testTheFilesASettingNamesAreReadAtLoad() throws {
        let directory = NSTemporaryDirectory() + "lts-config-files-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try SelfSignedCertificate.ensure(certificatePath: directory + "/a.crt", keyPath: directory + "/a.key", hostNames: [])
        try SelfSignedCertificate.ensure(certificatePath: directory + "/b.crt", keyPath: directory + "/b.key", hostNames: [])
        try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: directory + "/bad.pem"))
        func load(_ json: String) throws -> Config {
            try Data(json.utf8).write(to: URL(fileURLWithPath: directory + "/lts.json"))
            return try Config.load(path: directory + "/lts.json")
        }
        func assertLoadRefused(_ json: String, key: String, _ reasonPart: String, line: UInt = #line) {
            XCTAssertThrowsError(try load(json), line: line) { error in
                XCTAssertEqual((error as? ConfigError)?.key, key, "\(error)", line: line)
                XCTAssertTrue("\(error)".contains(reasonPart), "\(error)", line: line)
            }
        }
        XCTAssertNoThrow(try load(#"{"tls": {"certificate": "a.crt", "key": "a.key"}}"#))
        assertLoadRefused(#"{"tls": {"certificate": "none.crt", "key": "a.key"}}"#, key: "tls.certificate", "\(directory)/none.crt\" does not exist")
        assertLoadRefused(#"{"tls": {"certificate": "bad.pem", "key": "a.key"}}"#, key: "tls.certificate", "holds no PEM certificate")
        assertLoadRefused(#"{"tls": {"certificate": "a.crt", "key": "b.key"}}"#, key: "tls.key", "cannot serve")
        let pair = #""servers": ["self", "https://b.corp.test/dls/"], "clusterSecret": "0123456789abcdef""#
        assertLoadRefused(#"{\#(pair), "peerCaFile": "none.crt"}"#, key: "peerCaFile", "does not exist")
        assertLoadRefused(#"{\#(pair), "witness": {"url": "https://w.corp.test:48090/", "caFile": "bad.pem"}}"#, key: "witness.caFile",
                          "holds no PEM certificate")
        assertLoadRefused(#"{"smtp": {"host": "mail.corp.test", "caFile": "none.crt"}}"#, key: "smtp.caFile", "does not exist")
        assertLoadRefused(#"{"trustedIssuers": ["bad.pem"]}"#, key: "trustedIssuers", "not an Ed25519 public key")
    }

    func testRelativePathsResolveAgainstTheFile() throws {
        let config = try parse(#"{"dataDir": "data", "tls": {"certificate": "tls/a.crt", "key": "/abs/a.key"}, "trustedIssuers": ["keys/v.pub"]}"#)
        XCTAssertEqual(config.dataDir, "/etc/lts/data")
        XCTAssertEqual(config.tls, .files(certificate: "/etc/lts/tls/a.crt", key: "/abs/a.key"))
        XCTAssertEqual(config.trustedIssuers, ["/etc/lts/keys/v.pub"])
    }

    func testTLSCanBeTurnedOffOnlyExplicitly() throws {
        XCTAssertEqual(try parse(#"{"tls": false}"#).tls, .off)
        XCTAssertEqual(try parse(#"{"tls": {}}"#).tls, .selfSigned)
    }

    func testUnknownKeysAreRefusedByName() {
        assertRefused(#"{"lisen": "0.0.0.0:1"}"#, key: "lisen", "not a known setting")
        assertRefused(#"{"tls": {"cert": "x"}}"#, key: "tls.cert", "not a known setting")
        assertRefused(#"{"smtp": {"host": "h", "pasword": "x"}}"#, key: "smtp.pasword", "not a known setting")
    }

    func testWrongTypesAreRefusedByName() {
        assertRefused(#"{"heartbeatMs": "100"}"#, key: "heartbeatMs", "whole number")
        assertRefused(#"{"heartbeatMs": 1.5}"#, key: "heartbeatMs", "whole number")
        assertRefused(#"{"heartbeatMs": true}"#, key: "heartbeatMs", "whole number")
        assertRefused(#"{"servers": "self"}"#, key: "servers", "list of strings")
        assertRefused(#"{"servers": ["self", 3]}"#, key: "servers", "list of strings")
        assertRefused(#"{"http2": 1}"#, key: "http2", "true or false")
        assertRefused(#"{"publicUrl": 5}"#, key: "publicUrl", "string")
        assertRefused(#"{"tls": "yes"}"#, key: "tls", "false or an object")
        assertRefused(#"{"smtp": []}"#, key: "smtp", "object")
        assertRefused("[]", key: "", "JSON object")
        assertRefused("{", key: "", "JSON object")
    }

    func testServersMustHoldExactlyOneSelfInMainStandby() {
        assertRefused(#"{"servers": ["https://a/dls/", "https://b/dls/"], "clusterSecret": "\#(secret)"}"#, key: "servers", "exactly one \"self\"")
        assertRefused(#"{"servers": ["self", "self"], "clusterSecret": "\#(secret)"}"#, key: "servers", "exactly one \"self\"")
        assertRefused(#"{"serverMode": "main_standby", "servers": ["self"], "clusterSecret": "\#(secret)"}"#, key: "servers", "exactly two entries")
        assertRefused(#"{"servers": ["self", "standby.example.com"], "clusterSecret": "\#(secret)"}"#, key: "servers", "not a URL")
        assertRefused(#"{"servers": ["self", "http://b/dls/"], "clusterSecret": "\#(secret)"}"#, key: "servers", "https")
        assertRefused(#"{"serverMode": "standalone", "servers": ["self", "https://b/dls/"]}"#, key: "servers", "standalone")
    }

    func testMainStandbyNeedsAClusterSecret() {
        assertRefused(#"{"servers": ["self", "https://b/dls/"]}"#, key: "clusterSecret", "shared secret")
        assertRefused(#"{"servers": ["self", "https://b/dls/"], "clusterSecret": "short"}"#, key: "clusterSecret", "at least 16")
    }

    func testTimingsMustAllowFailover() {
        assertRefused(#"{"heartbeatMs": 400, "failoverTimeoutMs": 1200}"#, key: "failoverTimeoutMs", "3 × heartbeatMs")
        assertRefused(#"{"heartbeatMs": 0}"#, key: "heartbeatMs", "between 10 and")
        XCTAssertNoThrow(try parse(#"{"heartbeatMs": 400, "failoverTimeoutMs": 1201}"#))
    }

    func testOtherValueChecks() {
        assertRefused(#"{"serverMode": "cluster"}"#, key: "serverMode", "main_standby")
        assertRefused(#"{"replication": "semi"}"#, key: "replication", "sync")
        assertRefused(#"{"listen": "48080"}"#, key: "listen", "HOST:PORT")
        assertRefused(#"{"listen": "0.0.0.0:70000"}"#, key: "listen", "HOST:PORT")
        assertRefused(#"{"tls": {"certificate": "a.crt"}}"#, key: "tls.key", "together")
        assertRefused(#"{"smtp": {"port": 25}}"#, key: "smtp.host", "required")
        assertRefused(#"{"smtp": {"host": "h", "security": "ssl"}}"#, key: "smtp.security", "starttls")
        assertRefused(#"{"publicUrl": "www.example.com"}"#, key: "publicUrl", "not a URL")
    }

    func testAlertSettings() throws {
        let config = try parse(#"{"alerts": {"recipients": ["ops@example.com"], "checkMinutes": 0.05, "standbyLagMinutes": 2}, "smtp": {"host": "mail.example.com", "caFile": "tls/mail.pem", "timeoutSeconds": 30}}"#)
        XCTAssertEqual(config.alerts, Config.Alerts(recipients: ["ops@example.com"], checkMilliseconds: 3_000, standbyLagMinutes: 2))
        XCTAssertEqual(config.smtp?.caFile, "/etc/lts/tls/mail.pem")
        XCTAssertEqual(config.smtp?.timeoutSeconds, 30)
        XCTAssertEqual(config.smtp?.port, 587, "STARTTLS's port unless told")
        XCTAssertEqual(try parse(#"{"alerts": {}}"#).alerts, Config.Alerts(recipients: [], checkMilliseconds: 600_000, standbyLagMinutes: 5))
        assertRefused(#"{"alerts": {"checkMinutes": 0.01}}"#, key: "alerts.checkMinutes", "between 0.05")
        assertRefused(#"{"alerts": {"recipients": ["ops"]}}"#, key: "alerts.recipients", "\"ops\"")
        assertRefused(#"{"alerts": {"recipient": []}}"#, key: "alerts.recipient", "not a known setting")
        assertRefused(#"{"alerts": {"standbyLagMinutes": 0}}"#, key: "alerts.standbyLagMinutes", "between 1")
        assertRefused(#"{"smtp": {"host": "h", "timeoutSeconds": 0}}"#, key: "smtp.timeoutSeconds", "between 1")
    }

    func testListenAcceptsBracketedIPv6() throws {
        let config = try parse(#"{"listen": "[::1]:9000"}"#)
        XCTAssertEqual(config.listenHost, "::1")
        XCTAssertEqual(config.listenPort, 9000)
    }

    func testHostNamesForTheCertificateComeFromPublicUrlAndListen() throws {
        let config = try parse(#"{"publicUrl": "https://lts.example.com:48080/dls/", "listen": "10.0.0.5:48080"}"#)
        XCTAssertEqual(config.hostNames, ["lts.example.com", "10.0.0.5"])
    }
}

/// The `witness` setting of a node and the configuration of `lts witness`.
final class WitnessConfigTests: XCTestCase {
    private let pair = #""servers": ["self", "https://standby.example.com/dls/"], "clusterSecret": "0123456789abcdef0123""#
    private let fingerprint = String(repeating: "AB:", count: 31) + "AB"

    private func parse(_ json: String) throws -> Config {
        try Config.parse(Data(json.utf8), baseDirectory: "/etc/lts")
    }

    private func refusal(_ json: String) -> ConfigError? {
        do {
            _ = try parse(json)
            return nil
        } catch {
            return error as? ConfigError
        }
    }

    func testAWitnessIsPinnedByFingerprintOrCAFile() throws {
        let pinned = try parse(#"{\#(pair), "witness": {"url": "https://witness.corp.test:48090/", "fingerprint": "\#(fingerprint)"}}"#)
        XCTAssertEqual(pinned.witness, .lts(url: "https://witness.corp.test:48090/", trust: .pinnedSHA256([UInt8](repeating: 0xAB, count: 32))))
        let byCA = try parse(#"{\#(pair), "witness": {"url": "https://witness.corp.test:48090/", "caFile": "witness.crt"}}"#)
        XCTAssertEqual(byCA.witness, .lts(url: "https://witness.corp.test:48090/", trust: .caFile("/etc/lts/witness.crt")))
        XCTAssertNil(try parse(#"{\#(pair)}"#).witness)
        let etcd = try parse(#"{\#(pair), "witness": {"etcd": ["http://etcd1:2379", "https://etcd2:2379"], "keyPrefix": "/lts/a-b", "caFile": "etcd-ca.crt"}}"#)
        XCTAssertEqual(etcd.witness, .etcd(endpoints: ["http://etcd1:2379", "https://etcd2:2379"], keyPrefix: "/lts/a-b", trust: .caFile("/etc/lts/etcd-ca.crt")))
    }

    func testAWitnessSettingThatCannotWorkIsRefusedByName() {
        let cases: [(json: String, key: String, reason: String)] = [
            (#"{\#(pair), "witness": "https://w/"}"#, "witness", "must be an object"),
            (#"{\#(pair), "witness": {"fingerprint": "\#(fingerprint)"}}"#, "witness.url", "is required"),
            (#"{\#(pair), "witness": {"url": "http://w:1/"}}"#, "witness.url", "is not an https URL"),
            (#"{\#(pair), "witness": {"url": "https://w:1/", "fingerprint": "abc"}}"#, "witness.fingerprint", "64 hex digits"),
            (#"{\#(pair), "witness": {"url": "https://w:1/", "fingerprint": "\#(fingerprint)", "caFile": "w.crt"}}"#, "witness.caFile", "keep one"),
            (#"{\#(pair), "witness": {"url": "https://w:1/", "port": 1}}"#, "witness.port", "not a known setting"),
            (#"{\#(pair), "witness": {"etcd": [], "keyPrefix": "/lts/a"}}"#, "witness.etcd", "at least one"),
            (#"{\#(pair), "witness": {"etcd": ["etcd:2379"], "keyPrefix": "/lts/a"}}"#, "witness.etcd", "not an etcd client URL"),
            (#"{\#(pair), "witness": {"etcd": ["http://etcd:2379"]}}"#, "witness.keyPrefix", "is required"),
            (#"{\#(pair), "witness": {"etcd": ["http://etcd:2379"], "keyPrefix": "/lts/a/"}}"#, "witness.keyPrefix", "no trailing"),
            (#"{\#(pair), "witness": {"etcd": ["http://etcd:2379"], "keyPrefix": "/lts/a", "fingerprint": "x"}}"#, "witness.fingerprint", "not a known"),
            (#"{"witness": {"url": "https://w:1/"}}"#, "witness", "is for a pair"),
        ]
        for (json, key, reason) in cases {
            let error = refusal(json)
            XCTAssertEqual(error?.key, key, json)
            XCTAssertTrue(error?.description.contains(reason) ?? false, "\(json): \(String(describing: error))")
        }
    }

    func testTheWitnessConfiguration() throws {
        let config = try WitnessConfig.parse(Data(#"{"clusterSecret": "0123456789abcdef0123"}"#.utf8), baseDirectory: "/srv")
        XCTAssertEqual(config, WitnessConfig(listenHost: "0.0.0.0", listenPort: 48090, dataDir: "/srv/lts-witness",
                                             clusterSecret: "0123456789abcdef0123", tls: .selfSigned))
        XCTAssertEqual(try WitnessConfig.parse(Data(#"{"clusterSecret": "0123456789abcdef0123", "logFormat": "json"}"#.utf8), baseDirectory: "/srv").logFormat, .json)
        let refusals: [(json: String, key: String)] = [
            (#"{}"#, "clusterSecret"),
            (#"{"clusterSecret": "short"}"#, "clusterSecret"),
            (#"{"clusterSecret": "0123456789abcdef0123", "tls": false}"#, "tls"),
            (#"{"clusterSecret": "0123456789abcdef0123", "servers": []}"#, "servers"),
            (#"{"clusterSecret": "0123456789abcdef0123", "listen": "nowhere"}"#, "listen"),
            (#"{"clusterSecret": "0123456789abcdef0123", "logFormat": "JSON"}"#, "logFormat"),
        ]
        for (json, key) in refusals {
            XCTAssertThrowsError(try WitnessConfig.parse(Data(json.utf8), baseDirectory: "/srv"), json) { error in
                XCTAssertEqual((error as? ConfigError)?.key, key, "\(json): \(error)")
            }
        }
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Config/witness.json.sample").path
        XCTAssertNoThrow(try WitnessConfig.load(path: sample))
    }
}

// MARK: Behind a proxy

extension ConfigTests {
    func testTrustedProxiesAreCIDRsAndABadEntryIsRefusedByName() throws {
        XCTAssertEqual(try parse("{}").trustedProxies.networks, [], "none by default")
        let config = try parse(#"{"trustedProxies": ["127.0.0.1", "10.0.0.0/8", "2001:db8::/32"]}"#)
        XCTAssertEqual(config.trustedProxies.networks.map(\.description), ["127.0.0.1/32", "10.0.0.0/8", "2001:db8::/32"])
        assertRefused(#"{"trustedProxies": ["10.0.0.0/8", "10.0.0.0/33"]}"#, key: "trustedProxies", "\"10.0.0.0/33\" is no IPv4 or IPv6 address")
        assertRefused(#"{"trustedProxies": ["nginx.corp.test"]}"#, key: "trustedProxies", "\"nginx.corp.test\"")
        assertRefused(#"{"trustedProxies": ["10.1.2.3/8"]}"#, key: "trustedProxies", "host bits")
        assertRefused(#"{"trustedProxies": "10.0.0.0/8"}"#, key: "trustedProxies", "list of strings")
    }

    func testPublicTrustIsSystemAFingerprintOrACertificateFile() throws {
        let url = #""publicUrl": "https://lts.corp.test/dls/""#
        XCTAssertNil(try parse("{\(url)}").publicTrust, "unset: the node's own certificate, as before")
        XCTAssertEqual(try parse(#"{\#(url), "publicTrust": "system"}"#).publicTrust, .system)
        let hex = String(repeating: "AB", count: 32)
        XCTAssertEqual(try parse(#"{\#(url), "publicTrust": "\#(hex)"}"#).publicTrust, .pinnedSHA256([UInt8](repeating: 0xAB, count: 32)))
        XCTAssertEqual(try parse(#"{\#(url), "publicTrust": "nginx/lts.crt"}"#).publicTrust, .certificateFile("/etc/lts/nginx/lts.crt"))
        assertRefused(#"{\#(url), "publicTrust": "ABCD:EF"}"#, key: "publicTrust", "no SHA-256 fingerprint")
        assertRefused(#"{\#(url), "publicTrust": ""}"#, key: "publicTrust", "\"system\"")
        assertRefused(#"{"publicTrust": "system"}"#, key: "publicTrust", "publicUrl, which is not set")
        let pair = #""servers": ["self", "https://b.corp.test:48080/dls/"], "clusterSecret": "0123456789abcdef""#
        let config = try parse(#"{\#(pair), "peerPublicUrl": "https://b.example.org/dls/", "peerPublicTrust": "system"}"#)
        XCTAssertEqual(config.peerPublicUrl, "https://b.example.org/dls/")
        XCTAssertEqual(config.peerPublicTrust, .system)
        assertRefused(#"{\#(pair), "peerPublicTrust": "system"}"#, key: "peerPublicTrust", "peerPublicUrl, which is not set")
        assertRefused(#"{\#(pair), "peerPublicUrl": "b.example.org"}"#, key: "peerPublicUrl", "is not a URL")
        assertRefused(#"{"peerPublicUrl": "https://b.example.org/dls/"}"#, key: "peerPublicUrl", "main_standby")
    }

    func testClientKeysNameWhatClientsMeetBehindAProxy() throws {
        let directory = NSTemporaryDirectory() + "lts-config-public-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try SelfSignedCertificate.ensure(certificatePath: directory + "/proxy.crt", keyPath: directory + "/proxy.key", hostNames: ["lts.corp.test"])
        let proxyPin = try XCTUnwrap(SelfSignedCertificate.parseFingerprint(try SelfSignedCertificate.fingerprint(certificatePath: directory + "/proxy.crt")))
        let own = [UInt8](repeating: 1, count: 32)
        let peerPin = String(repeating: "02", count: 32)
        let pair = #""servers": ["self", "https://10.0.0.2:48080/dls/"], "clusterSecret": "0123456789abcdef", "peerFingerprint": "\#(peerPin)""#
        func servers(_ extra: String) throws -> [ClientKey.Server] {
            try ClientKeyAPI.servers(of: try Config.parse(Data("{\(pair)\(extra)}".utf8), baseDirectory: directory),
                                     ownURL: "https://lts-a.corp.test/dls/", ownFingerprint: own)
        }
        XCTAssertEqual(try servers(""), [ClientKey.Server(url: "https://lts-a.corp.test/dls/", fingerprint: own),
                                         ClientKey.Server(url: "https://10.0.0.2:48080/dls/", fingerprint: [UInt8](repeating: 2, count: 32))],
                       "no trust settings: the node's own certificate and the peer's fingerprint, as before")
        XCTAssertEqual(try servers(#", "publicUrl": "https://lts-a.corp.test/dls/", "publicTrust": "proxy.crt", "peerPublicUrl": "https://lts-b.corp.test/dls/", "peerPublicTrust": "system""#),
                       [ClientKey.Server(url: "https://lts-a.corp.test/dls/", fingerprint: proxyPin),
                        ClientKey.Server(url: "https://lts-b.corp.test/dls/", fingerprint: nil)])
        try Data(#"{\#(pair), "publicUrl": "https://lts-a.corp.test/dls/", "publicTrust": "none.crt"}"#.utf8)
            .write(to: URL(fileURLWithPath: directory + "/lts.json"))
        XCTAssertThrowsError(try Config.load(path: directory + "/lts.json")) { error in
            XCTAssertEqual((error as? ConfigError)?.key, "publicTrust", "\(error)")
        }
    }
}
