import Foundation
import XCTest

/// Many seeded runs of the pair under faults (see `Simulator`): every seed
/// must keep the invariants, and the seeds together must have exercised the
/// failover paths (crashes, pauses, disk failures, promotions, truncations,
/// switchovers, degrading, checkpoints, discarded logs, snapshots, late
/// client sendings, voided grants). One seed in two of each mode runs with
/// a witness, with its crashes and cut links, and must never have two
/// nodes that may acknowledge writes at once.
///
/// `LTS_SIM_SEED=<n>` runs only seed n, printing a step trace;
/// `LTS_SIM_SEEDS=<n>` sets how many seeds each mode runs (default 5000);
/// `LTS_SIM_FIRST=<k>` starts each mode at its k-th seed (default 0), so a
/// long run can be split into ranges run side by side.
final class SimulationTests: XCTestCase {
    private static let environment = ProcessInfo.processInfo.environment
    private static let seedsPerMode = environment["LTS_SIM_SEEDS"].flatMap(UInt64.init) ?? 5_000
    private static let firstSeedIndex = environment["LTS_SIM_FIRST"].flatMap(UInt64.init) ?? 0
    /// Seeds beyond the default range that once failed, run every time: two
    /// empty standbys each waiting for the other (2892, with pauses), a
    /// stale snapshot copy releasing the one the standby waited for (30676,
    /// 50395), a late first chunk of an older snapshot transfer making the
    /// standby start over while the primary went on from what it had
    /// acknowledged (228642), a standby's queue sent in rounds whose
    /// repeated `reconciled` cleared the next round unreconciled (215717).
    private static let regressionSeeds: [UInt64] = [2_892, 30_676, 50_395, 215_717, 228_642]

    /// Even seeds run in sync mode.
    func testSyncReplicationKeepsTheInvariants() {
        runSeeds(parity: 0)
    }

    /// Odd seeds run in async mode.
    func testAsyncReplicationKeepsTheInvariants() {
        runSeeds(parity: 1)
    }

    private func runSeeds(parity: UInt64) {
        if let replay = Self.environment["LTS_SIM_SEED"].flatMap(UInt64.init) {
            guard replay % 2 == parity else { return }
            let simulator = Simulator(seed: replay, traceSteps: true)
            SimulationCrashReporter.running(simulator)
            XCTAssertNil(simulator.run())
            SimulationCrashReporter.finished()
            print("seed \(replay): \(simulator.stats)")
            return
        }
        var failures: [String] = []
        var totals = Simulator.Stats()
        let seeds = (Self.firstSeedIndex..<Self.firstSeedIndex + Self.seedsPerMode).map { 2 * $0 + parity }
            + Self.regressionSeeds.filter { $0 % 2 == parity }
        for seed in seeds {
            let simulator = Simulator(seed: seed)
            SimulationCrashReporter.running(simulator)
            if let failure = simulator.run() {
                failures.append(failure)
                if failures.count == 5 { break }
            }
            totals.add(simulator.stats)
        }
        SimulationCrashReporter.finished()
        for failure in failures { XCTFail(failure) }
        print("\(Self.seedsPerMode) seeds from index \(Self.firstSeedIndex), parity \(parity): \(totals)")
        // Coverage: too few seeds, or a run cut short by failures, proves nothing either way.
        guard Self.seedsPerMode >= 1_000, failures.isEmpty else { return }
        XCTAssertGreaterThan(totals.acknowledged, 0, "no record was ever acknowledged")
        XCTAssertGreaterThan(totals.crashes, 0, "no node ever crashed")
        XCTAssertGreaterThan(UInt64(totals.primaryTerms), Self.seedsPerMode, "failovers are rare")
        XCTAssertGreaterThan(totals.truncated, 0, "no log was ever truncated into a reconciliation queue")
        XCTAssertGreaterThan(totals.switchovers, 0, "no switchover was ever asked for")
        XCTAssertGreaterThan(totals.handovers, 0, "no switchover ever handed over")
        XCTAssertGreaterThan(totals.reconciled, 0, "no reconciliation ever completed")
        XCTAssertGreaterThan(totals.laterOwnQueueRounds, 0, "no node's own queue ever took more than one round")
        XCTAssertGreaterThan(totals.laterPeerQueueRounds, 0, "no standby's queue ever went to the primary in more than one round")
        XCTAssertGreaterThan(totals.grantsReappendedAgain, 0, "no node process ever logged a grant again twice (a truncation between)")
        XCTAssertGreaterThan(totals.checkpoints, 0, "no checkpoint was ever written")
        XCTAssertGreaterThan(totals.discards, 0, "no divergence ever lay behind a checkpoint")
        XCTAssertGreaterThan(totals.snapshotsInstalled, 0, "no standby ever joined by a snapshot")
        XCTAssertGreaterThan(totals.pauses, 0, "no node was ever paused")
        XCTAssertGreaterThan(totals.diskFailures, 0, "no disk ever failed")
        XCTAssertGreaterThan(totals.acceptedGrants, 0, "no client ever took a grant")
        XCTAssertGreaterThan(totals.acceptedRefusals, 0, "no client was ever refused")
        XCTAssertGreaterThan(totals.lateSendings, 0, "no sending ever came late")
        XCTAssertGreaterThan(totals.voids, 0, "reconciliation never voided a grant")
        XCTAssertGreaterThan(totals.witnessRuns, 0, "no run had a witness")
        XCTAssertGreaterThan(totals.writerSteps, 0, "with a witness, no node ever held the right to write")
        if parity == 0 { XCTAssertGreaterThan(totals.degradedSteps, 0, "no sync primary ever degraded") }
    }
}
