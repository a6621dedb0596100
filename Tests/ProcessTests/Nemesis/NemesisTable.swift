import Foundation

/// The outcomes of a sequence of fault runs, summed per fault kind, and the
/// table printed from them.
///
/// Invariant: every outcome added is counted in exactly one row (its kind's),
/// and `violations` is the sum of all their violations.
struct NemesisTable {
    private var outcomes: [FaultKind: [RunOutcome]] = [:]

    mutating func add(_ kind: FaultKind, _ outcome: RunOutcome) { outcomes[kind, default: []].append(outcome) }

    var violations: Int { outcomes.values.joined().map(\.violations).reduce(0, +) }

    static let header = ["fault", "runs", "acknowledged", "refused", "lost", "changed", "duplicated", "refused-but-charged",
                         "split-brain grants", "overrun", "outage median/max s", "two primaries after the fault median/max s", "takeovers", "loop lag max ms", "loop busy max ms", "turns ≥ 50 ms CPU", "unfinished"]

    /// A Markdown table, one row per fault kind that ran, in `FaultKind` order.
    var text: String {
        var rows = [Self.header, Self.header.map { _ in "---" }]
        for kind in FaultKind.allCases {
            guard let runs = outcomes[kind] else { continue }
            func sum(_ value: (RunOutcome) -> Int) -> String { String(runs.map(value).reduce(0, +)) }
            let outages = runs.map(\.outageSeconds).sorted()
            let median = outages[outages.count / 2]
            let twoPrimaries = runs.map(\.twoPrimariesAfterFaultSeconds).sorted()
            rows.append([kind.rawValue, String(runs.count), sum(\.acknowledged), sum(\.refused), sum(\.lost), sum(\.changed), sum(\.duplicated),
                         sum(\.refusedButCharged), sum(\.splitBrainGrants), sum(\.overrun),
                         String(format: "%.2f / %.2f", median, outages.last!),
                         String(format: "%.1f / %.1f", twoPrimaries[twoPrimaries.count / 2], twoPrimaries.last!), sum(\.takeovers),
                         String(format: "%.0f", runs.map(\.loopLagMaxMs).max()!), String(format: "%.1f", runs.map(\.loopBusyMaxMs).max()!),
                         sum(\.loopTurnsOverBudget), sum { $0.failedToFinish ? 1 : 0 }])
        }
        return rows.map { "| " + $0.joined(separator: " | ") + " |" }.joined(separator: "\n")
    }

    /// One line for a single run, as it ends.
    static func line(_ outcome: RunOutcome) -> String {
        "\(outcome.acknowledged) acknowledged, \(outcome.refused) refused, \(outcome.lost) lost, \(outcome.changed) changed, "
            + "\(outcome.duplicated) duplicated, \(outcome.refusedButCharged) refused-but-charged, "
            + "\(outcome.splitBrainGrants) split-brain grants, overrun \(outcome.leaseOverrun) leases held + \(outcome.reconcileOverruns) reconciled, "
            + String(format: "outage %.2f s, two primaries %.1f s after the fault, ", outcome.outageSeconds, outcome.twoPrimariesAfterFaultSeconds)
            + "\(outcome.takeovers) takeovers, "
            + String(format: "loop lag max %.0f ms, loop busy max %.1f ms, ", outcome.loopLagMaxMs, outcome.loopBusyMaxMs)
            + "\(outcome.loopTurnsOverBudget) turns ≥ 50 ms CPU" + (outcome.failedToFinish ? ", UNFINISHED" : "")
    }
}
