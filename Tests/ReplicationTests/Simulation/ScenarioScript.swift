import Replication
import XCTest

/// Runs a failover story written as a transcript, in the manner of the
/// data-driven tests of etcd/raft: `> command` lines, each followed by the
/// lines it prints, and `#` lines of prose. Two `SimulatedNode`s run the
/// shell; messages wait in flight until `deliver`, disk work until `flush`,
/// and time moves only on `tick`.
///
/// Commands:
/// - `config [mode=sync|async] [heartbeat=ms] [failover=ms] [degrade=ms] [appendMax=n] [inFlightMax=n]
///   [checkpointEvery=n] [retained=n] [chunk=bytes] [window=chunks] [stall=ms] [roundEntries=n]
///   [rounds=numbered|whole]` (without `stall`, a tick may jump any time: stalls are not detected;
///   `roundEntries`: records per reconciliation round, 512 unless given; `rounds=whole`: the nodes
///   number no reconciliation round, as replication protocol 2, and a standby's queue goes whole)
/// - `setup`: node 0 primary in term 2 with node 1 attached, both at `failover` ms (prints their status)
/// - `start <node> [at=ms] [term=t] [log=<first>..<last>@<term>,…] [ids=<first record ID>] [checkpoint=lsn] [compacted=lsn]`
/// - `tick <node> <ms>`, `write <node> <record ID>…`, `switchover <node>`, `crash <node>`
/// - `clock <node> <ms>`: the node's clock reads `ms` from now on, without a tick (a paused
///   process resumes: what it handles next meets that time)
/// - `deliver <from> [count]`, `drop <from> [count]`: messages `from` sent, oldest first
/// - `duplicate <from>`: a copy of the oldest message `from` sent goes in flight again, last
/// - `flush <node> [count]`: complete disk operations, oldest first
/// - `stabilize`: flush and deliver until nothing is left; `status <node>`
///
/// Invariant: the same transcript always prints the same lines; a transcript
/// passes only if every command printed exactly the lines written under it.
final class ScenarioScript {
    private var config = ReplicaConfig(stallMs: .max)
    private var numbersReconcileRounds = true
    private var reconcileEntriesPerRound = ReplicaShell.reconcileEntriesPerRound
    private var nodes: [SimulatedNode?] = [nil, nil]
    /// Messages sent and not yet delivered, by sender.
    private var inFlight: [[ReplicationMessage]] = [[], []]
    private var output: [String] = []
    private var quietDepth = 0

    /// Replays `transcript` and fails the calling test on the first difference.
    static func run(_ transcript: String, file: StaticString = #filePath, line: UInt = #line) {
        let expected = transcript.split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0).trimmingTrailingSpaces()
        }
        var actual: [String] = []
        let script = ScenarioScript()
        for text in expected {
            if text.hasPrefix("> ") {
                actual.append(text)
                actual += script.execute(String(text.dropFirst(2)))
            } else if text.hasPrefix("#") || text.isEmpty {
                actual.append(text)
            }
        }
        while actual.last == "" { actual.removeLast() }
        var trimmed = expected
        while trimmed.last == "" { trimmed.removeLast() }
        guard actual != trimmed else { return }
        let firstDifference = zip(actual, trimmed).prefix { $0 == $1 }.count
        XCTFail("""
            transcript differs at line \(firstDifference + 1):
              expected: \(firstDifference < trimmed.count ? trimmed[firstDifference] : "<end>")
              actual:   \(firstDifference < actual.count ? actual[firstDifference] : "<end>")
            whole actual transcript:
            \(actual.joined(separator: "\n"))
            """, file: file, line: line)
    }

    // MARK: Commands

    /// - Returns: the lines the command printed.
    func execute(_ command: String) -> [String] {
        output = []
        let words = command.split(separator: " ").map(String.init)
        let positional = words.dropFirst().filter { !$0.contains("=") }.compactMap { UInt64($0) }
        var options: [String: String] = [:]
        for word in words.dropFirst() where word.contains("=") {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            options[parts[0]] = parts[1]
        }
        switch words.first ?? "" {
        case "config": configure(options)
        case "setup": setup()
        case "start": start(Int(positional[0]), options)
        case "tick": node(positional[0]).tick(nowMs: positional[1])
        case "clock":
            let clockMs = positional[1]
            node(positional[0]).clockMs = { clockMs }
        case "write":
            let writer = node(positional[0])
            for id in positional.dropFirst() where !writer.submit(id: id) { say("n\(writer.index): refused g\(id)") }
        case "switchover":
            if !node(positional[0]).requestSwitchover() { say("n\(positional[0]): no standby to hand over to") }
        case "crash": node(positional[0]).crash()
        case "deliver": deliver(from: Int(positional[0]), count: positional.count > 1 ? Int(positional[1]) : nil)
        case "drop":
            let sender = Int(positional[0])
            let lost = inFlight[sender].prefix(positional.count > 1 ? Int(positional[1]) : inFlight[sender].count)
            for message in lost { say("n\(sender) → n\(1 - sender) lost: \(Transcript.describe(message))") }
            inFlight[sender].removeFirst(lost.count)
        case "duplicate":
            let sender = Int(positional[0])
            let copy = inFlight[sender][0]
            say("n\(sender) → n\(1 - sender) duplicated: \(Transcript.describe(copy))")
            inFlight[sender].append(copy)
        case "flush": flush(node(positional[0]), count: positional.count > 1 ? Int(positional[1]) : nil)
        case "stabilize": stabilize()
        case "status": status(node(positional[0]))
        default: preconditionFailure("unknown scenario command: \(command)")
        }
        collectOutputs()
        return output
    }

    private func node(_ index: UInt64) -> SimulatedNode {
        guard let node = nodes[Int(index)] else { preconditionFailure("node \(index) was never started") }
        return node
    }

    private func configure(_ options: [String: String]) {
        func number(_ key: String) -> UInt64? { options[key].flatMap(UInt64.init) }
        config = ReplicaConfig(heartbeatMs: number("heartbeat") ?? 100, failoverTimeoutMs: number("failover") ?? 1_000,
                               degradeAfterMs: number("degrade") ?? 5_000,
                               mode: options["mode"].flatMap(ReplicaConfig.Mode.init(rawValue:)) ?? .sync,
                               appendEntriesMax: Int(number("appendMax") ?? 1_024), inFlightEntriesMax: number("inFlightMax") ?? 16_384,
                               checkpointEveryRecords: number("checkpointEvery") ?? 100_000, retainedRecords: number("retained") ?? 100_000,
                               snapshotChunkBytes: number("chunk") ?? 1 << 20, snapshotWindowChunks: number("window") ?? 4,
                               stallMs: number("stall") ?? .max)
        numbersReconcileRounds = options["rounds"] != "whole"
        reconcileEntriesPerRound = Int(number("roundEntries") ?? UInt64(ReplicaShell.reconcileEntriesPerRound))
    }

    /// Node 0 primary in term 2 and node 1 attached, both clocks at `failoverTimeoutMs`.
    private func setup() {
        let failover = config.failoverTimeoutMs
        quietDepth += 1
        // The nodes first tell each other their logs are empty: an empty node promotes only then.
        for command in ["start 0 at=0", "start 1 at=1", "tick 0 0", "tick 1 1", "deliver 0", "deliver 1", "tick 0 \(failover)", "flush 0", "deliver 0", "flush 1",
                        "tick 1 \(failover)", "deliver 1", "deliver 0", "deliver 1"] {
            _ = execute(command)
        }
        quietDepth -= 1
        output = []
        status(node(0))
        status(node(1))
    }

    private func start(_ index: Int, _ options: [String: String]) {
        if nodes[index] == nil {
            var log: [SimulatedEntry] = []
            var id = options["ids"].flatMap(UInt64.init) ?? 1
            for range in (options["log"] ?? "").split(separator: ",") {
                let parts = range.split(separator: "@")
                let bounds = parts[0].components(separatedBy: "..").compactMap { UInt64($0) }
                for lsn in bounds[0]...(bounds.last!) {
                    log.append(SimulatedEntry(lsn: lsn, term: UInt64(parts[1])!, id: id))
                    id += 1
                }
            }
            let durable = DurableStore(log: log, term: options["term"].flatMap(UInt64.init) ?? 0,
                                       checkpointLsn: options["checkpoint"].flatMap(UInt64.init) ?? 0,
                                       compactedLsn: options["compacted"].flatMap(UInt64.init) ?? 0)
            let node = SimulatedNode(index: index, config: config, durable: durable)
            node.peerNumbersReconcileRounds = numbersReconcileRounds
            node.reconcileEntriesPerRound = reconcileEntriesPerRound
            node.trace = { [unowned self] line in
                if !line.hasPrefix("tick now=") { self.say("n\(index): \(line)") }
            }
            nodes[index] = node
        }
        let node = nodes[index]!
        // Sessions read as 1000 × boot (node 0) and 1000 × boot + 500 (node 1).
        node.start(incarnation: UInt64(node.boots + 1) * 1_000 + UInt64(index) * 500,
                   nowMs: options["at"].flatMap(UInt64.init) ?? 0)
    }

    private func deliver(from sender: Int, count: Int?) {
        let messages = Array(inFlight[sender].prefix(count ?? inFlight[sender].count))
        inFlight[sender].removeFirst(messages.count)
        let receiver = nodes[1 - sender]
        for message in messages {
            guard let receiver, receiver.isUp else {
                say("n\(1 - sender) is down; lost: \(Transcript.describe(message))")
                continue
            }
            receiver.receive(message)
            collectOutputs()
        }
    }

    private func flush(_ node: SimulatedNode, count: Int?) {
        var left = count ?? .max
        while left > 0, node.isUp, !node.disk.isEmpty {
            node.completeDiskOperation()
            collectOutputs()
            left -= 1
        }
    }

    private func stabilize() {
        for _ in 0..<100 {
            collectOutputs()
            let busy = nodes.compactMap { $0 }.filter { $0.isUp && !$0.disk.isEmpty }
            guard !busy.isEmpty || inFlight.contains(where: { !$0.isEmpty }) else { return }
            for node in busy { flush(node, count: nil) }
            for sender in 0...1 { deliver(from: sender, count: nil) }
        }
        preconditionFailure("the scenario does not stabilize")
    }

    private func status(_ node: SimulatedNode) {
        guard let replica = node.replica else { return say("n\(node.index): down") }
        var line = "n\(node.index): \(replica.role.rawValue) term=\(replica.term) last=\(replica.history.last) flushed=\(replica.flushedLsn) commit=\(replica.commitLsn)"
        if replica.role == .standby { line += replica.attached ? " attached session=\(replica.session)" : " detached" }
        if let peer = replica.peer { line += " peer(session=\(peer.session) flushed=\(peer.flushedLsn))" }
        if replica.degraded { line += " degraded" }
        if !replica.acceptsWrites, replica.role == .primary { line += " handing-over" }
        line += " log=\(Transcript.describe(node.log))"
        if !node.durable.queue.isEmpty { line += " queue=\(Transcript.describe(node.durable.queue))" }
        say(line)
    }

    /// Moves what the nodes sent into flight, and reports acknowledged records.
    private func collectOutputs() {
        for case let node? in nodes {
            inFlight[node.index] += node.outbox
            node.outbox = []
            for entry in node.acknowledged { say("n\(node.index): client g\(entry.id) acknowledged") }
            node.acknowledged = []
            node.written = []
            node.truncated = []
        }
    }

    private func say(_ line: String) {
        if quietDepth == 0 { output.append(line) }
    }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
