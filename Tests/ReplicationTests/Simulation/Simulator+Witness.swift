import Replication

/// The witness's part of a run: claims carried to it and answers (or their
/// absence) carried back, its faults, and the property it exists for.
extension Simulator {
    /// One claim a node waits on: answered or timed out once.
    struct PendingClaim: Hashable {
        var node: Int
        var boot: Int
        var id: UInt64
    }

    /// Carries the claims node `node` asked since the last step to the
    /// witness, and arms the node's timeout for each (the `WitnessLink`
    /// gives up after `leaseMs`).
    func sendClaims(of node: SimulatedNode) {
        guard let witness else { return }
        for claim in node.witnessOutbox {
            if !claim.release {
                pendingClaims.insert(PendingClaim(node: node.index, boot: node.boots, id: claim.id))
                events.push(.witnessAnswer(to: node.index, boot: node.boots, claim: claim, answer: nil), atMs: nowMs + config.leaseMs)
            }
            for dueMs in witness.toWitness.deliveryTimes(from: node.index, nowMs: nowMs, random: &random) {
                events.push(.witnessClaim(from: node.index, boot: node.boots, claim: claim), atMs: dueMs)
            }
        }
        node.witnessOutbox = []
    }

    /// A claim reaches the witness, which answers if it runs.
    func witnessReceives(_ claim: WitnessClaim, from index: Int, boot: Int) {
        guard let witness, witness.isUp, witness.toWitness.isOpen(from: index, atMs: nowMs),
              let answer = witness.answer(claim, nowMs: nowMs) else { return }
        trace("witness: \(claim.release ? "release" : "claim") of term \(claim.term) by node \(index) → \(answer.granted ? "granted" : "refused") (highest \(answer.highestTerm), holder \(answer.holder.map(String.init) ?? "-"), \(answer.leaseRemainingMs)ms left)")
        guard !claim.release else { return }
        for dueMs in witness.fromWitness.deliveryTimes(from: index, nowMs: nowMs, random: &random) {
            events.push(.witnessAnswer(to: index, boot: boot, claim: claim, answer: answer), atMs: dueMs)
        }
    }

    /// An answer (or the timeout, `answer == nil`) reaches node `index`;
    /// a paused node reads it when it runs again.
    func witnessAnswerArrives(_ claim: WitnessClaim, _ answer: WitnessAnswer?, to index: Int, boot: Int) {
        let node = nodes[index]
        guard node.isUp, node.boots == boot else { return }
        if answer != nil, let witness, !witness.fromWitness.isOpen(from: index, atMs: nowMs) { return }
        if pausedInbox[index] != nil {
            pausedWitnessAnswers[index].append((claim, answer))
            return
        }
        deliverWitnessAnswer(claim, answer, to: node)
    }

    func deliverWitnessAnswer(_ claim: WitnessClaim, _ answer: WitnessAnswer?, to node: SimulatedNode) {
        guard pendingClaims.remove(PendingClaim(node: node.index, boot: node.boots, id: claim.id)) != nil else { return }
        node.witnessAnswered(claim, answer)
    }

    /// A fault of the witness or its links.
    func injectWitnessFault() {
        guard let witness else { return }
        let untilMs = nowMs + random.uniform(5...200)
        switch random.uniform(0...4) {
        case 0:
            guard witness.isUp else { return }
            witness.crash()
            trace("witness crashes")
            events.push(.witnessRestart, atMs: untilMs)
        case 1:
            let index = Int(random.uniform(0...1))
            witness.toWitness.cut(from: index, untilMs: untilMs)
            trace("network: node \(index) → witness cut until \(untilMs)ms")
        case 2:
            let index = Int(random.uniform(0...1))
            witness.fromWitness.cut(from: index, untilMs: untilMs)
            trace("network: witness → node \(index) cut until \(untilMs)ms")
        case 3:
            // One node cut off from everything: the other node and the witness.
            let index = Int(random.uniform(0...1))
            witness.toWitness.cut(from: index, untilMs: untilMs)
            witness.fromWitness.cut(from: index, untilMs: untilMs)
            network.cut(from: index, untilMs: untilMs)
            network.cut(from: 1 - index, untilMs: untilMs)
            trace("network: node \(index) isolated until \(untilMs)ms")
        default:
            let index = Int(random.uniform(0...1))
            witness.toWitness.links[index].dropPerMille = random.uniform(0...300)
            witness.fromWitness.links[index].delayMs = random.uniform(0...2)...random.uniform(3...30)
            trace("network: witness link of node \(index) lossy")
        }
    }

    /// With a witness, never two nodes that may take and acknowledge
    /// writes at the same moment (each judged by its own clock now).
    func checkSingleWriter() {
        guard witness != nil else { return }
        let writers = nodes.filter { node in
            guard let replica = node.replica, pausedInbox[node.index] == nil else { return false }
            return replica.holdsWriteAuthority(atMs: localNowMs(node.index))
        }
        if writers.count > 1 {
            let detail = writers.map { node in
                let replica = node.replica!
                return "node \(node.index) term \(replica.term) lease \(replica.lease.map { "\($0.untilMs)" } ?? "-") promise \(replica.standbyPromiseUntilMs.map(String.init) ?? "-") now \(localNowMs(node.index))"
            }
            fail("two nodes may acknowledge writes at once: \(detail.joined(separator: "; "))")
        }
        if writers.count == 1 { stats.writerSteps += 1 }
    }
}
