import Foundation
import Transport
import XCTest

/// Runs an event loop in the test's own thread until the scenario calls
/// `finish()`, failing the test if that does not happen before the deadline.
/// Blocking client calls go to the thread pool, so the loop stays free.
public final class LoopHarness {
    public let loop = EventLoop()
    private var finished = false
    /// Objects the scenario needs alive until it ends (servers, contexts).
    private var kept: [AnyObject] = []

    public init() {}

    /// Keeps `object` alive until the scenario ends.
    public func keep(_ object: AnyObject) {
        kept.append(object)
    }

    /// Runs `scenario` on the loop and waits (awaiting `finish()`) at most `timeoutMs`.
    public func run(timeoutMs: UInt64 = 20_000, file: StaticString = #filePath, line: UInt = #line,
                    _ scenario: @escaping (LoopHarness) throws -> Void) {
        var deadline: LoopTimer?
        var thrown: Error?
        let start = LoopTimer(loop: loop, delayMs: 0) { [unowned self] in
            deadline = LoopTimer(loop: self.loop, delayMs: timeoutMs) { [unowned self] in
                XCTFail("scenario did not finish within \(timeoutMs) ms", file: file, line: line)
                self.loop.stop()
            }
            do { try scenario(self) } catch {
                thrown = error
                self.finish()
            }
        }
        loop.run()
        start.cancel()
        deadline?.cancel()
        loop.close()
        kept.removeAll()
        if let thrown { XCTFail("scenario threw \(thrown)", file: file, line: line) }
    }

    /// Ends the scenario.
    public func finish() {
        guard !finished else { return }
        finished = true
        loop.stop()
    }

    /// Runs a blocking call on the pool and hands its result back on the loop.
    public func blocking<T>(_ work: @escaping () -> T, then: @escaping (T) -> Void) {
        ThreadPoolWork.submit(on: loop, work: work, completion: then)
    }
}
