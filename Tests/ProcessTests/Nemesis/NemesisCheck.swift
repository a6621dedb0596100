import Foundation

/// A grant as a node's final grant list shows it.
struct ListedGrant {
    let grantId: String
    let requestId: String?
    let lsn: Int
    let term: Int
}

/// What one fault run showed: the invariant counts (any non-zero is a
/// violation) and the reported measures, with a line per violation.
struct RunOutcome {
    var acknowledged = 0
    /// Calls answered with a refusal (of any code).
    var refused = 0
    /// An acknowledged grantId missing from a final list, no other grant listed for its requestId.
    var lost = 0
    /// An acknowledged grantId missing from a final list while another grant is listed for its requestId.
    var changed = 0
    /// A grantId listed twice, or a requestId listed with more grants than distinct grantIds acknowledged for it.
    var duplicated = 0
    /// A requestId whose only answers were refusals, yet listed with a grant.
    var refusedButCharged = 0
    /// Takeovers where the fault must cause none (admin reads).
    var unwantedTakeovers = 0
    /// Grants acknowledged in a term after another node had begun a later one.
    var splitBrainGrants = 0
    /// With a witness, split-brain grants are a violation (without one, a
    /// cut link lets both sides answer by design).
    var splitBrainIsViolation = false
    /// The most leases the clients held at once beyond the item's quantity.
    var leaseOverrun = 0
    /// Reconciled grants the new primary found over quota (its `reconcileOverrunsTotal`).
    var reconcileOverruns = 0
    var overrun: Int { leaseOverrun + reconcileOverruns }
    /// The largest gap between two acknowledged grants, in seconds.
    var outageSeconds = 0.0
    /// How long after the fault ended both nodes still said they were
    /// primary (0 when they never did after it).
    var twoPrimariesAfterFaultSeconds = 0.0
    var takeovers = 0
    /// The largest `lts_event_loop_lag_max_ms` of the two nodes at the end.
    var loopLagMaxMs = 0.0
    /// The largest `lts_event_loop_busy_max_ms` (CPU time of one turn of a
    /// node's loop) of the two nodes at the end.
    var loopBusyMaxMs = 0.0
    /// Turns of 50 ms CPU time or more, both nodes' last processes together
    /// (`lts_event_loop_busy_over_budget_total`).
    var loopTurnsOverBudget = 0
    /// Where the fault leaves the nodes alone (no takeover allowed), such a
    /// turn is a violation: it is the node's own work holding its loop.
    var loopTurnsOverBudgetAreViolations = false
    /// A line per violation (and why a run could not finish).
    var details: [String] = []
    /// What the run noted on the way (the fault's times, the admin reads' speed).
    var notes: [String] = []

    var violations: Int {
        lost + changed + duplicated + refusedButCharged + unwantedTakeovers + (splitBrainIsViolation ? splitBrainGrants : 0)
            + (loopTurnsOverBudgetAreViolations ? loopTurnsOverBudget : 0) + (failedToFinish ? 1 : 0)
    }
    /// The run ended in an error before it could be checked.
    var failedToFinish = false
}

/// The checker of one run: every answer the clients got against the final
/// grant lists of both nodes and what the nodes said of their roles.
///
/// Invariant: a count is a pure function of the inputs; each violating
/// requestId (or grantId) counts once per category, whichever node's list
/// shows it.
struct NemesisCheck {
    let answers: [RecordedAnswer]
    /// Each node's final grant list.
    let listed: [[ListedGrant]]
    /// In time order.
    let samples: [RoleSample]
    /// When the fault ended (the network healed, every node running again).
    let faultEnded: Date
    let leaseChanges: [(at: Date, delta: Int)]
    let seatQuantity: Int
    /// Each node's metrics at the end.
    let metrics: [[String: Double]]
    /// The largest `reconcileOverrunsTotal` of the two nodes' cluster status at the end.
    let reconcileOverruns: Int
    let takeoversAllowed: Bool
    let splitBrainIsViolation: Bool

    var outcome: RunOutcome {
        var outcome = RunOutcome()
        var acknowledged: [String: [RecordedAnswer]] = [:]
        var refusedOnly: [String: [RecordedAnswer]] = [:]
        for answer in answers {
            if case .granted = answer.outcome { acknowledged[answer.requestId, default: []].append(answer) }
        }
        for answer in answers where acknowledged[answer.requestId] == nil { refusedOnly[answer.requestId, default: []].append(answer) }
        outcome.acknowledged = Set(answers.compactMap(\.grantId)).count
        outcome.refused = answers.filter { $0.grantId == nil }.count

        var lost: [String: String] = [:], changed: [String: String] = [:], duplicated: [String: String] = [:], charged: [String: String] = [:]
        for (node, list) in listed.enumerated() {
            let byGrant = Dictionary(grouping: list, by: \.grantId)
            let byRequest = Dictionary(grouping: list.filter { $0.requestId != nil }, by: { $0.requestId! })
            for (grantId, copies) in byGrant where copies.count > 1 {
                duplicated[grantId] = "grant \(grantId) is listed \(copies.count) times on node \(node) (lsn \(copies.map(\.lsn)))"
            }
            for (requestId, grants) in byRequest {
                let answered = Set(acknowledged[requestId]?.compactMap(\.grantId) ?? [])
                if Set(grants.map(\.grantId)).count > max(1, answered.count) {
                    duplicated[requestId] = "request \(requestId) is listed with \(grants.count) grants on node \(node) "
                        + "(\(Self.describe(grants))), \(answered.count) acknowledged"
                }
                if let refusals = refusedOnly[requestId] {
                    charged[requestId] = "request \(requestId) was refused (\(Self.describe(refusals))) yet node \(node) lists "
                        + Self.describe(grants)
                }
            }
            for (requestId, answers) in acknowledged {
                for answer in answers {
                    guard let grantId = answer.grantId, byGrant[grantId]?.contains(where: { $0.requestId == requestId }) != true else { continue }
                    if let others = byRequest[requestId] {
                        changed[grantId] = "request \(requestId): \(Self.describe([answer])) acknowledged, node \(node) lists "
                            + Self.describe(others) + " instead"
                    } else {
                        lost[grantId] = "request \(requestId): \(Self.describe([answer])) acknowledged, missing on node \(node)"
                    }
                }
            }
        }
        outcome.lost = lost.count
        outcome.changed = changed.count
        outcome.duplicated = duplicated.count
        outcome.refusedButCharged = charged.count
        outcome.details = [lost, changed, duplicated, charged].flatMap { $0.values.sorted() }

        let termStarts = termStarts(listed: listed.flatMap { $0 })
        outcome.takeovers = max(0, termStarts.count - 1)
        if !takeoversAllowed, outcome.takeovers > 0 {
            outcome.unwantedTakeovers = outcome.takeovers
            outcome.details.append("\(outcome.takeovers) takeover(s) without a fault: terms \(termStarts.keys.sorted())")
        }
        let splitBrain = answers.filter { answer in
            guard case .granted(_, let term) = answer.outcome else { return false }
            return termStarts.contains { $0.key > term && $0.value < answer.at }
        }
        outcome.splitBrainGrants = splitBrain.count
        outcome.splitBrainIsViolation = splitBrainIsViolation
        if splitBrainIsViolation, let first = splitBrain.first {
            outcome.details.append("\(splitBrain.count) grant(s) acknowledged in an old term after a later one began, e.g. \(first.requestId) by node \(first.node)")
        }
        outcome.leaseOverrun = leaseOverrun
        outcome.reconcileOverruns = reconcileOverruns
        let grantTimes = answers.filter { $0.grantId != nil }.map(\.at).sorted()
        outcome.outageSeconds = zip(grantTimes, grantTimes.dropFirst()).map { $1.timeIntervalSince($0) }.max() ?? 0
        outcome.twoPrimariesAfterFaultSeconds = lastTwoPrimaries.map { max(0, $0.timeIntervalSince(faultEnded)) } ?? 0
        outcome.loopLagMaxMs = metrics.map { $0["lts_event_loop_lag_max_ms"] ?? 0 }.max() ?? 0
        outcome.loopBusyMaxMs = metrics.map { $0["lts_event_loop_busy_max_ms"] ?? 0 }.max() ?? 0
        outcome.loopTurnsOverBudget = Int(metrics.map { $0["lts_event_loop_busy_over_budget_total"] ?? 0 }.reduce(0, +))
        outcome.loopTurnsOverBudgetAreViolations = !takeoversAllowed
        if !takeoversAllowed, outcome.loopTurnsOverBudget > 0 {
            outcome.details.append("\(outcome.loopTurnsOverBudget) loop turn(s) of 50 ms CPU time or more (the longest \(outcome.loopBusyMaxMs) ms)")
        }
        return outcome
    }

    /// The last sample, at or after the fault's end, that found both nodes
    /// primary: its own node's answer and the other node's latest one, given
    /// within `RoleSampler.freshSeconds` before it (a node that is paused or
    /// dead keeps an old answer, which says nothing of now).
    private var lastTwoPrimaries: Date? {
        var latest: [Int: RoleSample] = [:]
        var last: Date?
        for sample in samples {
            latest[sample.node] = sample
            guard sample.at >= faultEnded, sample.role == "primary", let other = latest[1 - sample.node], other.role == "primary",
                  sample.at.timeIntervalSince(other.at) <= RoleSampler.freshSeconds else { continue }
            last = sample.at
        }
        return last
    }

    /// The first moment each term was known to have a primary: a health
    /// sample saying so, or an answer given in it (listed grants name
    /// terms that were seen by neither).
    private func termStarts(listed: [ListedGrant]) -> [Int: Date] {
        var starts: [Int: Date] = [:]
        func saw(_ term: Int, _ at: Date) { starts[term] = min(starts[term] ?? at, at) }
        for sample in samples where sample.role == "primary" { saw(sample.term, sample.at) }
        for answer in answers { if case .granted(_, let term) = answer.outcome { saw(term, answer.at) } }
        for grant in listed where starts[grant.term] == nil { starts[grant.term] = .distantFuture }
        return starts
    }

    /// The most leases the clients held at once beyond the item's quantity.
    private var leaseOverrun: Int {
        var held = 0, peak = 0
        // At one instant a release counts before a grant: the peak is never overstated.
        for change in leaseChanges.sorted(by: { ($0.at, $0.delta) < ($1.at, $1.delta) }) {
            held += change.delta
            peak = max(peak, held)
        }
        return max(0, peak - seatQuantity)
    }

    private static func describe(_ answers: [RecordedAnswer]) -> String {
        answers.map { answer in
            let time = Self.time.string(from: answer.at)
            switch answer.outcome {
            case .granted(let grantId, let term): return "grant \(grantId) by node \(answer.node) in term \(term) at \(time)"
            case .refused(let code): return "refusal \(code) by node \(answer.node) at \(time)"
            }
        }.joined(separator: ", ")
    }

    private static func describe(_ grants: [ListedGrant]) -> String {
        grants.map { "grant \($0.grantId) (lsn \($0.lsn), term \($0.term))" }.joined(separator: ", ")
    }

    private static let time: DateFormatter = {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss.SSS"
        return formatter
    }()
}

extension RecordedAnswer {
    /// The grantId of a grant answer.
    var grantId: String? {
        guard case .granted(let grantId, _) = outcome else { return nil }
        return grantId
    }
}
