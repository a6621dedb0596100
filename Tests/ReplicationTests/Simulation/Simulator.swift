import LicenseState
import Replication
import LTSTestSupport

/// A main + standby pair in one process, against simulated time, disks and
/// network: a fault phase (crashes, pauses, cold starts, cut and lossy
/// directions, switchovers, clock drift, failing disks; clients whose
/// sendings come late), then a quiet phase (network healed, both nodes
/// up, no faults) after which the pair must have converged.
///
/// Invariant: a run is a pure function of its seed (all randomness comes
/// from one `SplitMix64`), so any failure replays from the seed.
final class Simulator {
    /// What a run did, for the coverage checks over many seeds.
    struct Stats {
        var steps = 0
        var acknowledged = 0
        var crashes = 0
        var primaryTerms = 0
        var truncated = 0
        var switchovers = 0
        var handovers = 0
        var reconciled = 0
        var degradedSteps = 0
        var checkpoints = 0
        var discards = 0
        var snapshotsInstalled = 0
        /// Rounds over a node's own queue that left records for a next one.
        var laterOwnQueueRounds = 0
        /// Rounds of a standby's queue that left records for a next one.
        var laterPeerQueueRounds = 0
        /// Grants one node process logged again in reconciliation twice.
        var grantsReappendedAgain = 0
        var pauses = 0
        /// Runs whose fault phase only flapped the link, and its cuts.
        var flapRuns = 0
        var flapCuts = 0
        var stalledMs: UInt64 = 0
        var diskFailures = 0
        /// Client answers taken, by kind, and sendings that reached their node late.
        var acceptedGrants = 0
        var acceptedRefusals = 0
        var lateSendings = 0
        /// Grants voided, voided grants made live again and items overrun in the final log.
        var voids = 0
        var regrants = 0
        var overruns = 0
        /// Runs with a witness, and steps in which one node held the right to write.
        var witnessRuns = 0
        var writerSteps = 0
    }

    enum Event {
        case tick(node: Int, boot: Int)
        case deliver(to: Int, message: ReplicationMessage)
        case restart(node: Int)
        case crash(node: Int, boot: Int)
        /// A paused node (SIGSTOP) runs again (SIGCONT).
        case resume(node: Int, boot: Int)
        case client
        /// A client's sending held in the network reaches node `to` late.
        case lateCall(to: Int, call: ClientCall)
        case fault
        case quiet
        /// A claim of node `from` reaches the witness.
        case witnessClaim(from: Int, boot: Int, claim: WitnessClaim)
        /// The witness's answer reaches node `to` (nil: the node's timeout).
        case witnessAnswer(to: Int, boot: Int, claim: WitnessClaim, answer: WitnessAnswer?)
        case witnessRestart
    }

    let seed: UInt64
    let config: ReplicaConfig
    /// One seed in eight flaps the link in its fault phase, as the fault
    /// suite's `flap` does, and injects no other fault: a node process then
    /// takes over, loses its term and takes over again, its queue and
    /// re-applied records going back and forth between truncations, with
    /// no crash to forget what it remembered.
    let flaps: Bool
    /// Simulated time (ms) at which faults stop and the network heals.
    let faultPhaseEndMs: UInt64
    /// Clients stop writing then, so the pair can drain.
    let writesEndMs: UInt64
    let endMs: UInt64

    var random: SplitMix64
    private(set) var nowMs: UInt64 = 0
    var events = EventQueue<Event>()
    var network = SimulatedNetwork()
    let nodes: [SimulatedNode]
    /// Per node: local clock = offset + simulated time × rate / 1000.
    private let clockRatePerMille: [UInt64]
    private let clockOffsetMs: [UInt64]
    private let tickEveryMs: [ClosedRange<UInt64>]
    private var diskDelayMs: [ClosedRange<UInt64>]
    /// Per node: messages that reached it while it was paused, in order;
    /// nil while it runs.
    var pausedInbox: [[ReplicationMessage]?] = [nil, nil]
    /// Per node: client requests that reached it while it was paused.
    var pausedCalls: [[ClientCall]] = [[], []]
    /// Per node: its disk fails the next operation it completes (an fsync
    /// error, or a torn write SQLite discards on recovery).
    var failingDisk = [false, false]
    var nextRecordId: UInt64 = 1
    /// The pair's witness (one seed in two of each mode has one).
    let witness: SimulatedWitness?
    var pendingClaims = Set<PendingClaim>()
    /// Per node: witness answers and timeouts that came while it was paused.
    var pausedWitnessAnswers: [[(WitnessClaim, WitnessAnswer?)]] = [[], []]
    var clients: SimulatedClients
    let baseState: LicenseState
    var quiet = false
    var stats = Stats()
    var failure: String?
    let traceSteps: Bool

    // MARK: What the invariants remember

    /// The node and boot that was primary in each term, ever.
    var primaryOfTerm: [UInt64: (node: Int, boot: Int)] = [:]
    /// Acknowledged plain records and the logged grants and refusals
    /// clients took, by ID.
    var acknowledged: [UInt64: SimulatedEntry] = [:]
    /// Plain records that were ever durable in a reconciliation queue.
    var everTruncated: Set<UInt64> = []
    /// Requests with an answer that was ever durable in a reconciliation queue.
    var everTruncatedRequests: Set<LicenseState.RequestKey> = []
    /// The record at each position of any log, ever (same position, same record).
    var recordAt: [LogPosition: UInt64] = [:]
    /// Acknowledgements or durable removals since the last durability check.
    var durabilityCheckDue = false

    /// - Parameters:
    ///   - seed: decides everything, including the replication mode (even seeds: sync).
    ///   - faultPhaseMs: simulated time with faults; the quiet phase follows.
    init(seed: UInt64, faultPhaseMs: UInt64 = 300, quietPhaseMs: UInt64 = 300, traceSteps: Bool = false) {
        self.seed = seed
        self.traceSteps = traceSteps
        var random = SplitMix64(seed: seed)
        let appendEntriesMax = Int(random.uniform(1...4))
        let failoverTimeoutMs = random.uniform(35...60)
        let hasWitness = (seed / 2) % 2 == 1
        // The clocks drift up to 5 %; the bound the lease arithmetic
        // assumes is 6 %, above it by what whole milliseconds round away.
        config = ReplicaConfig(heartbeatMs: 10, failoverTimeoutMs: failoverTimeoutMs,
                               degradeAfterMs: random.chance(perMille: 300) ? 0 : random.uniform(60...200),
                               mode: seed % 2 == 0 ? .sync : .async, appendEntriesMax: appendEntriesMax,
                               inFlightEntriesMax: UInt64(appendEntriesMax) * random.uniform(4...16),
                               checkpointEveryRecords: random.chance(perMille: 200) ? 0 : random.uniform(2...20),
                               retainedRecords: random.uniform(0...6), snapshotChunkBytes: random.uniform(100...600),
                               snapshotWindowChunks: random.uniform(1...4), witness: hasWitness,
                               leaseMs: random.uniform(21...(failoverTimeoutMs * 85 / 100)), clockDriftPerMille: 60)
        // With a witness, clocks are often at an end of the drift bound,
        // where the lease arithmetic is tight.
        clockRatePerMille = (0..<2).map { _ in
            hasWitness && random.chance(perMille: 500) ? random.pick([950, 1050]) : random.uniform(950...1050)
        }
        clockOffsetMs = [random.uniform(0...10_000), random.uniform(0...10_000)]
        tickEveryMs = [random.uniform(2...4)...random.uniform(5...9), random.uniform(2...4)...random.uniform(5...9)]
        diskDelayMs = [0...random.uniform(0...25), 0...random.uniform(0...25)]
        // From the seed, not the random stream, so other draws stay.
        flaps = (seed / 64) % 8 == 7
        // Flapping takes longer: a cut must outlast the failover timeout. So
        // does settling after it: its queues grow over many splits (80
        // records and more), and rounds of 2 drain them a round trip each.
        let faultsMs = flaps ? 3 * faultPhaseMs : faultPhaseMs
        faultPhaseEndMs = faultsMs
        writesEndMs = faultsMs + quietPhaseMs / 3
        endMs = faultsMs + (flaps ? 3 * quietPhaseMs : quietPhaseMs)
        // One seed in five starts as a new, empty standby joining a primary
        // whose log is compacted: it can only join by a snapshot.
        var established = DurableStore()
        if seed % 5 == 4 {
            let count = random.uniform(10...40)
            let log = (1...count).map { SimulatedEntry(lsn: $0, term: 2, id: $0) }
            let compacted = count - random.uniform(0...5)
            established = DurableStore(log: log, term: 2, checkpointLsn: count, compactedLsn: compacted)
            for entry in log {
                acknowledged[entry.id] = entry
                recordAt[entry.position] = entry.id
            }
            nextRecordId = count + 1
        }
        let (base, code) = SimulatedClients.baseState(quantity: Int(random.uniform(10...80)))
        baseState = base
        clients = SimulatedClients(handshakeCode: code)
        nodes = [SimulatedNode(index: 0, config: config, durable: established, baseState: base),
                 SimulatedNode(index: 1, config: config, baseState: base)]
        witness = hasWitness ? SimulatedWitness(random: &random) : nil
        if hasWitness { stats.witnessRuns = 1 }
        if flaps { stats.flapRuns = 1 }
        self.random = random
        // One seed in four runs nodes of replication protocol 2, which
        // number no reconciliation round: a standby's queue goes whole.
        // (From the seed, not the random stream, so other draws stay.)
        let numbersRounds = (seed / 4) % 4 != 0
        // Rounds short enough that queues take several, long enough that
        // a queue of 30 records drains in the quiet phase.
        let roundEntries = [2, 4, 16][Int((seed / 16) % 3)]
        for node in nodes {
            node.peerNumbersReconcileRounds = numbersRounds
            node.reconcileEntriesPerRound = roundEntries
            // The index, not the node: a node's closure holding the node
            // kept every run's nodes (logs, states) alive to the end of the
            // process, about 40 KB a seed.
            let index = node.index
            node.newRecordId = { [unowned self] in
                defer { self.nextRecordId += 1 }
                return self.nextRecordId
            }
            node.diskDueMs = { [unowned self] in self.nowMs + self.random.uniform(self.diskDelayMs[index]) }
            node.clockMs = { [unowned self] in self.localNowMs(index) }
            if traceSteps {
                node.trace = { [unowned self] line in print("[\(self.nowMs)ms n\(index)] \(line)") }
            }
        }
    }

    /// The replay hint printed with every failure.
    var replayHint: String {
        "replay: LTS_SIM_SEED=\(seed) swift test --disable-swift-testing --filter SimulationTests"
    }

    /// Runs to the end or to the first broken invariant.
    /// - Returns: the failure, if any, with the seed and the replay hint.
    func run() -> String? {
        if traceSteps {
            print("seed \(seed): \(config.mode) heartbeat=\(config.heartbeatMs) failover=\(config.failoverTimeoutMs) degrade=\(config.degradeAfterMs) appendMax=\(config.appendEntriesMax) inFlightMax=\(config.inFlightEntriesMax) checkpointEvery=\(config.checkpointEveryRecords) numberedRounds=\(nodes[0].peerNumbersReconcileRounds) roundEntries=\(nodes[0].reconcileEntriesPerRound) retained=\(config.retainedRecords) chunk=\(config.snapshotChunkBytes)×\(config.snapshotWindowChunks) clocks=\(clockRatePerMille)‰\(flaps ? " flaps" : "")")
        }
        for node in nodes { start(node) }
        witness?.start(nowMs: 0)
        events.push(.client, atMs: random.uniform(0...10))
        events.push(.fault, atMs: random.uniform(0...30))
        events.push(.quiet, atMs: faultPhaseEndMs)
        while failure == nil, step() {
            stats.steps += 1
            drainOutputs()
            checkStep()
        }
        if failure == nil { checkConverged() }
        return failure.map { "seed \(seed) (\(config.mode)) at \(nowMs)ms: \($0) — \(replayHint)" }
    }

    // MARK: Steps

    /// Runs the next event or disk completion.
    /// - Returns: false at the end of the run.
    private func step() -> Bool {
        var nextMs = events.nextTimeMs ?? .max
        var diskNode: SimulatedNode?
        for node in nodes where node.isUp && pausedInbox[node.index] == nil {
            if let dueMs = node.disk.first?.dueMs, dueMs < nextMs {
                nextMs = dueMs
                diskNode = node
            }
        }
        guard nextMs <= endMs else { return false }
        // A paused node's disk completes what fell due meanwhile once it
        // runs again: then, not at the past time it fell due.
        nowMs = max(nowMs, nextMs)
        if let diskNode {
            if failingDisk[diskNode.index] {
                // As the node does on a store error: it stops, the write not done.
                failingDisk[diskNode.index] = false
                stats.diskFailures += 1
                trace("node \(diskNode.index): the disk fails its next operation; the node stops")
                crash(diskNode, downForMs: random.uniform(1...100))
                return true
            }
            diskNode.completeDiskOperation()
            return true
        }
        let (_, event) = events.pop()!
        switch event {
        case .tick(let index, let boot):
            let node = nodes[index]
            guard node.isUp, node.boots == boot else { break }
            // A paused node's timers fire once it runs again.
            guard pausedInbox[index] == nil else { break }
            node.tick(nowMs: localNowMs(index))
            events.push(.tick(node: index, boot: boot), atMs: nowMs + random.uniform(tickEveryMs[index]))
        case .deliver(let index, let message):
            guard nodes[index].isUp, network.isOpen(from: 1 - index, atMs: nowMs) else { break }
            // A paused node's socket holds what arrives, in order.
            if pausedInbox[index] != nil {
                pausedInbox[index]!.append(message)
                break
            }
            nodes[index].receive(message)
        case .resume(let index, let boot):
            let node = nodes[index]
            guard node.isUp, node.boots == boot, let inbox = pausedInbox[index] else { break }
            pausedInbox[index] = nil
            var calls = pausedCalls[index]
            pausedCalls[index] = []
            let witnessAnswers = pausedWitnessAnswers[index]
            pausedWitnessAnswers[index] = []
            trace("node \(index) resumes with \(inbox.count) messages, \(calls.count) client requests and \(witnessAnswers.count) witness answers waiting")
            for (claim, answer) in witnessAnswers where node.isUp { deliverWitnessAnswer(claim, answer, to: node) }
            // Everything that waited is read at once, before the first tick,
            // client requests and peer messages in any order.
            var messages = inbox[...]
            while node.isUp, !messages.isEmpty || !calls.isEmpty {
                if !calls.isEmpty, messages.isEmpty || random.chance(perMille: 500) {
                    node.call(calls.removeFirst(), nowSeconds: callSeconds(index))
                } else {
                    node.receive(messages.removeFirst())
                }
            }
            events.push(.tick(node: index, boot: boot), atMs: nowMs + random.uniform(tickEveryMs[index]))
        case .restart(let index):
            if !nodes[index].isUp { start(nodes[index]) }
        case .crash(let index, let boot):
            // Back soon, before the peer times out, so that the peer meets the restarted node.
            if !quiet, nodes[index].isUp, nodes[index].boots == boot { crash(nodes[index], downForMs: random.uniform(1...60)) }
        case .client:
            sendClientCall()
            if nowMs < writesEndMs { events.push(.client, atMs: nowMs + random.uniform(1...12)) }
        case .lateCall(let index, let call):
            guard nodes[index].isUp else { break }
            // A paused node's socket holds the request too.
            if pausedInbox[index] != nil {
                pausedCalls[index].append(call)
                break
            }
            trace("late sending \(call.requestId ?? "-")#\(call.attempt ?? 0) reaches node \(index)")
            nodes[index].call(call, nowSeconds: callSeconds(index))
        case .witnessClaim(let index, let boot, let claim):
            witnessReceives(claim, from: index, boot: boot)
        case .witnessAnswer(let index, let boot, let claim, let answer):
            witnessAnswerArrives(claim, answer, to: index, boot: boot)
        case .witnessRestart:
            if let witness, !witness.isUp {
                witness.start(nowMs: nowMs)
                trace("witness restarts")
            }
        case .fault:
            guard !quiet else { break }
            if flaps {
                flap()
                break
            }
            injectFault()
            // The witness's faults come on top, often: a lease matters only
            // when some of its links fail.
            if witness != nil, random.chance(perMille: 300) { injectWitnessFault() }
            events.push(.fault, atMs: nowMs + random.uniform(5...40))
        case .quiet:
            quiet = true
            network.heal()
            witness?.heal()
            if let witness, !witness.isUp { witness.start(nowMs: nowMs) }
            failingDisk = [false, false]
            // Slow disks throttle a catching-up standby to a few entries per flush: they are a fault too.
            diskDelayMs = [0...2, 0...2]
            trace("quiet: network and disks healed, faults stop")
            for node in nodes where !node.isUp { start(node) }
            for node in nodes where pausedInbox[node.index] != nil {
                events.push(.resume(node: node.index, boot: node.boots), atMs: nowMs)
            }
        }
        return true
    }

    /// A client sends a new request, or gives up on a sending and sends its
    /// request again; one sending in ten is held in the network and reaches
    /// a node late, maybe after the faults, long after its client gave up.
    private func sendClientCall() {
        let call = (clients.open.isEmpty || random.chance(perMille: 600) ? nil : clients.retry(&random)) ?? clients.newRequest(&random)
        if random.chance(perMille: 100) {
            stats.lateSendings += 1
            // By the end of the writes, so that the pair can settle after it.
            events.push(.lateCall(to: Int(random.uniform(0...1)), call: call), atMs: min(nowMs + random.uniform(5...400), writesEndMs))
            return
        }
        let open = nodes.filter { ($0.shell?.acceptsWrites ?? false) && pausedInbox[$0.index] == nil }
        guard !open.isEmpty else { return }
        let node = random.pick(open)
        node.call(call, nowSeconds: callSeconds(node.index))
    }

    /// The time node `index` decides calls at (UTC seconds).
    private func callSeconds(_ index: Int) -> Int64 {
        SimulatedClients.callTime + Int64(localNowMs(index) / 1000)
    }

    private func start(_ node: SimulatedNode) {
        node.start(incarnation: random.next(), nowMs: localNowMs(node.index))
        events.push(.tick(node: node.index, boot: node.boots), atMs: nowMs + random.uniform(tickEveryMs[node.index]))
    }

    /// Node `index`'s clock: monotonic, drifting at its own rate.
    func localNowMs(_ index: Int) -> UInt64 {
        clockOffsetMs[index] + nowMs * clockRatePerMille[index] / 1000
    }

    // MARK: Faults

    /// Cuts both directions for about the failover timeout, then opens them
    /// for a while: sometimes long enough for the pair to meet again,
    /// sometimes not.
    private func flap() {
        let untilMs = nowMs + random.uniform(config.failoverTimeoutMs / 2...2 * config.failoverTimeoutMs)
        network.cut(from: 0, untilMs: untilMs)
        network.cut(from: 1, untilMs: untilMs)
        stats.flapCuts += 1
        trace("network: flap, cut until \(untilMs)ms")
        events.push(.fault, atMs: untilMs + random.uniform(5...2 * config.failoverTimeoutMs))
    }

    private func injectFault() {
        let roll = random.uniform(0...99)
        switch roll {
        case 0..<18:
            let up = nodes.filter(\.isUp)
            guard !up.isEmpty else { return }
            crash(random.pick(up), downForMs: random.uniform(1...150))
        case 18..<22:
            for node in nodes where node.isUp { crash(node, downForMs: random.uniform(1...120)) }
        case 22..<47:
            let untilMs = nowMs + random.uniform(5...200)
            switch random.uniform(0...2) {
            case 0: network.cut(from: 0, untilMs: untilMs)
            case 1: network.cut(from: 1, untilMs: untilMs)
            default:
                network.cut(from: 0, untilMs: untilMs)
                network.cut(from: 1, untilMs: untilMs)
            }
            trace("network: cut \(network.links.map(\.blockedUntilMs)) (ms, per sender)")
        case 47..<67:
            let sender = Int(random.uniform(0...1))
            network.links[sender].dropPerMille = random.chance(perMille: 400) ? 0 : random.uniform(0...300)
            network.links[sender].duplicatePerMille = random.chance(perMille: 500) ? 0 : random.uniform(0...150)
            network.links[sender].delayMs = random.uniform(0...2)...random.uniform(3...30)
            trace("network: from \(sender) drop=\(network.links[sender].dropPerMille)‰ duplicate=\(network.links[sender].duplicatePerMille)‰ delay=\(network.links[sender].delayMs)ms")
        case 75..<83:
            let up = nodes.filter { $0.isUp && pausedInbox[$0.index] == nil }
            guard !up.isEmpty else { return }
            let node = random.pick(up)
            // Pauses around the failover timeout hurt most: the peer may or
            // may not have taken over when the node runs again.
            let pauseMs = random.uniform(1...(3 * config.failoverTimeoutMs))
            pausedInbox[node.index] = []
            stats.pauses += 1
            stats.stalledMs += pauseMs
            trace("node \(node.index) paused for \(pauseMs)ms")
            events.push(.resume(node: node.index, boot: node.boots), atMs: nowMs + pauseMs)
        case 83..<88:
            let up = nodes.filter { $0.isUp && !$0.disk.isEmpty }
            guard !up.isEmpty else { return }
            failingDisk[random.pick(up).index] = true
        case 88..<97:
            injectWitnessFault()
        case 67..<75:
            for node in nodes where node.role == .primary && pausedInbox[node.index] == nil && node.requestSwitchover() {
                stats.switchovers += 1
            }
        default:
            break
        }
    }

    /// Counts the turning points, and aims some crashes at them: crashes at
    /// random times rarely land in the few milliseconds after a divergence,
    /// a reconciliation or a handover, where a crash hurts most.
    private func noteTurningPoint(_ node: SimulatedNode, _ message: ReplicationMessage) {
        switch message {
        case .handover: stats.handovers += 1
        case .reconciled: stats.reconciled += 1
        default: break
        }
        let perMille: UInt64
        switch message {
        // The primary that answered `reconciled` holds the re-applied records
        // only in memory for a while: the worst moment of all.
        case .reconciled: perMille = 400
        case .diverged, .reconcile, .handover: perMille = 150
        default: return
        }
        guard !quiet, random.chance(perMille: perMille) else { return }
        events.push(.crash(node: node.index, boot: node.boots), atMs: nowMs + random.uniform(0...5))
    }

    private func crash(_ node: SimulatedNode, downForMs: UInt64) {
        node.crash()
        pausedInbox[node.index] = nil
        pausedCalls[node.index] = []
        pausedWitnessAnswers[node.index] = []
        stats.crashes += 1
        events.push(.restart(node: node.index), atMs: nowMs + downForMs)
    }

    // MARK: Outputs

    private func drainOutputs() {
        for node in nodes {
            for message in node.outbox {
                if message.term > node.durable.term {
                    fail("node \(node.index) sent term \(message.term) before persisting it (\(node.durable.term)): \(Transcript.describe(message))")
                }
                noteTurningPoint(node, message)
                for dueMs in network.deliveryTimes(from: node.index, nowMs: nowMs, random: &random) {
                    events.push(.deliver(to: 1 - node.index, message: message), atMs: dueMs)
                }
            }
            node.outbox = []
            sendClaims(of: node)
            for entry in node.written {
                if let id = recordAt[entry.position], id != entry.id {
                    fail("node \(node.index) holds g\(entry.id) at \(entry.position), where another log holds g\(id)")
                }
                recordAt[entry.position] = entry.id
            }
            node.written = []
            for entry in node.acknowledged {
                checkSyncAcknowledgement(entry, by: node)
                acknowledged[entry.id] = entry
                stats.acknowledged += 1
                durabilityCheckDue = true
                trace("acknowledged g\(entry.id) at \(entry.position) by node \(node.index)")
            }
            node.acknowledged = []
            for answer in node.answers {
                if let entry = answer.entry { checkSyncAcknowledgement(entry, by: node) }
                guard clients.take(answer) else { continue }
                stats.acknowledged += 1
                switch answer.outcome {
                case .granted: stats.acceptedGrants += 1
                case .refused: stats.acceptedRefusals += 1
                }
                trace("client took \(answer.key.requestId)#\(answer.attempt) from node \(node.index): \(answer.entry?.description ?? "\(answer.outcome)")")
                guard let entry = answer.entry else { continue }
                switch entry.record {
                case .grant, .refusal:
                    acknowledged[entry.id] = entry
                    durabilityCheckDue = true
                default:
                    break
                }
            }
            node.answers = []
            if !node.truncated.isEmpty {
                everTruncated.formUnion(node.truncated.filter(\.isPlain).map(\.id))
                everTruncatedRequests.formUnion(node.truncated.compactMap(\.requestKey))
                stats.truncated += node.truncated.count
                node.truncated = []
            }
            if node.durableRemovals > 0 {
                durabilityCheckDue = true
                node.durableRemovals = 0
            }
            if node.refusedDivergences > 0 {
                fail("node \(node.index) met a divergence behind its compacted log: records there could not be reconciled")
            }
            stats.checkpoints += node.checkpoints
            stats.discards += node.discards
            stats.snapshotsInstalled += node.snapshotsInstalled
            stats.laterOwnQueueRounds += node.laterOwnQueueRounds
            stats.laterPeerQueueRounds += node.laterPeerQueueRounds
            stats.grantsReappendedAgain += node.grantsReappendedAgain
            node.laterOwnQueueRounds = 0
            node.laterPeerQueueRounds = 0
            node.grantsReappendedAgain = 0
            node.checkpoints = 0
            node.discards = 0
            node.snapshotsInstalled = 0
        }
    }

    func trace(_ line: String) {
        if traceSteps { print("[\(nowMs)ms] \(line)") }
    }

    func fail(_ message: String) {
        if failure == nil { failure = message }
    }
}

extension Simulator.Stats {
    mutating func add(_ other: Simulator.Stats) {
        steps += other.steps
        acknowledged += other.acknowledged
        crashes += other.crashes
        primaryTerms += other.primaryTerms
        truncated += other.truncated
        switchovers += other.switchovers
        handovers += other.handovers
        reconciled += other.reconciled
        degradedSteps += other.degradedSteps
        checkpoints += other.checkpoints
        discards += other.discards
        snapshotsInstalled += other.snapshotsInstalled
        laterOwnQueueRounds += other.laterOwnQueueRounds
        laterPeerQueueRounds += other.laterPeerQueueRounds
        grantsReappendedAgain += other.grantsReappendedAgain
        pauses += other.pauses
        flapRuns += other.flapRuns
        flapCuts += other.flapCuts
        stalledMs += other.stalledMs
        diskFailures += other.diskFailures
        acceptedGrants += other.acceptedGrants
        acceptedRefusals += other.acceptedRefusals
        lateSendings += other.lateSendings
        voids += other.voids
        regrants += other.regrants
        overruns += other.overruns
        witnessRuns += other.witnessRuns
        writerSteps += other.writerSteps
    }
}
