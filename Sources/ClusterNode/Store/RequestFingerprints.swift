import LicenseState

/// A 32-bit fingerprint of every request whose answer the store remembers,
/// grouped by the UTC day the answer is forgotten from: what lets a new
/// request ID (nearly every call) go by without reading the store.
///
/// Invariant: every key with a remembered answer in the store (or on its
/// way there) has its fingerprint here, under the day of its forget time
/// or a later one; a fingerprint may outlive its answer (a lookup then
/// finds nothing), never the reverse, until the day of its forget time is
/// over. `earliest[day]` is at most the forget time of every answer of that
/// day still to be forgotten. A fingerprint is the low 32 bits of the
/// stored key hash (`LicenseStore.keyHash`), so the table gives them back.
struct RequestFingerprints {
    private var days: [Int64: Set<UInt32>] = [:]
    private var earliest: [Int64: Int64] = [:]

    /// Fingerprints held (a key answered twice may count twice).
    var count: Int { days.values.reduce(0) { $0 + $1.count } }

    mutating func insert(_ key: LicenseState.RequestKey, forgetAt: Int64) {
        insert(keyHash: LicenseStore.keyHash(key), forgetAt: forgetAt)
    }

    mutating func insert(keyHash: Int64, forgetAt: Int64) {
        let day = max(0, forgetAt) / UTCTime.secondsPerDay
        days[day, default: []].insert(UInt32(truncatingIfNeeded: keyHash))
        earliest[day] = min(earliest[day] ?? forgetAt, forgetAt)
    }

    /// False when the store surely holds no answer for `key`.
    func mayContain(_ key: LicenseState.RequestKey) -> Bool {
        let fingerprint = UInt32(truncatingIfNeeded: LicenseStore.keyHash(key))
        return days.values.contains { $0.contains(fingerprint) }
    }

    /// Whether the store holds an answer to forget before `cutoff`.
    func holdsAnswers(before cutoff: Int64) -> Bool {
        earliest.values.contains { $0 < cutoff }
    }

    /// The store forgot every answer with a forget time before `cutoff`:
    /// drops the days wholly before it.
    mutating func forget(before cutoff: Int64) {
        let lastDay = max(0, cutoff) / UTCTime.secondsPerDay
        for day in Array(days.keys) where day < lastDay {
            days[day] = nil
            earliest[day] = nil
        }
        if let first = earliest[lastDay] { earliest[lastDay] = max(first, cutoff) }
    }
}
