import WireFormat

/// The records a primary logged again in reconciliation that its store may
/// not hold yet, each by a key (a grant's ID, or a void's) and where it
/// stands in the log. With what the store holds durably, they tell what the
/// log as it stands holds, so a record that comes back (the same queue part
/// again, or a queue that a truncation refilled) is applied once, and one
/// that a truncation took out is applied again.
///
/// Invariant: every record held is in the log as it stands, in log order: a
/// truncation takes out those after its point, a discarded log or an
/// installed snapshot all of them; a record leaves once it is durable (the
/// store answers for it from then on). `latest` holds, per key, the
/// position of its last record held.
public struct ReappliedRecords {
    private var logged: [(key: String, position: LogPosition)] = []
    private var loggedStart = 0
    private var latest: [String: LogPosition] = [:]

    public init() {}

    /// Where the last record with this key that is not durable yet stands
    /// (nil: none is held).
    public func position(of key: String) -> LogPosition? {
        latest[key]
    }

    /// How many keys are held.
    public var count: Int { latest.count }

    /// A record with `key` was logged again at `position`, after every
    /// position held.
    public mutating func logged(_ key: String, at position: LogPosition) {
        precondition(logged.last.map { $0.position < position } ?? true, "records are logged in log order")
        logged.append((key, position))
        latest[key] = position
    }

    /// The log is durable through `position`: the records at or before it,
    /// in its term or an earlier one, are in the store. A record logged in
    /// a later term at a lower LSN (after a truncation) is not.
    mutating func stored(through position: LogPosition) {
        while loggedStart < logged.count, logged[loggedStart].position.term <= position.term,
              logged[loggedStart].position.lsn <= position.lsn {
            let record = logged[loggedStart]
            if latest[record.key] == record.position { latest[record.key] = nil }
            loggedStart += 1
        }
        if loggedStart == logged.count {
            logged.removeAll(keepingCapacity: true)
            loggedStart = 0
        }
    }

    /// The log is cut after `lsn`: the records after it are no longer in it.
    mutating func cut(after lsn: UInt64) {
        while logged.count > loggedStart, let record = logged.last, record.position.lsn > lsn {
            logged.removeLast()
            guard latest[record.key] == record.position else { continue }
            latest[record.key] = logged[loggedStart...].last { $0.key == record.key }?.position
        }
    }

    /// The log is replaced (discarded, or a snapshot's).
    mutating func removeAll() {
        logged.removeAll()
        loggedStart = 0
        latest.removeAll()
    }
}
