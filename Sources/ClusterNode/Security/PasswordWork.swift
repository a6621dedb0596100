import Transport

/// Where every password hash of a node runs (admin login, password set and
/// change, handshake session passwords): one thread of its own, never
/// libuv's pool, whose threads commit the log, so no flood of guesses can
/// hold a grant's answer. The queue is bounded: a check that would wait
/// behind `queuedMax` others is refused at once (the caller answers 503),
/// so a flood costs the node one busy core, at a lower priority than the
/// loop's, and no memory. A job whose
/// request went away (its connection closed, its HTTP/2 stream reset)
/// before its turn is dropped unrun.
///
/// Invariant: at most `queuedMax` jobs are queued or running, one running
/// at a time; every job accepted either runs and gets its completion on
/// the loop thread (unless the node stops), or is dropped because
/// `isWanted` said no when its turn came (or when room was needed).
final class PasswordWork {
    /// Hashes queued or running at most: a PBKDF2 of the admin password
    /// takes 0.2–0.3 s, so the last one waits about 2 s.
    static let queuedMax = 8
    /// The thread's nice value: when a flood keeps it hashing, the loop
    /// thread (every grant's answer) still gets the cores first.
    static let niceness: Int32 = 10

    private let worker: DedicatedWorker
    private var waiting: [(isWanted: () -> Bool, start: () -> Void)] = []
    private var running = false
    /// Checks refused because the queue was full (a metric).
    private(set) var refusedTotal: UInt64 = 0
    /// Jobs dropped unrun because their request went away.
    private(set) var droppedTotal: UInt64 = 0

    init(loop: EventLoop) {
        worker = DedicatedWorker(loop: loop, name: "lts-passwords", niceness: Self.niceness)
    }

    /// Jobs queued or running.
    var queued: Int { waiting.count + (running ? 1 : 0) }

    /// Runs `work` on the password thread once the jobs before it are done,
    /// if `isWanted` still says so then; false (and nothing runs) when
    /// `queuedMax` wanted jobs wait already.
    func submit<Result>(_ work: @escaping () -> Result, isWanted: @escaping () -> Bool,
                        completion: @escaping (Result) -> Void) -> Bool {
        if queued >= Self.queuedMax { dropUnwanted() }
        guard queued < Self.queuedMax else {
            refusedTotal += 1
            return false
        }
        waiting.append((isWanted, { [weak self] in
            self?.worker.submit(work) { result in
                self?.running = false
                completion(result)
                self?.startNext()
            }
        }))
        startNext()
        return true
    }

    func close() {
        worker.close()
    }

    private func startNext() {
        while !running, !waiting.isEmpty {
            let job = waiting.removeFirst()
            guard job.isWanted() else {
                droppedTotal += 1
                continue
            }
            running = true
            job.start()
        }
    }

    private func dropUnwanted() {
        let before = waiting.count
        waiting.removeAll { !$0.isWanted() }
        droppedTotal += UInt64(before - waiting.count)
    }

    /// The answer to a check the queue had no room for.
    static let busy = APIError(status: 503, code: -20005,
                               message: "The node is busy checking passwords (too many at once); retry in a few seconds.")
}
