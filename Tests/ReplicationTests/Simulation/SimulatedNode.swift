import LicenseState
import Replication

/// One simulated pair member: a `Replica` and a shell that keeps the
/// `ReplicaEffect` contract over a `DurableStore` and a one-writer disk, like
/// `ClusterDriver` over `LicenseService` and `LogWriter`.
///
/// Invariants:
/// - Effects run in the order the replica returned them, and a durable effect
///   (`persistTerm`, `truncate`) completes before any effect after it runs.
///   Inputs that arrive meanwhile wait too, and client writes are refused, so
///   the replica never decides on a state the log does not have yet.
/// - The disk completes operations in the order they were queued, so a
///   durable operation implies that every write queued before it is durable.
/// - A crash keeps `durable` and loses everything else: the log's tail that
///   is not yet durable, queued effects and messages, waiting clients.
/// - While no effect waits, `log` and the replica's history agree.
final class SimulatedNode {
    /// A change of the durable store that the disk has not completed yet.
    enum DiskOperation {
        case append([SimulatedEntry])
        case persistTerm(UInt64)
        case truncate(after: UInt64)
        case clearQueue
        case checkpoint(lsn: UInt64, compactThrough: UInt64)
        case discard(queueAfter: UInt64)
        /// Copies the store for `session` (in order after the writes before it).
        case prepareSnapshot(session: UInt64)
        case install(SimulatedSnapshot)
    }

    struct QueuedOperation {
        let operation: DiskOperation
        /// Simulated time at which the operation is durable.
        let dueMs: UInt64
        /// Effects after it wait for it (term and truncation).
        let blocksEffects: Bool
    }

    let index: Int
    let config: ReplicaConfig
    private(set) var durable = DurableStore()
    /// How many times the node started.
    private(set) var boots = 0
    private(set) var replica: Replica?

    // MARK: Volatile state (lost in a crash)

    /// The log as the node sees it: durable entries and written ones.
    private(set) var log: [SimulatedEntry] = []
    /// The term history of `log`.
    private(set) var logHistory = TermHistory()
    private(set) var disk: [QueuedOperation] = []
    private var effects: [ReplicaEffect] = []
    private var waitingForDisk = false
    /// Inputs that arrived while a durable effect was pending, in order.
    private var deferredInputs: [(what: () -> String, step: (inout Replica) -> [ReplicaEffect])] = []
    /// Clients waiting for the acknowledgement of their record.
    private var waitingClients: [SimulatedEntry] = []
    /// Primary: the prepared snapshot and the session it is for.
    private var outgoingSnapshot: (session: UInt64, bytes: [UInt8])?
    /// Standby: the snapshot bytes received so far.
    private var incomingSnapshot: [UInt8] = []

    // MARK: Outputs, drained by the owner

    var outbox: [ReplicationMessage] = []
    /// Records acknowledged to their client, as they stood in the log.
    var acknowledged: [SimulatedEntry] = []
    /// Entries that became durable in the reconciliation queue.
    var truncated: [SimulatedEntry] = []
    /// Entries that entered `log`.
    var written: [SimulatedEntry] = []
    /// Durable changes that removed entries (truncations, queue clears).
    var durableRemovals = 0
    /// Checkpoints, discarded logs and installed snapshots, durable.
    var checkpoints = 0
    var discards = 0
    var snapshotsInstalled = 0
    /// Divergences behind the compacted log this node refused to follow.
    var refusedDivergences = 0

    /// The simulated time at which a disk operation queued now completes; the
    /// node keeps completions in order.
    var diskDueMs: () -> UInt64 = { 0 }
    /// Receives a line per input and per effect the replica returned.
    var trace: ((String) -> Void)?

    init(index: Int, config: ReplicaConfig, durable: DurableStore = DurableStore()) {
        self.index = index
        self.config = config
        self.durable = durable
    }

    var isUp: Bool { replica != nil }
    var role: Replica.Role? { replica?.role }

    /// Whether effects or inputs wait for a durable effect.
    var effectsPending: Bool { !effects.isEmpty || !deferredInputs.isEmpty }

    /// Whether the node is idle: no effect or input waits and the disk has no work.
    var isQuiescent: Bool { effects.isEmpty && deferredInputs.isEmpty && disk.isEmpty }

    // MARK: Life cycle

    /// Starts from the durable store, as a process start does.
    func start(incarnation: UInt64, nowMs: UInt64) {
        precondition(!isUp, "node \(index) is already up")
        boots += 1
        log = durable.log
        logHistory = durable.history
        replica = Replica(config: config, nodeIndex: index, term: durable.term, history: logHistory, incarnation: incarnation,
                          hasReconcileQueue: !durable.queue.isEmpty, nowMs: nowMs, checkpointLsn: durable.checkpointLsn,
                          compactedLsn: durable.compactedLsn)
        let compaction = durable.checkpointLsn > 0 ? " checkpoint=\(durable.checkpointLsn) compacted=\(durable.compactedLsn)" : ""
        trace?("start boot=\(boots) term=\(durable.term) last=\(logHistory.last) queue=\(durable.queue.count)\(compaction)")
    }

    /// Loses everything that is not durable.
    func crash() {
        precondition(isUp, "node \(index) is already down")
        replica = nil
        log = []
        logHistory = TermHistory()
        disk = []
        effects = []
        waitingForDisk = false
        deferredInputs = []
        waitingClients = []
        outbox = []
        outgoingSnapshot = nil
        incomingSnapshot = []
        trace?("crash")
    }

    // MARK: Inputs

    func tick(nowMs: UInt64) {
        input("tick now=\(nowMs)") { $0.tick(nowMs: nowMs) }
    }

    func receive(_ message: ReplicationMessage) {
        input("receive \(Transcript.describe(message))") { $0.receive(message) }
    }

    /// A client's record, taken only where the replica accepts writes.
    /// - Returns: whether the node took it.
    @discardableResult
    func submit(id: UInt64) -> Bool {
        guard let replica, replica.acceptsWrites, !waitingForDisk else { return false }
        let entry = SimulatedEntry(lsn: UInt64(log.count) + 1, term: replica.term, id: id)
        appendToLog([entry])
        queueDisk(.append([entry]), blocksEffects: false)
        waitingClients.append(entry)
        input("client g\(id) at \(entry.lsn)@\(entry.term)") { $0.appended(through: entry.lsn) }
        return true
    }

    /// - Returns: whether a switchover started (false: no standby).
    @discardableResult
    func requestSwitchover() -> Bool {
        guard isUp, !waitingForDisk, let produced = replica!.requestSwitchover() else { return false }
        trace(input: "switchover", produced)
        run(produced)
        return true
    }

    /// Completes the oldest disk operation.
    func completeDiskOperation() {
        precondition(isUp && !disk.isEmpty, "no disk operation on node \(index)")
        let queued = disk.removeFirst()
        switch queued.operation {
        case .append(let entries):
            durable.append(entries)
            input("flushed \(entries.last!.position)") { $0.flushed(through: entries.last!.position) }
        case .persistTerm(let term):
            durable.persist(term: term)
            trace?("durable term=\(term)")
        case .truncate(let lsn):
            precondition(UInt64(durable.log.count) >= lsn, "a truncation follows the writes before it")
            let moved = durable.truncate(after: lsn)
            truncated += moved
            durableRemovals += 1
            trace?("durable truncation after=\(lsn), queue += \(Transcript.describe(moved))")
        case .clearQueue:
            durable.clearQueue()
            durableRemovals += 1
            trace?("durable queue cleared")
        case .checkpoint(let lsn, let compactThrough):
            durable.checkpoint(lsn: lsn, compactThrough: compactThrough)
            checkpoints += 1
            trace?("durable checkpoint at=\(lsn) compacted=\(compactThrough)")
        case .discard(let lsn):
            let moved = durable.discard(queueAfter: lsn)
            truncated += moved
            durableRemovals += 1
            discards += 1
            trace?("durable discard, queue += \(Transcript.describe(moved))")
        case .prepareSnapshot(let session):
            let bytes = SimulatedSnapshot(of: durable).encode()
            // As the shell: one snapshot is kept, the one the replica waits for.
            guard let peer = replica!.peer, peer.session == session, peer.snapshot?.totalBytes == nil else { break }
            outgoingSnapshot = (session, bytes)
            input("snapshot prepared session=\(session) bytes=\(bytes.count)") {
                $0.snapshotPrepared(session: session, totalBytes: UInt64(bytes.count))
            }
        case .install(let snapshot):
            durable.install(snapshot)
            // The log changes with the replica's history, in the input below.
            log = []
            logHistory = TermHistory()
            appendToLog(snapshot.log)
            durableRemovals += 1
            snapshotsInstalled += 1
            trace?("durable snapshot installed: last=\(snapshot.history.last)")
            // Before the inputs held meanwhile: they must meet the new log.
            input("installed snapshot", first: true) {
                $0.installedSnapshot(history: snapshot.history, checkpointLsn: snapshot.checkpointLsn, compactedLsn: snapshot.compactedLsn,
                                     nowMs: $0.nowMs)
            }
        }
        if queued.blocksEffects {
            waitingForDisk = false
            run([])
        }
    }

    // MARK: The shell

    /// - Parameter what: the input's trace line, built only when tracing.
    /// - Parameter first: ahead of the inputs already held.
    private func input(_ what: @autoclosure @escaping () -> String, first: Bool = false,
                       _ step: @escaping (inout Replica) -> [ReplicaEffect]) {
        precondition(isUp, "input to node \(index) while it is down")
        if first { deferredInputs.insert((what, step), at: 0) } else { deferredInputs.append((what, step)) }
        run([])
    }

    private func trace(input what: @autoclosure () -> String, _ produced: [ReplicaEffect]) {
        guard let trace else { return }
        trace(what())
        for effect in produced { trace("  → \(Transcript.describe(effect))") }
    }

    /// Performs effects, then deferred inputs, until a durable effect must wait.
    private func run(_ produced: [ReplicaEffect]) {
        effects += produced
        while !waitingForDisk {
            if !effects.isEmpty {
                perform(effects.removeFirst())
            } else if !deferredInputs.isEmpty {
                let (what, step) = deferredInputs.removeFirst()
                let produced = step(&replica!)
                trace(input: what(), produced)
                effects += produced
            } else {
                break
            }
        }
    }

    private func perform(_ effect: ReplicaEffect) {
        switch effect {
        case .persistTerm(let term):
            queueDisk(.persistTerm(term), blocksEffects: true)
        case .truncate(let lsn):
            log.removeLast(log.count - Int(lsn))
            logHistory.truncate(after: lsn)
            queueDisk(.truncate(after: lsn), blocksEffects: true)
        case .discardLog(let lsn):
            log = []
            logHistory = TermHistory()
            queueDisk(.discard(queueAfter: lsn), blocksEffects: true)
        case .refuseDivergence:
            refusedDivergences += 1
        case .checkpoint(let lsn, let compactThrough):
            precondition(lsn == UInt64(log.count), "node \(index): a checkpoint is of the state as it is now")
            queueDisk(.checkpoint(lsn: lsn, compactThrough: compactThrough), blocksEffects: false)
        case .prepareSnapshot(let session):
            queueDisk(.prepareSnapshot(session: session), blocksEffects: false)
        case .sendSnapshotChunk(let session, let id, let offset, let count, let totalBytes):
            guard let replica, replica.role == .primary, let outgoing = outgoingSnapshot, outgoing.session == session else { return }
            precondition(UInt64(outgoing.bytes.count) == totalBytes, "node \(index): chunk of another snapshot")
            let bytes = Array(outgoing.bytes[Int(offset)..<Int(offset + count)])
            outbox.append(.snapshotChunk(term: replica.term, session: session, id: id, offset: offset, totalBytes: totalBytes, bytes: bytes))
        case .snapshotSent(let session):
            if outgoingSnapshot?.session == session { outgoingSnapshot = nil }
        case .writeSnapshotChunk(let offset, let bytes):
            if offset == 0 { incomingSnapshot = [] }
            precondition(UInt64(incomingSnapshot.count) == offset, "node \(index): snapshot chunks out of order")
            incomingSnapshot += bytes
        case .installSnapshot(let totalBytes):
            precondition(UInt64(incomingSnapshot.count) == totalBytes, "node \(index): installing an incomplete snapshot")
            guard let snapshot = try? SimulatedSnapshot(decoding: incomingSnapshot) else {
                preconditionFailure("node \(index): a complete snapshot does not decode")
            }
            incomingSnapshot = []
            queueDisk(.install(snapshot), blocksEffects: true)
        case .write(let entries):
            let simulated = entries.map(SimulatedEntry.init(replicated:))
            appendToLog(simulated)
            queueDisk(.append(simulated), blocksEffects: false)
        case .send(let message):
            outbox.append(message)
        case .sendAppend(let session, let prevLsn, let prevTerm, let throughLsn, let commitLsn):
            // As the shell: only a primary streams, from its log as it is now.
            guard let replica, replica.role == .primary else { return }
            // The shell reads the entries from its log: compacted ones are gone.
            precondition(prevLsn >= replica.compaction.compactedLsn, "node \(index): streaming from lsn \(prevLsn + 1), behind the compacted log (\(replica.compaction.compactedLsn))")
            let entries = log[Int(prevLsn)..<min(Int(throughLsn), log.count)].map(\.replicated)
            outbox.append(.append(term: replica.term, session: session, prevLsn: prevLsn, prevTerm: prevTerm, entries: entries,
                                  commitLsn: commitLsn))
        case .sendReconcile(let session):
            outbox.append(.reconcile(term: replica!.term, session: session, entries: durable.queue.map(\.replicated)))
        case .reconcile(let session, let entries):
            // Inputs wait while effects do, so the replica is still the primary that asked.
            precondition(replica!.role == .primary, "node \(index): reconcile effect on a standby")
            effects += reappend(entries.map(SimulatedEntry.init(replicated:)))
            let answer = replica!.reconciled(session: session, throughLsn: UInt64(log.count))
            trace(input: "reconciled session=\(session) through=\(log.count)", answer)
            effects += answer
        case .reconcileOwnQueue:
            precondition(replica!.role == .primary, "node \(index): reconcile-own-queue effect on a standby")
            effects += reappend(durable.queue)
            queueDisk(.clearQueue, blocksEffects: false)
        case .clearReconcileQueue:
            queueDisk(.clearQueue, blocksEffects: false)
        case .roleChanged(let role, _):
            // As the shell: a node that stops being primary refuses its waiting clients.
            if role == .standby { waitingClients = [] }
        case .ackClients(let lsn):
            waitingClients.removeAll { client in
                guard client.lsn <= lsn else { return false }
                if client.lsn <= UInt64(log.count), log[Int(client.lsn) - 1] == client { acknowledged.append(client) }
                return true
            }
        }
    }

    /// Appends, as new records of this primary, the records `log` lacks (by record ID).
    /// - Returns: the effects of telling the replica.
    private func reappend(_ records: [SimulatedEntry]) -> [ReplicaEffect] {
        var present = Set(log.map(\.id))
        var added: [SimulatedEntry] = []
        for record in records where !present.contains(record.id) {
            present.insert(record.id)
            added.append(SimulatedEntry(lsn: UInt64(log.count + added.count) + 1, term: replica!.term, id: record.id))
        }
        guard !added.isEmpty else { return [] }
        appendToLog(added)
        queueDisk(.append(added), blocksEffects: false)
        let produced = replica!.appended(through: added.last!.lsn)
        trace(input: "reappended \(Transcript.describe(added))", produced)
        return produced
    }

    private func appendToLog(_ entries: [SimulatedEntry]) {
        for entry in entries {
            precondition(entry.lsn == UInt64(log.count) + 1, "node \(index): log gap at \(entry.lsn)")
            log.append(entry)
            logHistory.append(lsn: entry.lsn, term: entry.term)
        }
        written += entries
    }

    private func queueDisk(_ operation: DiskOperation, blocksEffects: Bool) {
        let dueMs = max(diskDueMs(), disk.last?.dueMs ?? 0)
        disk.append(QueuedOperation(operation: operation, dueMs: dueMs, blocksEffects: blocksEffects))
        if blocksEffects { waitingForDisk = true }
    }
}
