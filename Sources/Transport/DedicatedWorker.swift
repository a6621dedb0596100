import CH2O
import CServerShim
import Foundation

/// Blocking jobs (an HTTP call that may hang until its timeout) run one at
/// a time on a thread of this worker's own, never on libuv's pool, which
/// the log writer's commits need; each result is handed back on the loop
/// thread through a `uv_async_t`.
///
/// Invariants: jobs run in the order submitted, one at a time; each
/// completion runs once, on the loop thread, after its job, unless `close()`
/// came first; after `close()` no job starts and the thread ends.
public final class DedicatedWorker {
    private let handle: UnsafeMutablePointer<uv_async_t>
    private let condition = NSCondition()
    /// Jobs waiting for the thread.
    private var jobs: [() -> Void] = []
    /// Completions waiting for the loop.
    private var finished: [() -> Void] = []
    private var closed = false

    /// - Parameter niceness: the thread's nice value (0 to 19): above 0 the
    ///   kernel gives the loop thread the cores first when both want them.
    public init(loop: EventLoop, name: String, niceness: Int32 = 0) {
        loop.assertInLoop()
        handle = .allocate(capacity: 1)
        uv_async_init(loop.uv, handle) { async in
            guard let async, let data = async.pointee.data else { return }
            Unmanaged<DedicatedWorker>.fromOpaque(data).takeUnretainedValue().deliver()
        }
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        // The thread holds the worker until it ends (after `close`).
        let thread = Thread { [self] in
            if niceness > 0 { _ = lts_thread_set_niceness(niceness) }
            work()
        }
        thread.name = name
        thread.start()
    }

    /// Queues `work` for the thread; `completion` gets its result on the loop.
    public func submit<Result>(_ work: @escaping () -> Result, completion: @escaping (Result) -> Void) {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return }
        jobs.append { [unowned self] in
            let result = work()
            condition.lock()
            defer { condition.unlock() }
            // Under the lock: `close` cannot have closed the handle yet.
            guard !closed else { return }
            finished.append { completion(result) }
            uv_async_send(handle)
        }
        condition.signal()
    }

    /// Stops taking jobs; the job under way finishes without its completion.
    /// Call on the loop thread.
    public func close() {
        condition.lock()
        let first = !closed
        closed = true
        jobs = []
        finished = []
        condition.signal()
        condition.unlock()
        guard first else { return }
        handle.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { h in
            closeUnlessClosing(h) { h in
                guard let h else { return }
                if let data = h.pointee.data { Unmanaged<DedicatedWorker>.fromOpaque(data).release() }
                h.withMemoryRebound(to: uv_async_t.self, capacity: 1) { $0.deallocate() }
            }
        }
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty, !closed { condition.wait() }
            if closed {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }

    /// On the loop: runs the completions of the jobs done since the last call.
    private func deliver() {
        condition.lock()
        let ready = finished
        finished = []
        condition.unlock()
        for completion in ready { completion() }
    }
}
