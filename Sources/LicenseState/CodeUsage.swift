/// How much of each license item's counted use each handshake code brought:
/// the scans consumed under the code (less what voids gave back), and the
/// devices and domains first registered under it. Concurrent items keep
/// nothing here: their use is their live leases, which name their code
/// (`LicenseState.usedByCode`).
///
/// Invariant: for every item that is not concurrent, the units of its split
/// (its codes' plus `unattributed`) equal what `ItemUsage` counts for it
/// (`ItemUsage.unitsCounted`); no split is empty and no code holds zero
/// units. A split has `unattributed` units only in a state restored from a
/// snapshot older than format 6, which counted no codes: they are the use
/// that snapshot held, until a void gives it back or a new device window
/// begins.
public struct CodeUsage: Equatable {
    /// One item's use, split by code.
    public struct Split: Equatable {
        /// Units per handshake code; no zero entries.
        public internal(set) var byCode: [String: Int64] = [:]
        /// Units counted before the state counted codes (see the type's doc).
        public internal(set) var unattributed: Int64 = 0

        public init(byCode: [String: Int64] = [:], unattributed: Int64 = 0) {
            self.byCode = byCode
            self.unattributed = unattributed
        }

        /// Every unit of the split: what the item's `used` is.
        public var total: Int64 { byCode.values.reduce(unattributed, +) }

        var isEmpty: Bool { byCode.isEmpty && unattributed == 0 }
    }

    /// Splits by item ID.
    public private(set) var splits: [String: Split] = [:]

    public init() {}

    /// A state restored from a snapshot (`StateSnapshotCodec`); the caller
    /// has checked the invariant.
    init(splits: [String: Split]) {
        precondition(splits.values.allSatisfy { !$0.isEmpty && !$0.byCode.values.contains(0) }, "an empty split or a zero code")
        self.splits = splits
    }

    /// The split of a state whose snapshot counted no codes: each item's
    /// counted units, all unattributed.
    static func unattributed(_ items: [String: LicenseState.ItemUsage]) -> CodeUsage {
        var usage = CodeUsage()
        for (itemId, item) in items where item.unitsCounted != 0 {
            usage.splits[itemId] = Split(unattributed: item.unitsCounted)
        }
        return usage
    }

    /// Counts `units` more under `code`.
    mutating func add(_ units: Int64, itemId: String, code: String) {
        var split = splits[itemId] ?? Split()
        split.byCode[code, default: 0] += units
        if split.byCode[code] == 0 { split.byCode[code] = nil }
        store(split, itemId: itemId)
    }

    /// Takes back `units` (no more than the split holds) that a void of a
    /// grant under `code` gave back: from that code first, then from the
    /// unattributed units (the grant may predate code counting), then from
    /// the other codes in code order. The last step is reached only if a
    /// grant were voided twice; it keeps the split's total equal to the
    /// item's count.
    mutating func take(_ units: Int64, itemId: String, preferring code: String) {
        guard units > 0, var split = splits[itemId] else { return }
        precondition(units <= split.total, "a void gives back more than the item holds")
        var left = units
        func takeFrom(_ held: Int64) -> Int64 {
            let taken = min(left, max(0, held))
            left -= taken
            return held - taken
        }
        split.byCode[code] = split.byCode[code].map(takeFrom)
        split.unattributed = takeFrom(split.unattributed)
        for other in split.byCode.keys.sorted() where left > 0 { split.byCode[other] = takeFrom(split.byCode[other]!) }
        split.byCode = split.byCode.filter { $0.value != 0 }
        store(split, itemId: itemId)
    }

    /// Forgets an item's split: its device window began anew.
    mutating func reset(itemId: String) {
        splits[itemId] = nil
    }

    private mutating func store(_ split: Split, itemId: String) {
        splits[itemId] = split.isEmpty ? nil : split
    }
}
