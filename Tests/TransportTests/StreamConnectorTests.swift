import Foundation
import LTSTestSupport
import Transport
import XCTest

/// A dial ends once, with a stream or a failure, however the loop ends.
final class StreamConnectorTests: XCTestCase {
    func testADialStillUnderWayWhenTheLoopClosesFailsOnce() throws {
        // The loop closes every handle still open (the dial's timeout among
        // them) before its last pass; the address is resolved in that pass,
        // the connection refused, and the dial's failure cancels its timeout
        // once more: that must not close the handle a second time (libuv
        // aborts the process).
        let loop = EventLoop()
        let port = try NodePair.freePort()
        var results: [Result<RawStream, TransportError>] = []
        StreamConnector.connect(loop: loop, host: "127.0.0.1", port: port, tls: nil, timeoutMs: 5_000) { results.append($0) }
        loop.close()
        XCTAssertEqual(results.count, 1)
        guard case .failure = results.first else { return XCTFail("a refused dial gave a stream") }
    }

    func testACancelledDialFailsAtOnceAndOnlyOnce() throws {
        let harness = LoopHarness()
        let port = try NodePair.freePort()
        var results: [Result<RawStream, TransportError>] = []
        harness.run { h in
            let connector = StreamConnector.connect(loop: h.loop, host: "127.0.0.1", port: port, tls: nil, timeoutMs: 5_000) {
                results.append($0)
            }
            connector.cancel()
            XCTAssertEqual(results.count, 1)
            connector.cancel()
            h.finish()
        }
        // The loop has closed: the resolution that came after the cancel reported nothing.
        XCTAssertEqual(results.count, 1)
        guard case .failure(let error) = results.first else { return XCTFail("a cancelled dial gave a stream") }
        XCTAssertTrue("\(error)".contains("cancelled"), "\(error)")
    }
}
