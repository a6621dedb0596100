import Foundation

/// A flag raised once, read from any thread: whether the pair was asked to stop.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false

    /// Raises the flag; false when it was raised already.
    func raise() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        defer { raised = true }
        return !raised
    }

    var isRaised: Bool {
        lock.lock()
        defer { lock.unlock() }
        return raised
    }
}
