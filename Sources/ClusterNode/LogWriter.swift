import Foundation
import Transport

/// Group commit: entries appended during one loop turn are written to the
/// store together, in one transaction on the thread pool, and each entry's
/// completion runs on the loop once its transaction committed.
///
/// Invariant: at most one transaction is in flight; entries are committed in
/// LSN order; no completion runs before its entry is durable. A failed write
/// calls `onFailure` and nothing after it is acknowledged.
final class LogWriter {
    /// Most entries in one transaction.
    static let batchEntriesMax = 4096

    private let loop: EventLoop
    private let store: LicenseStore
    private let onFailure: (Error) -> Void
    private var queued: [(entry: LogEntry, done: () -> Void)] = []
    private var committing = false
    /// Entries in the transaction in flight.
    private var inFlightCount = 0
    private var failed = false
    private var check: LoopCheck?
    /// The highest LSN known durable in the store.
    private(set) var flushedLsn: UInt64

    init(loop: EventLoop, store: LicenseStore, flushedLsn: UInt64, onFailure: @escaping (Error) -> Void) {
        self.loop = loop
        self.store = store
        self.flushedLsn = flushedLsn
        self.onFailure = onFailure
        check = LoopCheck(loop: loop) { [unowned self] in self.flush() }
    }

    /// Entries appended and not yet durable.
    var pendingCount: Int { queued.count }

    /// Queues `entry`; `done` runs on the loop after it is durable.
    func append(_ entry: LogEntry, done: @escaping () -> Void) {
        loop.assertInLoop()
        precondition(entry.lsn == flushedLsn + UInt64(queued.count) + UInt64(inFlightCount) + 1, "log entries must be appended in LSN order")
        queued.append((entry, done))
    }

    private func flush() {
        guard !committing, !failed, !queued.isEmpty else { return }
        let batch = Array(queued.prefix(Self.batchEntriesMax))
        queued.removeFirst(batch.count)
        committing = true
        inFlightCount = batch.count
        let store = self.store
        let entries = batch.map(\.entry)
        ThreadPoolWork.submit(on: loop, work: { () -> Error? in
            do {
                try store.append(entries)
                return nil
            } catch {
                return error
            }
        }, completion: { [weak self] error in
            guard let self else { return }
            self.committing = false
            self.inFlightCount = 0
            if let error {
                self.failed = true
                self.onFailure(error)
                return
            }
            self.flushedLsn = entries.last!.lsn
            for item in batch { item.done() }
            self.flush()
        })
    }

    func close() {
        check?.cancel()
        check = nil
    }
}
