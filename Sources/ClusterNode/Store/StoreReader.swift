import Foundation
import Transport

/// Reads of the store that may take long (admin lists of thousands of
/// rows), run on the thread pool with a read-only connection of their own,
/// so the loop never waits for them: a loop held for seconds stops the
/// heartbeats, and the peer takes the node for dead.
///
/// Invariants: at most one read runs at a time (it holds one pool thread),
/// in the order asked; at most `queuedReadsMax` wait or run, and beyond
/// that a read is refused at once. Each read opens its own connection to
/// `path`, so a store replaced there by a snapshot is read anew.
final class StoreReader {
    /// Reads waiting or running; more are refused.
    static let queuedReadsMax = 16

    private let loop: EventLoop
    private let path: String
    /// Each starts its read on the pool; the first is running.
    private var queued: [() -> Void] = []

    init(loop: EventLoop, path: String) {
        self.loop = loop
        self.path = path
    }

    /// Runs `body` on a pool thread with a read-only connection, then
    /// `done` on the loop with its result.
    /// - Returns: false when too many reads wait (nothing was queued).
    func read<T>(_ body: @escaping (SQLiteDatabase) throws -> T, done: @escaping (Result<T, Error>) -> Void) -> Bool {
        loop.assertInLoop()
        guard queued.count < Self.queuedReadsMax else { return false }
        queued.append { [unowned self] in
            let file = self.path
            ThreadPoolWork.submit(on: self.loop, work: { () -> Result<T, Error> in
                Result {
                    let database = try SQLiteDatabase(path: file, readOnly: true)
                    defer { database.close() }
                    return try body(database)
                }
            }, completion: { [unowned self] result in
                self.queued.removeFirst()
                done(result)
                self.queued.first?()
            })
        }
        if queued.count == 1 { queued[0]() }
        return true
    }
}
