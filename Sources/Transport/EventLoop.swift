import CH2O
import Foundation

/// One libuv loop, run by exactly one thread.
///
/// Invariant: every method except `init` is called on the thread that runs
/// the loop (checked by `assertInLoop()`); the loop and every handle made
/// from it live until `close()`.
public final class EventLoop {
    /// The libuv loop. Only Transport passes it to C.
    let uv: UnsafeMutablePointer<uv_loop_t>
    private var owner: pthread_t?

    public init() {
        uv = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        let result = uv_loop_init(uv)
        precondition(result == 0, "uv_loop_init failed: \(result)")
        // libuv writes to sockets whose peer vanished; the error is handled
        // per write, so the process-wide SIGPIPE must not kill the node.
        signal(SIGPIPE, SIG_IGN)
    }

    /// Runs the loop on the calling thread until `stop()` or until no
    /// handle is left.
    public func run() {
        owner = pthread_self()
        uv_run(uv, UV_RUN_DEFAULT)
        owner = nil
    }

    /// Makes `run()` return after the current iteration.
    public func stop() {
        uv_stop(uv)
    }

    /// Milliseconds on libuv's monotonic clock, cached at the start of the
    /// current loop iteration.
    public var nowMs: UInt64 { uv_now(uv) }

    /// Milliseconds on the same clock read now: callbacks earlier in this
    /// iteration may have held the loop since `nowMs` was cached. Time-bound
    /// promises (leases) are decided by it. The loop's cached time moves
    /// to it too.
    public var freshNowMs: UInt64 {
        uv_update_time(uv)
        return uv_now(uv)
    }

    /// Traps when called from a thread other than the loop's.
    public func assertInLoop(file: StaticString = #fileID, line: UInt = #line) {
        if let owner {
            precondition(pthread_equal(owner, pthread_self()) != 0, "called off the loop thread", file: file, line: line)
        }
    }

    /// Closes the loop after `run()` has returned; handles still open are
    /// closed first.
    public func close() {
        uv_walk(uv, { handle, _ in
            if let handle, uv_is_closing(handle) == 0 { uv_close(handle, nil) }
        }, nil)
        uv_run(uv, UV_RUN_DEFAULT)
        uv_loop_close(uv)
        uv.deallocate()
    }
}

/// Closes `handle`, unless it is closing already: `EventLoop.close()`
/// closes every handle still open, and the callbacks of that last pass may
/// then cancel what owned one (a dial's timeout, say).
func closeUnlessClosing(_ handle: UnsafeMutablePointer<uv_handle_t>, _ callback: uv_close_cb) {
    guard uv_is_closing(handle) == 0 else { return }
    uv_close(handle, callback)
}
