import WireFormat

/// The records a primary logged again in reconciliation that its store may
/// not hold yet, each by a key (a grant's ID) and where it stands in the
/// log. With what the store holds durably, they tell whether the log as it
/// stands holds a record, so a record that comes back (the same queue part
/// again, or a queue that a truncation refilled) is applied once, and one
/// that a truncation took out is applied again.
///
/// Invariant: every key names a record in the log as it stands, in log
/// order: a truncation takes out the keys after its point, a discarded log
/// or an installed snapshot all of them; a key leaves once its record is
/// durable (the store answers for it from then on).
public struct ReappliedRecords {
    private var logged: [(key: String, position: LogPosition)] = []
    private var loggedStart = 0
    private var keys: Set<String> = []

    public init() {}

    /// Whether a record with this key was logged again and is not durable yet.
    public func contains(_ key: String) -> Bool {
        keys.contains(key)
    }

    /// How many keys are held.
    public var count: Int { keys.count }

    /// A record with `key` was logged again at `position`, after every
    /// position held.
    public mutating func logged(_ key: String, at position: LogPosition) {
        precondition(logged.last.map { $0.position < position } ?? true, "records are logged in log order")
        logged.append((key, position))
        keys.insert(key)
    }

    /// The log is durable through `position`: the records at or before it,
    /// in its term or an earlier one, are in the store. A record logged in
    /// a later term at a lower LSN (after a truncation) is not.
    mutating func stored(through position: LogPosition) {
        while loggedStart < logged.count, logged[loggedStart].position.term <= position.term,
              logged[loggedStart].position.lsn <= position.lsn {
            keys.remove(logged[loggedStart].key)
            loggedStart += 1
        }
        if loggedStart == logged.count {
            logged.removeAll(keepingCapacity: true)
            loggedStart = 0
        }
    }

    /// The log is cut after `lsn`: the records after it are no longer in it.
    mutating func cut(after lsn: UInt64) {
        while logged.count > loggedStart, let last = logged.last, last.position.lsn > lsn {
            keys.remove(last.key)
            logged.removeLast()
        }
    }

    /// The log is replaced (discarded, or a snapshot's).
    mutating func removeAll() {
        logged.removeAll()
        loggedStart = 0
        keys.removeAll()
    }
}
