/// The drill reports a pair keeps: the last `reportsMax`, in log order.
///
/// Invariant: at most `reportsMax` records, IDs distinct, oldest first; a
/// record whose ID is kept already changes nothing (a drill that sends its
/// report again, after a lost answer, is kept once).
public struct DrillHistory: Equatable {
    /// How many reports are kept; the oldest goes when one more comes.
    public static let reportsMax = 200

    public private(set) var records: [DrillRecord] = []

    public init() {}

    /// A history restored from a snapshot, oldest first.
    init(records: [DrillRecord]) {
        precondition(records.count <= Self.reportsMax, "a drill history holds \(Self.reportsMax) reports at most")
        precondition(Set(records.map(\.id)).count == records.count, "drill report IDs are distinct")
        self.records = records
    }

    public mutating func add(_ record: DrillRecord) {
        guard self[record.id] == nil else { return }
        records.append(record)
        if records.count > Self.reportsMax { records.removeFirst(records.count - Self.reportsMax) }
    }

    /// The report kept under `id`.
    public subscript(id: String) -> DrillRecord? {
        records.first { $0.id == id }
    }

    /// The reports, newest first.
    public var newestFirst: [DrillRecord] { records.reversed() }
}
