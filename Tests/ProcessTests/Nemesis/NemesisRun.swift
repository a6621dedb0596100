import Foundation
import LTSTestSupport
import Platform
import Transport

/// One fault run: a fresh pair, each node in its own network namespace and
/// the clients in a third (with a witness: `lts witness` in the test's
/// namespace, each node reaching it over its own link), under the
/// recording load; one fault; then heal,
/// start anything dead, settle (attached, reconciled, the same log), stop
/// the load and check every answer against both final grant lists.
///
/// Invariant: `perform` leaves no process, thread, namespace or rule behind;
/// it keeps the run's directory (configs, data, node logs, answers, health
/// samples) exactly when the run has a violation, and removes it otherwise.
final class NemesisRun {
    static let seatQuantity = 10
    static let seatItem = "itemId=seat,product=seat,chargeWay=concurrentInstance,quantity=\(seatQuantity),leaseSeconds=10,expires=2099-12-31"
    /// Grants acknowledged after the settle, before the load stops.
    static let afterSettleGrants = 100
    static let grantsPage = 10_000
    /// How long the final read of one page may take: it checks, it is not
    /// timed. A debug build beside another suite took over 5 s for a page
    /// right after `admin-reads` (the client's default), and the run could
    /// not finish.
    static let grantsPageTimeoutMs = 30_000

    let kind: FaultKind
    let network: NetworkNamespaces
    let pair: NodePair
    /// The pair's witness, in witness runs.
    let witness: NodeProcess?
    /// The output of each node's earlier processes (a restart starts a new log).
    private var earlierLogs = ["", ""]
    private var notes: [String] = []
    private var answers: [RecordedAnswer] = []
    private var samples: [RoleSample] = []
    /// Times a node was found exited when nothing had killed it.
    private var unexpectedExits: [String] = []

    private init(kind: FaultKind, withWitness: Bool) throws {
        self.kind = kind
        let network = try NetworkNamespaces(clients: true)
        self.network = network
        guard withWitness else {
            witness = nil
            pair = try NodePair(network: network)
            return
        }
        let port = try NodePair.freePort()
        let witness = try NodeProcess(config: ["listen": "0.0.0.0:\(port)", "dataDir": "data", "clusterSecret": WitnessTests.clusterSecret])
        try witness.start(arguments: ["witness", "--config", witness.configPath])
        self.witness = witness
        let fingerprint = witness.fingerprint.map { String(format: "%02X", $0) }.joined(separator: ":")
        let setting = { (index: Int) -> [String: Any] in
            ["witness": ["url": "https://\(network.hostAddress(index)):\(port)/", "fingerprint": fingerprint]]
        }
        pair = try NodePair(perNode: [0: setting(0), 1: setting(1)], network: network)
    }

    /// Runs `kind` once with durations drawn from `seed`, with a witness or without.
    /// - Returns: the outcome, and the kept directory when it has a violation.
    static func perform(_ kind: FaultKind, seed: UInt64, withWitness: Bool) -> (outcome: RunOutcome, keptAt: String?) {
        let run: NemesisRun
        do {
            run = try NemesisRun(kind: kind, withWitness: withWitness)
        } catch {
            var outcome = RunOutcome()
            outcome.failedToFinish = true
            outcome.details.append("cannot set up the run: \(error)")
            return (outcome, nil)
        }
        var outcome: RunOutcome
        do {
            outcome = try run.execute(seed: seed)
        } catch {
            outcome = RunOutcome()
            outcome.failedToFinish = true
            outcome.details.append("the run did not finish: \(error)")
        }
        run.tearDown()
        outcome.failedToFinish = outcome.failedToFinish || !run.unexpectedExits.isEmpty
        outcome.details += run.unexpectedExits
        outcome.notes = run.notes + run.longLoopTurns()
        guard outcome.violations > 0 else {
            try? FileManager.default.removeItem(atPath: run.pair.directory)
            return (outcome, nil)
        }
        run.keepLogs(outcome, seed: seed)
        return (outcome, run.pair.directory)
    }

    /// Each loop turn of 50 ms CPU or more the nodes' last processes
    /// logged, with the two lines before it: what held the loop shows even
    /// in a passing run, whose logs are not kept.
    private func longLoopTurns() -> [String] {
        pair.nodes.enumerated().flatMap { index, node -> [String] in
            let lines = node.logText.split(separator: "\n")
            return lines.indices.filter { lines[$0].contains("the event loop worked") }.map { at in
                "node \(index) long loop turn: " + lines[max(0, at - 2)...at].map { String($0.prefix(300)) }.joined(separator: " | ")
            }
        }
    }

    private func execute(seed: UInt64) throws -> RunOutcome {
        let primary = try pair.startBoth()
        try pair.setUpAdmin(on: primary)
        let code = try pair.importLicense(on: primary, items: [NodePair.scanItem, Self.seatItem])
        let sampler = RoleSampler(healthURLs: pair.nodes.map { $0.url("/api/health") }, fingerprints: pair.nodes.map(\.fingerprint))
        defer { _ = sampler.stop() }
        let network = network
        let load = FaultLoad(servers: pair.servers, code: code, scanProduct: "dbr", seatProduct: "seat", seed: seed) {
            try network.enterClients()
        }
        defer { _ = load.stop() }
        guard load.waitForMore(kind.warmUpGrants, timeoutSeconds: 60) else { throw TransportError("no load before the fault") }

        var random = SplitMix64(seed: seed)
        let faultStarted = Date()
        try kind.inject(self, primary: primary, load: load, random: &random)
        note("fault \(kind.rawValue) from \(Self.stamp(faultStarted)) to \(Self.stamp(Date()))")
        let faultEnded = try settle()
        guard load.waitForMore(Self.afterSettleGrants) else { throw TransportError("the pair does not serve after the fault") }
        let (answers, leaseChanges, failures) = load.stop()
        self.answers = answers
        samples = sampler.stop()
        guard failures.isEmpty else { throw TransportError(failures.joined(separator: "; ")) }

        try pair.wait(for: "both reconciliation queues to empty") {
            try (0..<2).allSatisfy { try pair.admin($0, "GET", "/api/admin/cluster").json?["reconcileQueue"] as? Bool == false }
        }
        try pair.waitForSameDurableLsn()
        let reconcileOverruns = try (0..<2).map { try pair.admin($0, "GET", "/api/admin/cluster").json?["reconcileOverrunsTotal"] as? Int ?? 0 }
        return NemesisCheck(answers: answers, listed: try (0..<2).map(grants), samples: samples, faultEnded: faultEnded, leaseChanges: leaseChanges,
                            seatQuantity: Self.seatQuantity, metrics: try pair.nodes.map { try $0.metrics() },
                            reconcileOverruns: reconcileOverruns.max() ?? 0, takeoversAllowed: kind.takeoversAllowed(withWitness: witness != nil),
                            splitBrainIsViolation: witness != nil).outcome
    }

    /// Heals the network, starts any node that is not running, and waits
    /// for a primary with an attached standby.
    /// - Returns: when the fault ended: the network healed and every node running.
    private func settle() throws -> Date {
        try network.heal()
        for index in 0..<2 where pair.nodes[index].process?.isRunning != true {
            let status = pair.nodes[index].process?.terminationStatus ?? -1
            unexpectedExits.append("node \(index) exited by itself (status \(status)) during \(kind.rawValue)")
            earlierLogs[index] += pair.nodes[index].logText + "\n--- exited (status \(status)); started again\n"
            try pair.nodes[index].start()
        }
        let faultEnded = Date()
        try pair.waitForAttachedPair()
        return faultEnded
    }

    // MARK: For the faults

    func requireWitness() throws -> NodeProcess {
        guard let witness else { throw TransportError("\(kind.rawValue) needs a witness") }
        return witness
    }

    func pid(_ index: Int) throws -> pid_t {
        guard let process = pair.nodes[index].process, process.isRunning else { throw TransportError("node \(index) is not running") }
        return process.processIdentifier
    }

    /// kill -9 of node `index`, then (once `event` returns, when given) starts it again.
    func restart(_ index: Int, once event: (() throws -> Void)? = nil) throws {
        pair.nodes[index].stop(signal: SIGKILL)
        earlierLogs[index] += pair.nodes[index].logText + "\n--- killed (SIGKILL); started again\n"
        note("node \(index) killed at \(Self.stamp(Date()))")
        try event?()
        try pair.nodes[index].start()
    }

    /// A time as the kept answers.tsv and health.tsv write it (Unix seconds).
    static func stamp(_ date: Date) -> String { String(format: "%.3f", date.timeIntervalSince1970) }

    /// A line for the outcome's notes.
    func note(_ line: String) { notes.append(line) }

    // MARK: Grants and logs

    /// Node `index`'s whole grant list, page by page.
    private func grants(_ index: Int) throws -> [ListedGrant] {
        var listed: [ListedGrant] = []
        while true {
            let since = listed.last?.lsn ?? 0
            let response = try pair.admin(index, "GET", "/api/admin/grants?since=\(since)&limit=\(Self.grantsPage)", timeoutMs: Self.grantsPageTimeoutMs)
            guard response.status == 200, let page = try JSONSerialization.jsonObject(with: response.body) as? [[String: Any]] else {
                throw TransportError("listing the grants on node \(index) failed: HTTP \(response.status)")
            }
            listed += page.compactMap { grant in
                guard let grantId = grant["grantId"] as? String, let lsn = grant["lsn"] as? Int, let term = grant["term"] as? Int else { return nil }
                return ListedGrant(grantId: grantId, requestId: grant["requestId"] as? String, lsn: lsn, term: term)
            }
            if page.count < Self.grantsPage { return listed }
        }
    }

    /// Writes each node's log, the answers, the health samples and the
    /// outcome into the run's directory.
    private func keepLogs(_ outcome: RunOutcome, seed: UInt64) {
        func write(_ text: String, _ name: String) {
            try? text.write(toFile: pair.directory + "/" + name, atomically: false, encoding: .utf8)
        }
        for index in 0..<2 { write(earlierLogs[index] + pair.nodes[index].logText, "node\(index).log") }
        if let witness { write(witness.logText, "witness.log") }
        write(answers.map { answer in
            let what: String
            switch answer.outcome {
            case .granted(let grantId, let term): what = "granted\t\(grantId)\t\(term)"
            case .refused(let code): what = "refused\t\(code)\t"
            }
            return "\(Self.stamp(answer.at))\t\(answer.requestId)\tnode\(answer.node)\t\(what)"
        }.joined(separator: "\n"), "answers.tsv")
        write(samples.map { "\(Self.stamp($0.at))\tnode\($0.node)\t\($0.role)\t\($0.term)" }.joined(separator: "\n"), "health.tsv")
        write((["\(kind.rawValue), seed \(seed)"] + outcome.notes + outcome.details).joined(separator: "\n"), "outcome.txt")
    }

    private func tearDown() {
        for node in pair.nodes where node.process?.isRunning == true { node.stop(signal: SIGKILL) }
        if let witness, witness.process?.isRunning == true { witness.stop(signal: SIGKILL) }
        network.remove()
    }
}
