import Foundation
import LTSTestSupport
import Platform
import Replication
@testable import Transport
import XCTest

final class HTTPServerTests: XCTestCase {
    private func json(_ response: HTTPClient.Response) -> [String: Any] { response.json ?? [:] }

    func testJSONRouteAnswersAndRefusesBadJSON() {
        let harness = LoopHarness()
        harness.run { h in
            let server = try TestServer(harness: h)
            let client = server.pinnedClient
            h.blocking({ () -> [HTTPClient.Response] in
                [try! client.send("POST", server.url("/test/json"), body: Data(#"{"a":"b"}"#.utf8)),
                 try! client.send("POST", server.url("/test/json"), body: Data(#"{"a":"#.utf8)),
                 try! client.send("POST", server.url("/test/json"), body: Data(#"{"a":1}"#.utf8)),
                 try! client.send("GET", server.url("/no/such/path")),
                 try! client.send("DELETE", server.url("/api/health"))]
            }, then: { responses in
                XCTAssertEqual(responses[0].status, 200)
                XCTAssertEqual(self.json(responses[0])["a"] as? String, "b")
                XCTAssertEqual(responses[1].status, 400)
                XCTAssertEqual(self.json(responses[1])["code"] as? Int, -20001)
                XCTAssertEqual(responses[2].status, 400)
                XCTAssertEqual(responses[3].status, 404)
                XCTAssertEqual(self.json(responses[3])["code"] as? Int, -20002)
                XCTAssertEqual(responses[4].status, 405)
                XCTAssertEqual(self.json(responses[4])["code"] as? Int, -20003)
                h.finish()
            })
        }
    }

    func testBodiesOverTheRouteOrServerLimitAreRefusedWith413() {
        let harness = LoopHarness()
        harness.run { h in
            let server = try TestServer(harness: h)
            let client = server.pinnedClient
            h.blocking({ () -> [HTTPClient.Response] in
                [try! client.send("POST", server.url("/test/small"), body: Data(repeating: 65, count: 16)),
                 try! client.send("POST", server.url("/test/small"), body: Data(repeating: 65, count: 17)),
                 try! client.send("POST", server.url("/test/json"), body: Data(repeating: 65, count: TestServer.bodyLimitBytesMax + 1))]
            }, then: { responses in
                XCTAssertEqual(responses[0].status, 200)
                XCTAssertEqual(responses[1].status, 413)
                XCTAssertEqual(self.json(responses[1])["code"] as? Int, -20004)
                XCTAssertEqual(responses[2].status, 413)
                h.finish()
            })
        }
    }

    func testMalformedHTTPOverTLSIsRefusedAndTheServerKeepsServing() {
        let harness = LoopHarness()
        harness.run { h in
            let server = try TestServer(harness: h)
            try MalformedHTTPProbe.run(loop: h.loop, port: server.port, fingerprint: server.fingerprint) { answers in
                XCTAssertEqual(answers.count, MalformedHTTPProbe.payloads.count)
                for answer in answers.prefix(4) { XCTAssertTrue(answer.hasPrefix("HTTP/1.1 4"), answer) }
                h.blocking({ try? server.pinnedClient.send("GET", server.url("/api/health")) }, then: { response in
                    XCTAssertEqual(response?.status, 200, "server stopped serving after malformed input")
                    h.finish()
                })
            }
        }
    }

    func testUpgradedStreamEchoesFramesAndClosesOnACorruptFrame() {
        let harness = LoopHarness()
        harness.run { h in
            let server = try TestServer(harness: h)
            let tls = try TLSClientContext(trust: .pinnedSHA256(server.fingerprint))
            let sent = [Frame(type: 1, payload: Array("hello".utf8)), Frame(type: 2, payload: []),
                        Frame(type: 3, payload: (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0) })]
            StreamConnector.connect(loop: h.loop, host: "127.0.0.1", port: server.port, tls: tls, timeoutMs: 5_000) { result in
                guard case .success(let raw) = result else { return XCTFail("connect failed: \(result)") }
                UpgradeClient.upgrade(stream: raw, host: "127.0.0.1", path: "/dls/test/echo", protocolName: TestServer.echoProtocol) { upgraded in
                    guard case .success(let (stream, head)) = upgraded else { return XCTFail("upgrade failed: \(upgraded)") }
                    XCTAssertEqual(head.status, 101)
                    var decoder = FrameDecoder()
                    var echoed: [Frame] = []
                    stream.onData = { bytes in
                        echoed += try! decoder.feed(bytes)
                        if echoed.count == sent.count {
                            XCTAssertEqual(echoed, sent)
                            var corrupt = Frame(type: 9, payload: [1, 2, 3]).encoded()
                            corrupt[6] ^= 0xFF
                            stream.write(corrupt)
                        }
                    }
                    stream.onClose = { _ in
                        XCTAssertEqual(echoed.count, sent.count, "the stream closed before echoing")
                        h.finish()
                    }
                    stream.startReading()
                    for frame in sent { stream.write(frame.encoded()) }
                }
            }
        }
    }

    func testUpgradeIsRefusedWhenNotAsked() {
        let harness = LoopHarness()
        harness.run { h in
            let server = try TestServer(harness: h)
            h.blocking({ try? server.pinnedClient.send("GET", server.url("/test/echo")) }, then: { response in
                XCTAssertEqual(response?.status, 426)
                h.finish()
            })
        }
    }

    func testStopAcceptingAnswersRequestsInFlightThenRefusesConnections() {
        let harness = LoopHarness()
        harness.run { h in
            let server = try TestServer(harness: h)
            let client = server.pinnedClient
            var drained = false
            server.onSlow = { answer in
                XCTAssertEqual(server.server.requestsInFlight, 1)
                server.server.stopAccepting { drained = true }
                XCTAssertFalse(drained, "drained while a request was in flight")
                answer()
            }
            h.blocking({ try? client.send("GET", server.url("/test/slow")) }, then: { response in
                XCTAssertEqual(response?.status, 200)
                XCTAssertTrue(drained)
                h.blocking({ () -> Error? in
                    do { _ = try HTTPClient(trust: .pinnedSHA256(server.fingerprint), timeoutMs: 2_000).send("GET", server.url("/api/health")); return nil } catch { return error }
                }, then: { error in
                    XCTAssertNotNil(error, "a new connection was accepted after stopAccepting")
                    h.finish()
                })
            })
        }
    }

    /// `close()` with a connection still open: the server lives on until
    /// that connection ends (h2o's context cannot go while a connection
    /// refers to it), answers it 503, and refuses new connections.
    func testClosedServerAnswersItsOpenConnectionThenRefusesNewOnes() {
        let harness = LoopHarness()
        harness.run { h in
            let server = try TestServer(harness: h)
            let tls = try TLSClientContext(trust: .pinnedSHA256(server.fingerprint))
            StreamConnector.connect(loop: h.loop, host: "127.0.0.1", port: server.port, tls: tls, timeoutMs: 5_000) { result in
                guard case .success(let stream) = result else {
                    XCTFail("cannot connect: \(result)")
                    return h.finish()
                }
                server.server.close()
                var received: [UInt8] = []
                stream.onData = { received += $0 }
                stream.onClose = { _ in
                    let answer = String(decoding: received, as: UTF8.self)
                    XCTAssertTrue(answer.hasPrefix("HTTP/1.1 503"), answer)
                    h.blocking({ () -> Error? in
                        do { _ = try HTTPClient(trust: .pinnedSHA256(server.fingerprint), timeoutMs: 2_000).send("GET", server.url("/api/health")); return nil } catch { return error }
                    }, then: { error in
                        XCTAssertNotNil(error, "a new connection was accepted after close")
                        h.finish()
                    })
                }
                stream.startReading()
                XCTAssertTrue(stream.write(Array("GET /dls/api/health HTTP/1.1\r\nHost: x\r\n\r\n".utf8)))
            }
        }
    }

    /// A symbolic link where the key belongs is neither written through
    /// (a generated key would overwrite the file it points to) nor read.
    func testKeyFilesAreNeverOpenedThroughASymbolicLink() throws {
        let directory = NSTemporaryDirectory() + "lts-nofollow-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = directory + "/elsewhere"
        try Data("not a key\n".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: directory + "/linked.key", withDestinationPath: target)
        XCTAssertThrowsError(try SelfSignedCertificate.ensure(certificatePath: directory + "/linked.crt", keyPath: directory + "/linked.key",
                                                              hostNames: []))
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "not a key\n", "the key was written through the link")

        try SelfSignedCertificate.ensure(certificatePath: directory + "/node.crt", keyPath: directory + "/node.key", hostNames: [])
        XCTAssertNoThrow(try TLSServerContext(certificatePath: directory + "/node.crt", keyPath: directory + "/node.key", http2: false))
        try FileManager.default.createSymbolicLink(atPath: directory + "/via-link.key", withDestinationPath: directory + "/node.key")
        XCTAssertThrowsError(try TLSServerContext(certificatePath: directory + "/node.crt", keyPath: directory + "/via-link.key", http2: false)) {
            XCTAssertTrue("\($0)".contains("symbolic link"), "\($0)")
        }
    }

    func testClientTrustIsEnforced() {
        let harness = LoopHarness()
        harness.run { h in
            let server = try TestServer(harness: h)
            let url = server.url("/api/health")
            var wrongPin = server.fingerprint
            wrongPin[0] ^= 1
            h.blocking({ () -> [Int?] in
                [try? HTTPClient(trust: .caFile(server.certificatePath)).send("GET", url).status,
                 try? HTTPClient(trust: .pinnedSHA256(server.fingerprint)).send("GET", url).status,
                 try? HTTPClient(trust: .pinnedSHA256(wrongPin)).send("GET", url).status,
                 try? HTTPClient(trust: .system).send("GET", url).status,
                 try? HTTPClient(trust: .insecure).send("GET", url).status]
            }, then: { statuses in
                XCTAssertEqual(statuses, [200, 200, nil, nil, 200])
                h.finish()
            })
        }
    }

    func testStreamConnectorVerifiesThePin() {
        let harness = LoopHarness()
        harness.run { h in
            let server = try TestServer(harness: h)
            var wrongPin = server.fingerprint
            wrongPin[31] ^= 1
            let tls = try TLSClientContext(trust: .pinnedSHA256(wrongPin))
            StreamConnector.connect(loop: h.loop, host: "127.0.0.1", port: server.port, tls: tls, timeoutMs: 5_000) { result in
                guard case .failure(let error) = result else { return XCTFail("connected with a wrong pin") }
                XCTAssertTrue(error.description.contains("TLS"), error.description)
                h.finish()
            }
        }
    }

    func testHTTP2IsOfferedOnlyWhenEnabled() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else { throw XCTSkip("curl is not installed") }
        for enabled in [false, true] {
            let harness = LoopHarness()
            harness.run { h in
                let server = try TestServer(harness: h, http2: enabled)
                h.blocking({ Self.curlHTTPVersion(server.url("/api/health"), caFile: server.certificatePath) }, then: { version in
                    XCTAssertEqual(version, enabled ? "2" : "1.1")
                    h.finish()
                })
            }
        }
    }

    private static func curlHTTPVersion(_ url: String, caFile: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-o", "/dev/null", "--http2", "--cacert", caFile, "-w", "%{http_version}", url]
        let pipe = Pipe()
        process.standardOutput = pipe
        try? process.run()
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}
