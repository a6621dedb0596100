@testable import ClusterNode
import Foundation
import LTSTestSupport
import XCTest

/// The password thread's queue: bounded, one job at a time, and a job whose
/// request went away (a reset stream, a closed connection) is dropped
/// unrun, freeing its place (issue 17, finding 1).
final class PasswordWorkTests: XCTestCase {
    func testJobsWhoseRequestWentAwayAreDroppedUnrunAndFreeTheirPlace() {
        let harness = LoopHarness()
        harness.run { harness in
            let work = PasswordWork(loop: harness.loop)
            harness.keep(work)
            let gate = DispatchSemaphore(value: 0)
            var ran: [Int] = []
            let lock = NSLock()
            var completed: [Int] = []
            var gone = Set<Int>()
            func submit(_ index: Int) -> Bool {
                work.submit({ () -> Int in
                    if index == 0 { gate.wait() }
                    lock.lock()
                    ran.append(index)
                    lock.unlock()
                    return index
                }, isWanted: { !gone.contains(index) }) { result in
                    completed.append(result)
                    if completed.count == 5 {
                        lock.lock()
                        let order = ran
                        lock.unlock()
                        XCTAssertEqual(order, [0, 1, 3, 5, 8], "the dropped jobs ran")
                        XCTAssertEqual(completed, [0, 1, 3, 5, 8])
                        XCTAssertEqual(work.droppedTotal, 4)
                        XCTAssertEqual(work.refusedTotal, 1)
                        work.close()
                        harness.finish()
                    }
                }
            }
            // Job 0 holds the thread; 1 to 7 wait: the queue is full.
            for index in 0..<PasswordWork.queuedMax { XCTAssertTrue(submit(index)) }
            XCTAssertFalse(submit(99), "a ninth job found room in a full queue")
            // Four requests go away: their places are free for the next one.
            gone = [2, 4, 6, 7]
            XCTAssertTrue(submit(8))
            XCTAssertEqual(work.queued, 5)
            gate.signal()
        }
    }
}
