/// Remembered answers to request IDs, held in memory: what the simulation
/// and the tests keep beside a `LicenseState`. A node keeps them in its
/// store instead (they outgrow memory), under the same rule
/// (`RememberedAnswer.after`) and the same retention.
///
/// Invariant: the book is a deterministic function of the records applied
/// to it; `order` holds every remembered key once, from `orderStart` on,
/// in the order of their answers' times (but for reconciled answers, which
/// carry the other node's times and are forgotten late rather than early).
public struct RequestBook: Equatable {
    /// How long a request ID is remembered for idempotent retries. Longer
    /// than a client buffers reports (7 days), so a late delivery is still
    /// recognized.
    public static let retentionSeconds: Int64 = 8 * UTCTime.secondsPerDay

    private var answers: [LicenseState.RequestKey: RememberedAnswer] = [:]
    private var order: [LicenseState.RequestKey] = []
    private var orderStart = 0

    public init() {}

    /// A book holding `answers`, oldest first; each key appears once.
    public init(answersInOrder: [RememberedAnswer]) {
        for answer in answersInOrder { remember(answer) }
    }

    public var count: Int { answers.count }
    public var keys: Dictionary<LicenseState.RequestKey, RememberedAnswer>.Keys { answers.keys }

    /// The answer a repeat of `key` gets, if it was answered and not forgotten.
    public func answer(for key: LicenseState.RequestKey) -> RememberedAnswer? {
        answers[key]
    }

    /// The remembered answers, oldest first: the order `expire` forgets them in.
    public var answersInOrder: [RememberedAnswer] {
        order[orderStart...].map { answers[$0]! }
    }

    /// Applies one record: an answer it gives is remembered, an expiry
    /// forgets the answers older than the retention.
    public mutating func apply(_ record: LogRecord) {
        if case .expire(let at) = record { return forget(before: at - Self.retentionSeconds) }
        guard let key = record.answeredRequest, let answer = RememberedAnswer.after(record, replacing: answers[key]) else { return }
        remember(answer)
    }

    /// True when an `expire(at: now)` record would forget an answer.
    public func needsExpiry(now: Int64) -> Bool {
        guard orderStart < order.count else { return false }
        return answers[order[orderStart]]!.at < now - Self.retentionSeconds
    }

    /// Makes `answer` the one a repeat of its request gets. An answer of
    /// another time than the one it replaces moves its key to the end.
    private mutating func remember(_ answer: RememberedAnswer) {
        let key = answer.key
        guard let replaced = answers.updateValue(answer, forKey: key) else { return order.append(key) }
        guard replaced.at != answer.at, let index = order[orderStart...].firstIndex(of: key) else { return }
        order.remove(at: index)
        order.append(key)
    }

    private mutating func forget(before cutoff: Int64) {
        while orderStart < order.count {
            let key = order[orderStart]
            if answers[key]!.at >= cutoff { break }
            answers[key] = nil
            orderStart += 1
        }
        if orderStart > 1024, orderStart * 2 > order.count {
            order.removeFirst(orderStart)
            orderStart = 0
        }
    }

    public static func == (lhs: RequestBook, rhs: RequestBook) -> Bool {
        lhs.answers == rhs.answers && lhs.answersInOrder.map(\.key) == rhs.answersInOrder.map(\.key)
    }
}
