import Foundation
import LTSTestSupport
import Platform
import Transport
import XCTest

/// Runs the real `lts` binary as users do and checks what they see.
final class NodeProcessTests: XCTestCase {
    private func standalone(_ extra: [String: Any] = [:]) -> [String: Any] {
        var config: [String: Any] = ["serverMode": "standalone", "listen": "127.0.0.1:0", "dataDir": "data"]
        for (key, value) in extra { config[key] = value }
        return config
    }

    func testHealthIsServedOverTLSUnderBothPrefixes() throws {
        let node = try NodeProcess(config: standalone())
        try node.start()
        XCTAssertEqual(node.fingerprint.count, 32, "the log must print the certificate fingerprint")
        let uuid = try String(contentsOfFile: node.directory + "/data/node.uuid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        for prefix in ["dls", "lts"] {
            let response = try node.client.send("GET", node.url("/api/health", prefix: prefix))
            XCTAssertEqual(response.status, 200)
            let health = try XCTUnwrap(response.json)
            XCTAssertEqual(health["role"] as? String, "standalone")
            XCTAssertEqual(health["term"] as? Int, 1)
            XCTAssertEqual(health["lsn"] as? Int, 1, "a new node logs the cluster's identity first")
            XCTAssertEqual(health["uuid"] as? String, uuid)
            let clusterUUID = try XCTUnwrap(health["clusterUuid"] as? String)
            XCTAssertNotEqual(clusterUUID, uuid)
            XCTAssertEqual(health["version"] as? String, try NodeProcess.run(["--version"]).output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        XCTAssertEqual(node.stop(), 0)
    }

    func testErrorsAnswerJSONWithTheirCodes() throws {
        let node = try NodeProcess(config: standalone())
        try node.start()
        let client = node.client
        let notFound = try client.send("GET", node.url("/api/nothing"))
        XCTAssertEqual(notFound.status, 404)
        XCTAssertEqual(notFound.json?["code"] as? Int, -20002)
        let wrongMethod = try client.send("POST", node.url("/api/health"), body: Data("{}".utf8))
        XCTAssertEqual(wrongMethod.status, 405)
        XCTAssertEqual(wrongMethod.json?["code"] as? Int, -20003)
        let tooLarge = try client.send("POST", node.url("/api/health"), body: Data(repeating: 32, count: (1 << 20) + 1))
        XCTAssertEqual(tooLarge.status, 413)
        let outside = try client.send("GET", "https://127.0.0.1:\(node.port)/api/health")
        XCTAssertEqual(outside.status, 404)
        XCTAssertEqual(try client.send("GET", node.url("/api/health")).status, 200, "the node must still serve")
    }

    func testMalformedHTTPOverTLSNeitherCrashesNorHangsTheNode() throws {
        let node = try NodeProcess(config: standalone())
        try node.start()
        let harness = LoopHarness()
        harness.run { h in
            try MalformedHTTPProbe.run(loop: h.loop, port: node.port, fingerprint: node.fingerprint) { answers in
                XCTAssertEqual(answers.count, MalformedHTTPProbe.payloads.count)
                for answer in answers.prefix(4) { XCTAssertTrue(answer.hasPrefix("HTTP/1.1 4"), answer) }
                h.finish()
            }
        }
        XCTAssertEqual(try node.client.send("GET", node.url("/api/health")).status, 200)
        XCTAssertTrue(node.process!.isRunning)
    }

    /// Issue 17, finding 6: a request whose length could be read two ways
    /// is answered 400 and its connection closed, so what follows it is
    /// never taken for another request (a smuggled one behind a proxy);
    /// pipelined requests of clear length still get an answer each.
    func testAmbiguousFramingIsRefusedAndNothingAfterItIsRead() throws {
        let node = try NodeProcess(config: standalone())
        try node.start()
        let smuggled = "GET /dls/api/health HTTP/1.1\r\nHost: x\r\n\r\n"
        let payloads = [
            "POST /dls/api/v1/release HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: \(smuggled.utf8.count)\r\n\r\n\(smuggled)",
            "POST /dls/api/v1/release HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n\(smuggled)",
            "POST /dls/api/v1/release HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n\(smuggled)",
            "POST /dls/api/v1/release HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
            "POST /dls/api/v1/release HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}GET /dls/api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ].map { Array($0.utf8) }
        let harness = LoopHarness()
        harness.run { h in
            try MalformedHTTPProbe.run(loop: h.loop, port: node.port, fingerprint: node.fingerprint, payloads: payloads, prefixBytes: 100_000) { answers in
                XCTAssertEqual(answers.count, payloads.count)
                for answer in answers.prefix(3) {
                    XCTAssertTrue(answer.hasPrefix("HTTP/1.1 400"), answer)
                    XCTAssertTrue(answer.contains("ambiguous"), answer)
                    XCTAssertEqual(answer.components(separatedBy: "HTTP/1.1 ").count - 1, 1, "the smuggled request got an answer: \(answer)")
                }
                XCTAssertFalse(answers[3].contains("ambiguous"), answers[3])
                XCTAssertEqual(answers[4].components(separatedBy: "HTTP/1.1 ").count - 1, 2, "pipelining still works: \(answers[4])")
                h.finish()
            }
        }
        XCTAssertEqual(try node.client.send("GET", node.url("/api/health")).status, 200)
    }

    /// Issue 17, finding 8: TLS 1.2 offers AEAD suites with forward secrecy
    /// only (no CBC), and the self-signed certificate is a leaf valid 825
    /// days at most, which can sign no other certificate.
    func testTLSOffersOnlyAEADSuitesAndTheCertificateIsALeaf() throws {
        let node = try NodeProcess(config: standalone())
        try node.start()
        func openssl(_ arguments: String) throws -> String {
            try SpawnedProcess.output(of: ["/bin/sh", "-c", "/usr/bin/openssl \(arguments) < /dev/null 2>&1 || true"])
        }
        func handshake(_ options: [String]) throws -> String {
            try openssl("s_client -connect 127.0.0.1:\(node.port) -brief \(options.joined(separator: " "))")
        }
        for suite in ["AES128-SHA", "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "AES128-GCM-SHA256"] {
            XCTAssertFalse(try handshake(["-tls1_2", "-cipher", suite]).contains("CONNECTION ESTABLISHED"), "\(suite) is offered")
        }
        XCTAssertTrue(try handshake(["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"]).contains("CONNECTION ESTABLISHED"))
        XCTAssertTrue(try handshake(["-tls1_3"]).contains("CONNECTION ESTABLISHED"))
        XCTAssertFalse(try handshake(["-tls1_1"]).contains("CONNECTION ESTABLISHED"))

        let text = try openssl("x509 -noout -text -in \(node.directory)/data/tls/node.crt")
        XCTAssertTrue(text.contains("CA:FALSE"), text)
        XCTAssertFalse(text.contains("Certificate Sign"), text)
        XCTAssertTrue(text.contains("TLS Web Server Authentication"), text)
        let end = try openssl("x509 -noout -checkend \(825 * 86_400) -in \(node.directory)/data/tls/node.crt")
        XCTAssertTrue(end.contains("will expire"), "valid more than 825 days: \(end)")
    }

    func testPortalIsServedWithAContentSecurityPolicy() throws {
        let node = try NodeProcess(config: standalone())
        try node.start()
        let page = try node.client.send("GET", node.url("/page/"))
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(String(decoding: page.body, as: UTF8.self).contains("<title>lts"))
        XCTAssertEqual(page.headers["content-security-policy"]?.contains("default-src 'self'"), true)
        XCTAssertEqual(page.headers["x-frame-options"], "DENY")
        XCTAssertEqual(try node.client.send("GET", node.url("/page/../../lts.json")).status, 404)
    }

    func testHealthCommandTrustsTheFingerprintAndRefusesAWrongOne() throws {
        let node = try NodeProcess(config: standalone())
        try node.start()
        let hex = node.fingerprint.map { String(format: "%02X", $0) }.joined(separator: ":")
        let good = try NodeProcess.run(["health", "--server", "https://127.0.0.1:\(node.port)/dls/", "--fingerprint", hex])
        XCTAssertEqual(good.status, 0, good.error)
        XCTAssertTrue(good.output.contains("standalone"), good.output)
        let bare = try NodeProcess.run(["health", "--server", "https://127.0.0.1:\(node.port)", "--cacert", node.directory + "/data/tls/node.crt", "--json"])
        XCTAssertEqual(bare.status, 0, bare.error)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(bare.output.utf8)) as? [String: Any])
        let wrong = try NodeProcess.run(["health", "--server", "https://127.0.0.1:\(node.port)/dls/", "--fingerprint", String(repeating: "00", count: 32)])
        XCTAssertEqual(wrong.status, 1)
        let untrusted = try NodeProcess.run(["health", "--server", "https://127.0.0.1:\(node.port)/dls/"])
        XCTAssertEqual(untrusted.status, 1, "a self-signed node must not be trusted by default")
    }

    func testBadConfigurationExitsWith2AndNamesTheKey() throws {
        let cases: [([String: Any], String)] = [
            (standalone(["lisen": "127.0.0.1:0"]), "\"lisen\""),
            (["servers": ["https://a.example.com/dls/", "https://b.example.com/dls/"], "clusterSecret": "0123456789abcdef"], "\"servers\""),
            (standalone(["heartbeatMs": "fast"]), "\"heartbeatMs\""),
            (standalone(["heartbeatMs": 500]), "\"failoverTimeoutMs\""),
            (standalone(["logFormat": "xml"]), "\"logFormat\": must be \"text\" or \"json\""),
            // Issue 19: placeholders and the files a setting names.
            (["servers": ["self", "https://b.example.com/dls/"], "clusterSecret": "replace-with-the-same-long-random-secret-on-both-nodes"],
             "\"clusterSecret\": still holds the sample's placeholder"),
            (standalone(["tls": ["certificate": "/nonexistent/node.crt", "key": "/nonexistent/node.key"]]),
             "\"tls.certificate\": \"/nonexistent/node.crt\" does not exist"),
            (["servers": ["self", "https://b.example.com/dls/"], "clusterSecret": "0123456789abcdef", "peerCaFile": "/etc/hostname"],
             "\"peerCaFile\": \"/etc/hostname\" holds no PEM certificate"),
        ]
        for (config, key) in cases {
            let node = try NodeProcess(config: config)
            let result = try NodeProcess.run(["serve", "--config", node.configPath])
            XCTAssertEqual(result.status, 2, "\(config)")
            XCTAssertTrue(result.error.contains(key), result.error)
        }
        let missing = try NodeProcess.run(["serve", "--config", "/nonexistent/lts.json"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.error.contains("cannot read"), missing.error)
    }

    func testLegacyDlsJsonIsFoundWithoutConfigFlag() throws {
        let node = try NodeProcess(config: standalone())
        try FileManager.default.moveItem(atPath: node.configPath, toPath: node.directory + "/dls.json")
        try node.start(arguments: ["serve"])
        XCTAssertEqual(try node.client.send("GET", node.url("/api/health")).status, 200)
        XCTAssertEqual(node.stop(), 0)
    }

    func testASecondProcessOnTheSameDataDirIsRefused() throws {
        let first = try NodeProcess(config: standalone())
        try first.start()
        let second = try NodeProcess.run(["serve", "--config", first.configPath])
        XCTAssertEqual(second.status, 1)
        XCTAssertTrue(second.error.contains("in use by another lts process"), second.error)
        XCTAssertTrue(second.error.contains("pid \(first.process!.processIdentifier)"), second.error)
        XCTAssertEqual(try first.client.send("GET", first.url("/api/health")).status, 200)
    }

    func testIdentityAndCertificateSurviveARestartAndSIGTERMStopsCleanly() throws {
        let node = try NodeProcess(config: standalone())
        try node.start()
        let uuid = try node.client.send("GET", node.url("/api/health")).json?["uuid"] as? String
        let fingerprint = node.fingerprint
        XCTAssertEqual(node.stop(signal: SIGTERM), 0)
        XCTAssertTrue(node.logText.contains("stopped"), node.logText)
        XCTAssertFalse(FileManager.default.fileExists(atPath: node.directory + "/data/lts.pid"))

        let again = try NodeProcess(config: standalone(), directory: node.directory)
        try again.start()
        XCTAssertEqual(again.fingerprint, fingerprint, "the certificate must be reused, not made anew")
        XCTAssertEqual(try again.client.send("GET", again.url("/api/health")).json?["uuid"] as? String, uuid)
        XCTAssertEqual(again.stop(signal: SIGINT), 0)
    }

    /// Issue 20: `"logFormat": "json"` makes every line the node writes one JSON object with stable keys.
    func testJSONLogFormatWritesOneObjectPerLine() throws {
        let node = try NodeProcess(config: standalone(["logFormat": "json"]))
        try node.start()
        let client = HTTPClient(trust: .caFile(node.directory + "/data/tls/node.crt"), timeoutMs: 2_000)
        XCTAssertEqual(try client.send("GET", node.url("/api/health")).status, 200)
        XCTAssertEqual(node.stop(signal: SIGTERM), 0)
        let lines = node.logText.split(separator: "\n")
        XCTAssertGreaterThan(lines.count, 2, node.logText)
        var messages: [String] = []
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            XCTAssertNotNil(object, "not a JSON object: \(line)")
            guard let object else { continue }
            XCTAssertNotNil((object["at"] as? String)?.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression), String(line))
            XCTAssertNotNil(["info", "notice", "warning", "error", "critical"].firstIndex(of: object["level"] as? String ?? ""), String(line))
            XCTAssertEqual(object["label"] as? String, "lts", String(line))
            XCTAssertTrue(line.hasPrefix(#"{"at":"#), "the keys keep their order: \(line)")
            messages.append(object["message"] as? String ?? "")
        }
        XCTAssertTrue(messages.contains { $0.contains(" listening on https://127.0.0.1:\(node.port)/dls/") }, node.logText)
        XCTAssertTrue(messages.contains("stopped"), node.logText)
    }

    func testOperatorCertificateIsUsedWhenConfigured() throws {
        let directory = NSTemporaryDirectory() + "lts-cert-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try SelfSignedCertificate.ensure(certificatePath: directory + "/op.crt", keyPath: directory + "/op.key", hostNames: ["op.example.com"])
        let node = try NodeProcess(config: standalone(["tls": ["certificate": directory + "/op.crt", "key": directory + "/op.key"]]))
        try node.start()
        XCTAssertEqual(try node.client.send("GET", node.url("/api/health")).status, 200)
        XCTAssertEqual(node.fingerprint, SelfSignedCertificate.parseFingerprint(try SelfSignedCertificate.fingerprint(certificatePath: directory + "/op.crt")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: node.directory + "/data/tls/node.crt"))
    }

    func testVersionAndHelp() throws {
        let version = try NodeProcess.run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertFalse(version.output.isEmpty)
        let help = try NodeProcess.run(["--help"])
        XCTAssertEqual(help.status, 0)
        for word in ["serve", "health", "portal"] { XCTAssertTrue(help.output.contains(word), help.output) }
    }

    func testSystemdUnitVerifies() throws {
        let analyzer = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyzer) else { throw XCTSkip("systemd-analyze is not installed") }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let unit = root.appendingPathComponent("deploy/systemd/lts.service").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: analyzer)
        // The unit names /usr/bin/lts, where the package installs it; verification
        // needs an executable there (tests/package/check.sh verifies the installed unit).
        process.arguments = ["verify", "--man=no", unit]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let problems = output.split(separator: "\n").filter { !$0.contains("/usr/bin/lts") && !$0.contains("Failed to prepare filename") && !$0.isEmpty }
        XCTAssertTrue(problems.isEmpty, output)
    }
}
