import LicenseState

/// Where the store's remembered answers are: for every row of the
/// `requests` table, a 32-bit fingerprint of its request and its LSN, in
/// memory, so that a new request ID (nearly every call) reads nothing and
/// a repeat reads its rows by LSN. It replaces an index on the table,
/// whose random key had made every grant write one more page.
///
/// The pairs live in fixed-size segments, filled in append order and never
/// resized (a resize of millions of entries would hold the loop); the
/// first segments are small, so a quiet node holds little. At most 7/8
/// of a segment's slots are used: about 9 bytes a remembered request.
///
/// Invariant: every row of the table (or on its way there) has its pair
/// in a segment; a pair may outlive its row (a lookup then reads nothing,
/// or a row of another request, which names its request), never the
/// reverse. Segments are forgotten whole, from the oldest on, once the
/// store has forgotten every row of theirs, and from the newest back when
/// a truncation cuts every row of theirs (so repeated truncations do not
/// pile up segments). `earliestForgetAt` of a
/// segment is at most the forget time of every answer of its still to be
/// forgotten; `latestForgetAt` is at least the forget time of each of its
/// pairs. Fingerprint and slot come from the stored key hash
/// (`LicenseStore.keyHash`), so the table gives them back, mixed first
/// (`slotHash`): FNV-1a leaves the high bits of request IDs that differ
/// only in their last characters (a counter) nearly alike.
struct RequestLocator {
    /// Slots of the first segment and of the largest.
    static let firstSegmentSlots = 1 << 10
    static let segmentSlotsMax = 1 << 20

    private var segments: [Segment] = []

    /// Pairs held (a request answered twice counts twice).
    var count: Int { segments.reduce(0) { $0 + $1.count } }

    /// Memory of the slots, in bytes.
    var slotBytes: Int { segments.reduce(0) { $0 + $1.slotCount * MemoryLayout<UInt64>.size } }

    mutating func insert(_ key: LicenseState.RequestKey, lsn: UInt64, forgetAt: Int64) {
        insert(keyHash: LicenseStore.keyHash(key), lsn: lsn, forgetAt: forgetAt)
    }

    /// Records that the row at `lsn` answers the request of `keyHash`.
    mutating func insert(keyHash: Int64, lsn: UInt64, forgetAt: Int64) {
        if segments.last.map({ !$0.takes(lsn: lsn) }) ?? true {
            let slots = segments.last.map { min($0.slotCount * 2, Self.segmentSlotsMax) } ?? Self.firstSegmentSlots
            segments.append(Segment(slotCount: slots, baseLsn: lsn))
        }
        segments[segments.count - 1].insert(slotHash: Self.slotHash(keyHash), lsn: lsn, forgetAt: forgetAt)
    }

    /// `keyHash` with every bit mixed into every other (the SplitMix64
    /// finalizer, a bijection): the segment takes its slot from the high
    /// bits and the fingerprint from the low 32.
    static func slotHash(_ keyHash: Int64) -> UInt64 {
        var z = UInt64(bitPattern: keyHash)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The LSNs of the rows that may answer `key`, newest first; none when
    /// the store surely holds no answer for it.
    func candidates(for key: LicenseState.RequestKey) -> [UInt64] {
        let hash = Self.slotHash(LicenseStore.keyHash(key))
        var found: [UInt64] = []
        for segment in segments { segment.collect(slotHash: hash, into: &found) }
        if found.count > 1 { found.sort(by: >) }
        return found
    }

    /// The log after `lsn` is cut off (its rows go with it): drops the
    /// newest segments whose pairs all lie above it. Pairs above it in the
    /// segment that stays outlive their rows.
    mutating func cut(after lsn: UInt64) {
        while let last = segments.last, last.baseLsn > lsn { segments.removeLast() }
    }

    /// Whether the store holds an answer to forget before `cutoff`.
    func holdsAnswers(before cutoff: Int64) -> Bool {
        segments.first.map { $0.earliestForgetAt < cutoff } ?? false
    }

    /// The store forgot, in LSN order, every answer with a forget time
    /// before `cutoff` up to the first one it keeps: drops the oldest
    /// segments whose pairs all have earlier forget times.
    mutating func forget(before cutoff: Int64) {
        let gone = segments.prefix { $0.latestForgetAt < cutoff }.count
        segments.removeFirst(gone)
        for index in segments.indices { segments[index].earliestForgetAt = max(segments[index].earliestForgetAt, cutoff) }
    }

    /// One open-addressing table of (fingerprint, LSN - `baseLsn`) pairs,
    /// linear probing, a zero slot empty (a fingerprint of 0 is kept as 1).
    private struct Segment {
        let baseLsn: UInt64
        private var slots: [UInt64]
        private let shift: UInt64
        private(set) var count = 0
        var earliestForgetAt = Int64.max
        private(set) var latestForgetAt = Int64.min

        init(slotCount: Int, baseLsn: UInt64) {
            precondition(slotCount > 1 && slotCount & (slotCount - 1) == 0, "a segment has a power of two slots")
            slots = [UInt64](repeating: 0, count: slotCount)
            shift = UInt64(64 - slotCount.trailingZeroBitCount)
            self.baseLsn = baseLsn
        }

        var slotCount: Int { slots.count }

        /// Whether a pair at `lsn` goes here: room is left and the LSN
        /// fits the offset (after a truncation it may lie below the base).
        func takes(lsn: UInt64) -> Bool {
            count < slots.count / 8 * 7 && lsn >= baseLsn && lsn - baseLsn <= UInt64(UInt32.max)
        }

        private static func fingerprint(_ hash: UInt64) -> UInt64 {
            max(hash & 0xFFFF_FFFF, 1) << 32
        }

        mutating func insert(slotHash hash: UInt64, lsn: UInt64, forgetAt: Int64) {
            let mask = slots.count - 1
            var index = Int(truncatingIfNeeded: hash >> shift)
            while slots[index] != 0 { index = (index + 1) & mask }
            slots[index] = Self.fingerprint(hash) | (lsn - baseLsn)
            count += 1
            earliestForgetAt = min(earliestForgetAt, forgetAt)
            latestForgetAt = max(latestForgetAt, forgetAt)
        }

        func collect(slotHash hash: UInt64, into found: inout [UInt64]) {
            let mask = slots.count - 1
            let fingerprint = Self.fingerprint(hash)
            var index = Int(truncatingIfNeeded: hash >> shift)
            while case let slot = slots[index], slot != 0 {
                if slot & 0xFFFF_FFFF_0000_0000 == fingerprint { found.append(baseLsn + (slot & 0xFFFF_FFFF)) }
                index = (index + 1) & mask
            }
        }
    }
}
