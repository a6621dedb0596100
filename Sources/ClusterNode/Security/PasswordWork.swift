import Transport

/// Where every password hash of a node runs (admin login, password set and
/// change, handshake session passwords): one thread of its own, never
/// libuv's pool, whose threads commit the log, so no flood of guesses can
/// hold a grant's answer. The queue is bounded: a check that would wait
/// behind `queuedMax` others is refused at once (the caller answers 503),
/// so a flood costs the node one busy core and no memory.
///
/// Invariant: at most `queuedMax` jobs are queued or running; every job
/// accepted gets its completion on the loop thread (unless the node stops).
final class PasswordWork {
    /// Hashes queued or running at most: a PBKDF2 of the admin password
    /// takes 0.2–0.3 s, so the last one waits about 2 s.
    static let queuedMax = 8

    private let worker: DedicatedWorker
    private(set) var queued = 0
    /// Checks refused because the queue was full (a metric).
    private(set) var refusedTotal: UInt64 = 0

    init(loop: EventLoop) {
        worker = DedicatedWorker(loop: loop, name: "lts-passwords")
    }

    /// Runs `work` on the password thread; false (and nothing runs) when
    /// `queuedMax` jobs wait already.
    func submit<Result>(_ work: @escaping () -> Result, completion: @escaping (Result) -> Void) -> Bool {
        guard queued < Self.queuedMax else {
            refusedTotal += 1
            return false
        }
        queued += 1
        worker.submit(work) { [weak self] result in
            self?.queued -= 1
            completion(result)
        }
        return true
    }

    func close() {
        worker.close()
    }

    /// The answer to a check the queue had no room for.
    static let busy = APIError(status: 503, code: -20005,
                               message: "The node is busy checking passwords (too many at once); retry in a few seconds.")
}
