import Foundation
import LTSTestSupport
import Platform
import Replication
import Transport
import XCTest

/// An HTTPS server with test routes, on a harness's loop, with a
/// self-signed certificate made in a temporary directory.
final class TestServer {
    static let echoProtocol = "lts-echo/1"
    static let bodyLimitBytesMax = 64 * 1024

    let directory: String
    let certificatePath: String
    let fingerprint: [UInt8]
    let server: HTTPServer
    let port: Int
    /// Called when `/test/slow` arrives; the test answers through the closure it gets.
    var onSlow: ((@escaping () -> Void) -> Void)?

    init(harness: LoopHarness, http2: Bool = false) throws {
        directory = NSTemporaryDirectory() + "lts-transport-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        certificatePath = directory + "/node.crt"
        let keyPath = directory + "/node.key"
        try SelfSignedCertificate.ensure(certificatePath: certificatePath, keyPath: keyPath, hostNames: ["localhost"])
        fingerprint = SelfSignedCertificate.parseFingerprint(try SelfSignedCertificate.fingerprint(certificatePath: certificatePath))!
        let tls = try TLSServerContext(certificatePath: certificatePath, keyPath: keyPath, http2: http2)
        var router = Router<HTTPServer.Route>()
        var slowHook: (() -> ((@escaping () -> Void) -> Void)?)?
        router.add("GET", "/api/health", HTTPServer.Route { $0.respondJSON(["role": "test"]) })
        router.add("POST", "/test/json", HTTPServer.Route { request in
            do {
                let object = try request.decodeJSON([String: String].self)
                request.respondJSON(object)
            } catch let error as APIError {
                request.respond(error: error)
            } catch {
                XCTFail("unexpected \(error)")
            }
        })
        router.add("POST", "/test/small", HTTPServer.Route(bodyLimitBytes: 16) { $0.respondJSON(["ok": true]) })
        router.add("GET", "/test/slow", HTTPServer.Route { request in
            slowHook?()?({ request.respondJSON(["slow": true]) })
        })
        router.add("GET", "/test/echo", HTTPServer.Route { request in
            guard request.wantsUpgrade(to: Self.echoProtocol) else {
                request.respond(error: APIError(status: 426, code: -29999, message: "upgrade to \(Self.echoProtocol)"))
                return
            }
            request.upgrade(to: Self.echoProtocol) { stream in
                guard let stream else { return }
                var decoder = FrameDecoder()
                stream.onData = { bytes in
                    do {
                        for frame in try decoder.feed(bytes) { stream.write(frame.encoded()) }
                    } catch {
                        stream.close()
                    }
                }
                stream.startReading()
            }
        })
        server = HTTPServer(loop: harness.loop, router: router, tls: tls, http2: http2, bodyLimitBytesMax: Self.bodyLimitBytesMax)
        port = try server.listen(host: "127.0.0.1", port: 0)
        slowHook = { [weak self] in self?.onSlow }
        harness.keep(self)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func url(_ path: String) -> String { "https://127.0.0.1:\(port)/dls\(path)" }

    var pinnedClient: HTTPClient { HTTPClient(trust: .pinnedSHA256(fingerprint)) }
}
