import Foundation
import LTSTestSupport
import Transport
import XCTest

final class LoopPrimitivesTests: XCTestCase {
    func testThreadPoolWorkRunsOffTheLoopAndCompletesOnIt() {
        let harness = LoopHarness()
        harness.run { h in
            let loopThread = pthread_self()
            ThreadPoolWork.submit(on: h.loop, work: { pthread_equal(pthread_self(), loopThread) != 0 }, completion: { ranOnLoop in
                XCTAssertFalse(ranOnLoop)
                XCTAssertNotEqual(pthread_equal(pthread_self(), loopThread), 0)
                h.finish()
            })
        }
    }

    func testTheFreshClockSeesTimeACallbackHeldTheLoop() {
        let harness = LoopHarness()
        harness.run { h in
            let cached = h.loop.nowMs
            // A callback holding the loop: the cached time stays where the
            // pass began, the fresh one has moved past the hold.
            usleep(40_000)
            XCTAssertEqual(h.loop.nowMs, cached)
            let fresh = h.loop.freshNowMs
            XCTAssertGreaterThanOrEqual(fresh, cached + 30, "the clock ticks at least every 10 ms")
            XCTAssertEqual(h.loop.nowMs, fresh, "the loop's cached time moves with it")
            h.finish()
        }
    }

    func testTheBusyProbeCountsTheLoopsOwnWorkNotItsWaits() {
        let harness = LoopHarness()
        harness.run { h in
            let probe = LoopBusyProbe(loop: h.loop)
            // Turn 1 starts the probe's clock; a turn then sleeps (no CPU),
            // and a later one spins 60 ms of the thread's CPU time.
            LoopTimer(loop: h.loop, delayMs: 1) {
                usleep(80_000)
                LoopTimer(loop: h.loop, delayMs: 1) {
                    XCTAssertLessThan(probe.maxBusyNs, LoopLagProbe.stallMs * 1_000_000, "a sleep is no work")
                    XCTAssertEqual(probe.overBudgetTotal, 0)
                    let start = LoopBusyProbe.threadCpuNs()
                    while LoopBusyProbe.threadCpuNs() - start < 60_000_000 {}
                    LoopTimer(loop: h.loop, delayMs: 1) {
                        XCTAssertGreaterThanOrEqual(probe.maxBusyNs, 60_000_000)
                        XCTAssertEqual(probe.overBudgetTotal, 1)
                        probe.cancel()
                        h.finish()
                    }
                }
            }
        }
    }

    func testRepeatingTimerFiresUntilCancelled() {
        let harness = LoopHarness()
        harness.run { h in
            var fired = 0
            var timer: LoopTimer?
            timer = LoopTimer(loop: h.loop, delayMs: 1, repeatMs: 1) {
                fired += 1
                if fired == 3 {
                    timer?.cancel()
                    timer?.cancel()
                    LoopTimer(loop: h.loop, delayMs: 5) {
                        XCTAssertEqual(fired, 3)
                        h.finish()
                    }
                }
            }
        }
    }

    func testSignalWatcherDeliversOnTheLoop() {
        let harness = LoopHarness()
        harness.run { h in
            var watcher: SignalWatcher?
            watcher = SignalWatcher(loop: h.loop, signal: SIGUSR2) { signum in
                XCTAssertEqual(signum, SIGUSR2)
                watcher?.cancel()
                h.finish()
            }
            kill(getpid(), SIGUSR2)
        }
    }
}
