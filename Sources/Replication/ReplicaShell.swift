import WireFormat

/// Drives one node's `Replica`: feeds it ticks, the peer's messages and the
/// log's progress, and carries out the effects it returns through a
/// `ReplicaHost`. The node and the deterministic simulation run this same
/// type; only their hosts differ.
///
/// Invariants:
/// - Effects run in the order the replica returned them. While a durable
///   effect (term, truncation, discarded log, snapshot install) is under
///   way, nothing else happens: later effects and new inputs wait (ticks are
///   dropped: the next one comes), and writes are refused.
/// - Before each input, the replica learns the time (`nowMs`) and the
///   records the host logged since (`loggedLsn`), so a primary's replica and
///   the log always agree when the replica decides, and no input is judged
///   by the time of the one before it.
/// - At most one outgoing and one incoming snapshot are held, and only
///   while the replica still transfers them.
public final class ReplicaShell {
    /// An input, as the trace names it.
    public enum Input {
        case tick(nowMs: UInt64)
        case receive(ReplicationMessage)
        case flushed(LogPosition)
        /// The host logged records of its own (client writes, reconciliation).
        case logged(throughLsn: UInt64)
        case switchover
        case snapshotPrepared(session: UInt64, totalBytes: UInt64)
        case snapshotUnavailable(session: UInt64)
        case snapshotRefused
        case installedSnapshot
        case reconciled(session: UInt64, throughLsn: UInt64, round: UInt64)
        case reconcileQueueRemains
        /// The witness answered a claim (nil: no answer came).
        case witnessAnswered(WitnessClaim, WitnessAnswer?)
    }

    /// Most inputs held while a durable effect is under way; past it, a
    /// message is dropped (a loss the protocol recovers from).
    public static let heldInputsMax = 4_096
    /// Most payload bytes held in those inputs (appends and snapshot chunks
    /// carry records of up to 1 MiB each).
    public static let heldInputBytesMax = 64 << 20
    /// Most payload bytes in one append or reconcile message: well inside
    /// `Frame.frameBytesMax`, whatever the records (a license import
    /// carries its file, up to 1 MiB).
    public static let messagePayloadBytesMax = 8 << 20
    /// Most records of a reconciliation queue re-applied in one round: a
    /// primary's own, or a standby's sent to a primary that numbers rounds
    /// (replication protocol 3). A round takes one turn of the primary's
    /// loop (a store lookup or two per record): 5,300 records at once held
    /// it 104 ms in a release build, and the loop's budget is 50 ms. The
    /// next round follows once the last one's removal from the queue is
    /// durable. A primary that numbers no round gets a standby's queue in
    /// parts of up to `ReplicationMessageCodec.entriesMax` records, as
    /// before: its `reconciled` could not say which part it answers.
    public static let reconcileEntriesPerRound = 512

    public private(set) var replica: Replica
    private unowned let host: ReplicaHost
    private var effects: [ReplicaEffect] = []
    private var effectsStart = 0
    public private(set) var isWaitingForDurable = false
    private var heldInputs: [(input: Input, bytes: Int)] = []
    private var heldInputsStart = 0
    private var heldInputBytes = 0
    /// Messages dropped because too many inputs were held.
    public private(set) var droppedInputsTotal: UInt64 = 0
    /// Primary: the session whose snapshot the host holds open.
    private var outgoingSnapshotSession: UInt64?
    /// Primary: the session of the copy being made, and one asked for
    /// meanwhile.
    private var snapshotPreparing: UInt64?
    private var snapshotWanted: UInt64?
    /// Standby: the host holds an incoming snapshot.
    private var incomingSnapshotOpen = false
    /// Standby: the part of the queue on the wire: its round's number (0:
    /// sent to a peer that reads none) and how many entries it carried.
    /// Only a `reconciled` of that number reaches the replica: a repeated
    /// answer to an earlier round must not clear this one.
    private var reconcileRound: (number: UInt64, count: Int)?
    /// Standby: the last round number given (they never repeat in a process).
    private var reconcileRoundsNumbered: UInt64 = 0
    /// Primary: the grants logged again in reconciliation that the store
    /// may not hold yet (the host asks it, beside its store, whether the
    /// log holds a grant). Truncations, discards, installs and durability
    /// keep it true to the log here, whichever host runs the shell.
    public private(set) var reapplied = ReappliedRecords()
    /// Called with each input the replica took and the effects it returned.
    public var trace: ((Input, [ReplicaEffect]) -> Void)?

    /// The most records of one reconciliation round here (the simulation
    /// uses smaller rounds, so that its short queues take several).
    private let reconcileRoundMax: Int

    public init(replica: Replica, host: ReplicaHost, reconcileEntriesPerRound: Int = ReplicaShell.reconcileEntriesPerRound) {
        precondition(reconcileEntriesPerRound > 0, "a round re-applies a record")
        self.replica = replica
        self.host = host
        reconcileRoundMax = reconcileEntriesPerRound
    }

    /// Whether client and admin writes may be taken now.
    public var acceptsWrites: Bool { replica.acceptsWrites && !isWaitingForDurable }

    /// Gives the replica the host's time, without an input: the host calls
    /// it before it decides a client's write, so that the first request
    /// read after a pause meets the pause (`Replica.unconfirmedSinceMs`).
    public func refreshClock() {
        guard !isWaitingForDurable else { return }
        replica.advanceClock(to: hostNowMs)
    }

    // MARK: Inputs

    /// Time passes.
    public func tick(nowMs: UInt64) {
        guard !isWaitingForDurable else { return }
        input(.tick(nowMs: nowMs))
    }

    /// A message from the peer. An append whose records the host cannot
    /// apply is dropped: the replica accepts entries by position only.
    public func receive(_ message: ReplicationMessage) {
        if case .append(_, _, _, _, let entries, _) = message, !host.accepts(entries) { return }
        input(.receive(message))
    }

    /// The log is durable through `position`.
    public func flushed(through position: LogPosition) {
        reapplied.stored(through: position)
        input(.flushed(position))
    }

    /// The host logged records of its own: tell the replica (when no
    /// durable effect waits; otherwise the next input does).
    public func logged() {
        guard !isWaitingForDurable, replica.role == .primary, host.loggedLsn > replica.lastLsn else { return }
        input(.logged(throughLsn: host.loggedLsn))
    }

    /// The witness answered `claim` (nil: it could not be reached in time).
    /// The host reports every claim but a release once.
    public func witnessAnswered(_ claim: WitnessClaim, _ answer: WitnessAnswer?) {
        input(.witnessAnswered(claim, answer))
    }

    /// Starts a planned switchover.
    /// - Returns: false when there is no standby to take over, or a durable
    ///   effect is under way.
    public func requestSwitchover() -> Bool {
        guard !isWaitingForDurable else { return false }
        replica.advanceClock(to: hostNowMs)
        run(appendedSinceLastInput())
        guard let produced = replica.requestSwitchover() else { return false }
        trace?(.switchover, produced)
        run(produced)
        return true
    }

    /// Feeds `input` to the replica (after telling it what the host logged)
    /// and runs the effects; holds it while a durable effect is under way.
    private func input(_ input: Input) {
        guard !isWaitingForDurable else { return hold(input) }
        replica.advanceClock(to: hostNowMs)
        var produced = appendedSinceLastInput()
        let peerFlushed = replica.peer?.flushedLsn
        let stepped = step(input)
        trace?(input, produced + stepped)
        produced += stepped
        if replica.peer?.flushedLsn != peerFlushed { host.observePeerFlushed(replica.peer?.flushedLsn) }
        run(produced)
        if !isWaitingForDurable { releaseStaleSnapshots() }
    }

    private func step(_ input: Input) -> [ReplicaEffect] {
        switch input {
        // The host's clock, read for this input, may be ahead of the tick's.
        case .tick(let nowMs): return replica.tick(nowMs: max(nowMs, replica.nowMs))
        case .receive(.reconciled(_, _, _, let round)) where round != reconcileRound?.number: return []
        case .receive(let message): return replica.receive(message)
        case .flushed(let position): return replica.flushed(through: position)
        case .logged, .switchover, .installedSnapshot, .reconciled: return []
        case .snapshotPrepared(let session, let totalBytes): return replica.snapshotPrepared(session: session, totalBytes: totalBytes)
        case .snapshotUnavailable(let session): return replica.snapshotUnavailable(session: session)
        case .snapshotRefused: return replica.snapshotRefused()
        case .reconcileQueueRemains: return replica.reconcileQueueRemains()
        case .witnessAnswered(let claim, let answer): return replica.witnessAnswered(claim, answer)
        }
    }

    private func hold(_ input: Input) {
        let bytes = Self.payloadBytes(of: input)
        guard heldInputs.count - heldInputsStart < Self.heldInputsMax, heldInputBytes + bytes <= Self.heldInputBytesMax else {
            droppedInputsTotal += 1
            return
        }
        heldInputs.append((input, bytes))
        heldInputBytes += bytes
    }

    private static func payloadBytes(of input: Input) -> Int {
        guard case .receive(let message) = input else { return 0 }
        return message.payloadBytes
    }

    /// The host's clock, never behind the replica's (time never goes back).
    private var hostNowMs: UInt64 { max(host.nowMs, replica.nowMs) }

    /// `appendedSinceLastInput`, traced as the host's own records (what a
    /// reconciliation logged again).
    private func tracedAppended() -> [ReplicaEffect] {
        let produced = appendedSinceLastInput()
        trace?(.logged(throughLsn: host.loggedLsn), produced)
        return produced
    }

    /// A primary's replica learns of the records the host logged since.
    private func appendedSinceLastInput() -> [ReplicaEffect] {
        let logged = host.loggedLsn
        guard replica.role == .primary, logged > replica.lastLsn else { return [] }
        host.observeAppended(through: logged, peerAttached: replica.peer != nil)
        return replica.appended(through: logged)
    }

    // MARK: Effects

    private func run(_ produced: [ReplicaEffect]) {
        effects += produced
        while !isWaitingForDurable, effectsStart < effects.count {
            let effect = effects[effectsStart]
            effectsStart += 1
            perform(effect)
        }
        if effectsStart == effects.count {
            effects = []
            effectsStart = 0
        }
    }

    /// Resumes after a durable effect completed: the effects after it, then
    /// `produced` (what the replica said to its completion), then the
    /// inputs held meanwhile (each may wait for a durable effect again).
    private func durableDone(_ produced: [ReplicaEffect] = []) {
        precondition(isWaitingForDurable, "a durable step completed that nobody waited for")
        isWaitingForDurable = false
        run(produced)
        while !isWaitingForDurable, heldInputsStart < heldInputs.count {
            let (held, bytes) = heldInputs[heldInputsStart]
            heldInputsStart += 1
            heldInputBytes -= bytes
            input(held)
        }
        if heldInputsStart == heldInputs.count {
            heldInputs = []
            heldInputsStart = 0
        }
    }

    private func waitForDurable() {
        precondition(!isWaitingForDurable, "one durable effect at a time")
        isWaitingForDurable = true
    }

    private func perform(_ effect: ReplicaEffect) {
        switch effect {
        case .persistTerm(let term):
            waitForDurable()
            host.persistTerm(term) { [unowned self] in durableDone() }
        case .truncate(let lsn):
            waitForDurable()
            reapplied.cut(after: lsn)
            host.truncate(after: lsn) { [unowned self] in durableDone() }
        case .discardLog(let lsn):
            waitForDurable()
            reapplied.removeAll()
            host.discardLog(queueAfter: lsn) { [unowned self] in durableDone() }
        case .refuseDivergence(let matchLsn, let compactedLsn):
            host.refuseDivergence(matchLsn: matchLsn, compactedLsn: compactedLsn)
        case .checkpoint(let lsn, let compactThrough):
            precondition(compactThrough <= lsn && lsn <= replica.lastLsn, "a checkpoint is of the log as it is")
            host.checkpoint(lsn: lsn, compactThrough: compactThrough)
        case .write(let entries):
            host.write(entries)
        case .send(let message):
            host.send(message)
        case .sendAppend(let session, let prevLsn, let prevTerm, let throughLsn, let commitLsn):
            sendAppend(session: session, prevLsn: prevLsn, prevTerm: prevTerm, throughLsn: throughLsn, commitLsn: commitLsn)
        case .sendReconcile(let session):
            sendReconcile(session: session)
        case .reconcile(let session, let entries, let round):
            precondition(replica.role == .primary, "reconcile effect on a standby: inputs wait while effects do")
            host.reapply(entries, reapplied: &reapplied)
            effects += tracedAppended()
            let answer = replica.reconciled(session: session, throughLsn: host.loggedLsn, round: round)
            trace?(.reconciled(session: session, throughLsn: host.loggedLsn, round: round), answer)
            effects += answer
        case .reconcileOwnQueue:
            precondition(replica.role == .primary, "reconcile-own-queue effect on a standby")
            host.reapplyOwnQueue(limit: reconcileRoundMax, reapplied: &reapplied) { [unowned self] remains in
                if remains { input(.reconcileQueueRemains) }
            }
            effects += tracedAppended()
        case .clearReconcileQueue:
            host.clearReconcileQueue(first: reconcileRound?.count ?? 0) { [unowned self] remains in
                if remains { input(.reconcileQueueRemains) }
            }
            reconcileRound = nil
        case .roleChanged(let role, let term):
            // A round on the wire belongs to the attachment that ends here.
            reconcileRound = nil
            host.roleChanged(role, term: term)
        case .ackClients(let lsn):
            host.acknowledge(upTo: lsn)
        case .askWitness(let claim):
            host.askWitness(claim)
        case .prepareSnapshot(let session):
            prepareSnapshot(session: session)
        case .sendSnapshotChunk(let session, let id, let offset, let count, let totalBytes):
            guard replica.role == .primary, outgoingSnapshotSession == session,
                  let bytes = host.readSnapshot(offset: offset, count: count), UInt64(bytes.count) == count else { return }
            host.send(.snapshotChunk(term: replica.term, session: session, id: id, offset: offset, totalBytes: totalBytes, bytes: bytes))
        case .snapshotSent(let session):
            guard outgoingSnapshotSession == session else { return }
            outgoingSnapshotSession = nil
            host.releaseOutgoingSnapshot(delivered: true)
        case .writeSnapshotChunk(let offset, let bytes):
            incomingSnapshotOpen = true
            if !host.writeSnapshot(offset: offset, bytes: bytes) {
                host.releaseIncomingSnapshot()
                incomingSnapshotOpen = false
                let produced = replica.snapshotRefused()
                trace?(.snapshotRefused, produced)
                effects += produced
            }
        case .installSnapshot(let totalBytes):
            incomingSnapshotOpen = false
            waitForDurable()
            reapplied.removeAll()
            host.installSnapshot(totalBytes: totalBytes) { [unowned self] result in
                switch result {
                case .success(let installed):
                    let produced = replica.installedSnapshot(history: installed.history, checkpointLsn: installed.checkpointLsn,
                                                             compactedLsn: installed.compactedLsn, nowMs: hostNowMs)
                    trace?(.installedSnapshot, produced)
                    durableDone(produced)
                case .failure:
                    let produced = replica.snapshotRefused()
                    trace?(.snapshotRefused, produced)
                    durableDone(produced)
                }
            }
        }
    }

    /// Sends the queue's oldest part: a round of up to `reconcileRoundMax`
    /// records to a primary that numbers rounds, else up to a message's
    /// worth. The part on the wire, sent again, keeps its number; any other
    /// part takes a new one.
    private func sendReconcile(session: UInt64) {
        let numbered = host.peerNumbersReconcileRounds
        let limit = numbered ? reconcileRoundMax : ReplicationMessageCodec.entriesMax
        let part = Self.parts(of: host.reconcileQueue(limit: limit)).first ?? []
        // Until a round clears, the queue grows only at its end: a part of
        // the same size, numbered alike, is the same records.
        var round = reconcileRound ?? (0, -1)
        if round.count != part.count || (round.number != 0) != numbered {
            if numbered { reconcileRoundsNumbered += 1 }
            round = (numbered ? reconcileRoundsNumbered : 0, part.count)
            reconcileRound = round
        }
        host.send(.reconcile(term: replica.term, session: session, entries: part, round: round.number))
    }

    /// Sends the log's entries `(prevLsn, throughLsn]` as appends, one per
    /// part that fits a message, each following the one before.
    private func sendAppend(session: UInt64, prevLsn: UInt64, prevTerm: UInt64, throughLsn: UInt64, commitLsn: UInt64) {
        // Only a primary streams, from its log as it is now.
        guard replica.role == .primary else { return }
        precondition(prevLsn >= replica.compaction.compactedLsn,
                     "streaming from lsn \(prevLsn + 1), behind the compacted log (\(replica.compaction.compactedLsn))")
        guard let entries = host.entries(after: prevLsn, through: throughLsn) else { return }
        var previous = (lsn: prevLsn, term: prevTerm)
        for part in Self.parts(of: entries) {
            host.send(.append(term: replica.term, session: session, prevLsn: previous.lsn, prevTerm: previous.term,
                              entries: part, commitLsn: commitLsn))
            previous = (part.last!.lsn, part.last!.term)
        }
    }

    // MARK: Snapshots

    /// Asks the host for a copy of the store; one copy is made at a time
    /// (the host holds one), and a request made meanwhile waits for it.
    private func prepareSnapshot(session: UInt64) {
        if outgoingSnapshotSession != nil {
            outgoingSnapshotSession = nil
            host.releaseOutgoingSnapshot(delivered: false)
        }
        guard snapshotPreparing == nil else {
            snapshotWanted = session
            return
        }
        snapshotPreparing = session
        host.prepareSnapshot { [unowned self] result in
            snapshotPreparing = nil
            let wanted = snapshotWanted
            snapshotWanted = nil
            // Only the copy the replica still waits for is kept.
            if replicaAwaitsSnapshot(for: session) {
                switch result {
                case .success(let totalBytes):
                    outgoingSnapshotSession = session
                    input(.snapshotPrepared(session: session, totalBytes: totalBytes))
                case .failure:
                    input(.snapshotUnavailable(session: session))
                }
                return
            }
            if case .success = result { host.releaseOutgoingSnapshot(delivered: false) }
            if let wanted, replicaAwaitsSnapshot(for: wanted) { prepareSnapshot(session: wanted) }
        }
    }

    private func replicaAwaitsSnapshot(for session: UInt64) -> Bool {
        guard let peer = replica.peer, peer.session == session, let transfer = peer.snapshot else { return false }
        return transfer.totalBytes == nil
    }

    /// Releases a snapshot the replica no longer transfers (the standby
    /// went, the primary stepped down, a new hello began anew).
    private func releaseStaleSnapshots() {
        if let session = outgoingSnapshotSession, replica.peer?.session != session || replica.peer?.snapshot == nil {
            outgoingSnapshotSession = nil
            host.releaseOutgoingSnapshot(delivered: false)
        }
        if incomingSnapshotOpen, replica.incomingSnapshot == nil {
            incomingSnapshotOpen = false
            host.releaseIncomingSnapshot()
        }
    }

    /// Splits entries into runs whose payloads fit one message.
    public static func parts(of entries: [ReplicatedEntry]) -> [[ReplicatedEntry]] {
        var parts: [[ReplicatedEntry]] = []
        var current: [ReplicatedEntry] = []
        var bytes = 0
        for entry in entries {
            if !current.isEmpty, bytes + entry.payload.count > messagePayloadBytesMax {
                parts.append(current)
                current = []
                bytes = 0
            }
            current.append(entry)
            bytes += entry.payload.count
        }
        if !current.isEmpty { parts.append(current) }
        return parts
    }
}
