import CH2O

/// Slow work (SMTP, snapshots) run on libuv's thread pool, whose result is
/// handed back on the loop thread.
///
/// Invariant: `work` runs exactly once on a pool thread and must not touch
/// loop state; `completion` runs once on the loop thread after it, unless
/// the loop is torn down first and libuv cancels the work.
public enum ThreadPoolWork {
    /// Queues `work` on the pool; `completion` receives its result on the loop.
    public static func submit<Result>(on loop: EventLoop, work: @escaping () -> Result,
                                      completion: @escaping (Result) -> Void) {
        loop.assertInLoop()
        // libuv orders the pool thread's write before the loop's read of `result`.
        var result: Result?
        let job = Job(work: { result = work() }, completion: { if let result { completion(result) } })
        let request = UnsafeMutablePointer<uv_work_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(job).toOpaque()
        let status = uv_queue_work(loop.uv, request, { request in
            guard let request, let data = request.pointee.data else { return }
            Unmanaged<Job>.fromOpaque(data).takeUnretainedValue().work()
        }, { request, status in
            guard let request, let data = request.pointee.data else { return }
            let job = Unmanaged<Job>.fromOpaque(data).takeRetainedValue()
            request.deallocate()
            if status == 0 { job.completion() }
        })
        precondition(status == 0, "uv_queue_work failed: \(status)")
    }

    /// The type-erased pair of closures carried through libuv.
    private final class Job {
        let work: () -> Void
        let completion: () -> Void

        init(work: @escaping () -> Void, completion: @escaping () -> Void) {
            self.work = work
            self.completion = completion
        }
    }
}
