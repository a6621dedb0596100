import Foundation
import LTSTestSupport
import XCTest

/// The real-process fault suite ("nemesis"): fault runs against a pair of
/// `lts` processes in network namespaces under a recording client load,
/// each checked against the invariants of issue 15 (every acknowledged
/// grantId stays listed with its requestId, nothing listed twice, a refused
/// call never charged, no takeover without a fault).
///
/// By default each fault kind runs once. Environment:
/// - `LTS_NEMESIS_MINUTES=N`: fault kinds for N minutes (`make nemesis MINUTES=N`),
///   in rounds that each run every kind once in a random order, so that the
///   kinds' counts differ by at most one;
/// - `LTS_NEMESIS_SEED=S`: replays the sequence of kinds and durations of seed S;
/// - `LTS_NEMESIS_KINDS=a,b`: only these kinds (e.g. `cut-main-side`);
/// - `LTS_NEMESIS_WITNESS=1`: the pair has a witness (`make nemesis WITNESS=1`):
///   the witness's own faults run too, and a grant acknowledged in an old
///   term after a later one began is a violation.
///
/// A failing run's directory (configs, data, node logs, answers, health
/// samples, outcome.txt) is kept and its path printed; passing runs leave nothing.
final class NemesisTests: XCTestCase {
    func testFaultRunsKeepEveryAcknowledgedGrant() throws {
        if let reason = NetworkNamespaces.unavailableReason { throw XCTSkip(reason) }
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["LTS_NEMESIS_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64(UInt32.max))
        let minutes = environment["LTS_NEMESIS_MINUTES"].flatMap(Double.init)
        let withWitness = environment["LTS_NEMESIS_WITNESS"] == "1"
        let kinds = try environment["LTS_NEMESIS_KINDS"].map { list in
            try list.split(separator: ",").map { name in try XCTUnwrap(FaultKind(rawValue: String(name)), "no fault kind \(name)") }
        } ?? FaultKind.allCases.filter { $0.runs(withWitness: withWitness) }
        print("nemesis: seed \(seed) (LTS_NEMESIS_SEED=\(seed) replays), \(withWitness ? "with" : "without") a witness, kinds \(kinds.map(\.rawValue))"
              + (minutes.map { ", for \($0) minutes" } ?? ", each once"))

        var random = SplitMix64(seed: seed)
        var table = NemesisTable()
        let deadline = minutes.map { Date().addingTimeInterval($0 * 60) }
        var round = deadline == nil ? kinds[...] : []
        func nextKind() -> FaultKind? {
            if let deadline {
                guard Date() < deadline else { return nil }
                if round.isEmpty { round = kinds.shuffled(using: &random)[...] }
            }
            return round.popFirst()
        }
        while let kind = nextKind() {
            let runSeed = random.next()
            let (outcome, keptAt) = NemesisRun.perform(kind, seed: runSeed, withWitness: withWitness)
            table.add(kind, outcome)
            print("nemesis run \(kind.rawValue) (seed \(runSeed)): " + NemesisTable.line(outcome))
            for note in outcome.notes { print("  \(note)") }
            for detail in outcome.details { print("  violation: \(detail)") }
            if let keptAt { print("  kept its logs and data in \(keptAt)") }
            fflush(stdout) // A long run's progress shows in its log file as it goes.
        }
        print("nemesis: seed \(seed)\n\(table.text)")
        XCTAssertEqual(table.violations, 0, "violations in the fault runs (seed \(seed)):\n\(table.text)")
    }
}
