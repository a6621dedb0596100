import Foundation
import LTSTestSupport
import Platform

/// The faults of the suite, one per run, each as an operator of a two-site
/// pair would meet it. `inject` returns once the fault is over (a paused
/// node resumed, a cut healed, killed nodes started again); the run then
/// settles the pair.
///
/// Invariant: only `adminReads` is no fault at all, so without a witness
/// only there is a takeover a violation; with a witness, neither is a fault
/// that leaves the primary its lease (see `takeoversAllowed`). Kinds that
/// act on the witness run only with one.
enum FaultKind: String, CaseIterable {
    /// SIGSTOP of the primary for longer than the failover timeout, then SIGCONT.
    case pause
    /// The node-to-node link cut for longer than `degradeAfterMs`; clients reach both.
    case cutBoth = "cut-both"
    /// The same cut; once the standby has taken over and the clients have
    /// followed it, they are cut from it and left on the old primary's side
    /// only. Their calls to the new primary under way then hang in TCP and
    /// reach it after the heal: late copies of calls the old primary has
    /// answered meanwhile (issue 15, finding 2).
    case cutMainSide = "cut-main-side"
    /// The node-to-node link cut and healed again and again.
    case flap
    /// kill -9 of the standby, started again; once attached, kill -9 of the primary, started again.
    case killStandbyThenPrimary = "kill-standby-then-primary"
    /// Whole grant lists read on both nodes at once, under load.
    case adminReads = "admin-reads"
    /// The primary isolated from everything (standby, witness, clients), then healed.
    case isolatePrimary = "isolate-primary"
    /// The standby isolated from everything, then healed.
    case isolateStandby = "isolate-standby"
    /// The primary cut from the witness only: it writes on its standby's acknowledgements.
    case cutPrimaryWitness = "cut-primary-witness"
    /// The standby cut from the witness only.
    case cutStandbyWitness = "cut-standby-witness"
    /// kill -9 of the witness under load, started again from its state after the cut's length.
    case killWitness = "kill-witness"

    static let pauseSeconds = 3.0
    static let cutSeconds = 12.0
    static let flapSeconds = 20.0
    static let flapCutMs: ClosedRange<UInt64> = 300...700
    static let flapHealMs: ClosedRange<UInt64> = 200...800
    static let adminReadSeconds = 15.0

    /// Whether the kind acts on a witness (and so runs only with one).
    var needsWitness: Bool {
        [.cutPrimaryWitness, .cutStandbyWitness, .killWitness].contains(self)
    }

    /// Whether the kind may run in a run with (or without) a witness: the
    /// one-sided cut waits for the standby to take over, which a witness
    /// forbids while the primary holds its lease.
    func runs(withWitness: Bool) -> Bool {
        withWitness ? self != .cutMainSide : !needsWitness
    }

    /// Whether a takeover is no violation. With a witness, only losing the
    /// primary (kill -9, a pause, isolating it) may cause one: the primary
    /// keeps its lease through a cut between the nodes, and the standby's
    /// acknowledgements through losing the witness.
    func takeoversAllowed(withWitness: Bool) -> Bool {
        guard withWitness else { return self != .adminReads }
        return [.pause, .killStandbyThenPrimary, .isolatePrimary].contains(self)
    }

    /// Grants acknowledged before the fault: admin reads need long grant lists to be heavy.
    var warmUpGrants: Int { self == .adminReads ? 8_000 : 200 }

    /// Grants the clients get from the new primary before a one-sided cut leaves them on the old one's side.
    static let grantsBeforeClientsCut = 50

    /// Performs the fault on `run`'s pair (whose primary is `primary`) under
    /// `load`, drawing durations from `random`.
    func inject(_ run: NemesisRun, primary: Int, load: FaultLoad, random: inout SplitMix64) throws {
        let pair = run.pair, standby = 1 - primary
        switch self {
        case .pause:
            let pid = try run.pid(primary)
            kill(pid, SIGSTOP)
            Thread.sleep(forTimeInterval: Self.pauseSeconds) // The fault itself.
            kill(pid, SIGCONT)
        case .cutBoth:
            try run.network.partition()
            Thread.sleep(forTimeInterval: Self.cutSeconds) // The fault itself.
            try run.network.heal()
        case .cutMainSide:
            let end = Date().addingTimeInterval(Self.cutSeconds)
            try run.network.partition()
            try pair.waitForRole(standby, "primary")
            guard load.waitForMore(Self.grantsBeforeClientsCut, timeoutSeconds: Self.cutSeconds) else {
                throw TransportError("the clients did not follow the new primary")
            }
            try run.network.cutClients(from: standby)
            run.note("clients cut from node \(standby) at \(NemesisRun.stamp(Date()))")
            Thread.sleep(until: end) // The fault itself.
            try run.network.heal()
        case .flap:
            let end = Date().addingTimeInterval(Self.flapSeconds)
            while Date() < end {
                try run.network.partition()
                usleep(UInt32(random.uniform(Self.flapCutMs) * 1_000)) // The fault itself.
                try run.network.heal()
                usleep(UInt32(random.uniform(Self.flapHealMs) * 1_000))
            }
        case .killStandbyThenPrimary:
            try run.restart(standby)
            try pair.waitForAttachedPair()
            try run.restart(primary, once: { try pair.waitForRole(standby, "primary") })
        case .adminReads:
            let readers = try (0..<2).map { try AdminReader(node: pair.nodes[$0]) }
            DispatchQueue.concurrentPerform(iterations: readers.count) { readers[$0].read(forSeconds: Self.adminReadSeconds) }
            run.note(readers.map(\.summary).joined(separator: "; "))
        case .isolatePrimary, .isolateStandby:
            try run.network.isolate(self == .isolatePrimary ? primary : standby)
            Thread.sleep(forTimeInterval: Self.cutSeconds) // The fault itself.
            try run.network.heal()
        case .cutPrimaryWitness, .cutStandbyWitness:
            let witness = try run.requireWitness()
            try run.network.cutWitness(from: self == .cutPrimaryWitness ? primary : standby, port: witness.port)
            Thread.sleep(forTimeInterval: Self.cutSeconds) // The fault itself.
            try run.network.heal()
        case .killWitness:
            let witness = try run.requireWitness()
            witness.stop(signal: SIGKILL)
            run.note("witness killed at \(NemesisRun.stamp(Date()))")
            Thread.sleep(forTimeInterval: Self.cutSeconds) // The fault itself.
            try witness.start(arguments: ["witness", "--config", witness.configPath])
        }
    }
}
