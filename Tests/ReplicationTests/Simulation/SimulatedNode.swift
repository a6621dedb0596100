import LicenseState
import Replication

/// One simulated pair member: the production `ReplicaShell` over a
/// `DurableStore` and a one-writer disk, as `ClusterDriver` hosts it over
/// `LicenseService` and `LogWriter`. Only the host is simulated; the shell
/// that feeds the replica and orders its effects is the one that ships.
///
/// Invariants:
/// - The disk completes operations in the order they were queued, so a
///   durable operation implies that every write queued before it is durable.
/// - A crash keeps `durable` and loses everything else: the log's tail that
///   is not yet durable, the shell with its queued effects and inputs,
///   messages, waiting clients.
/// - While no effect waits, `log` and the replica's history agree.
final class SimulatedNode: ReplicaHost {
    /// A change of the durable store that the disk has not completed yet.
    enum DiskOperation {
        case append([SimulatedEntry])
        case persistTerm(UInt64, done: () -> Void)
        case truncate(after: UInt64, done: () -> Void)
        case clearQueue(first: Int, done: (Bool) -> Void)
        case checkpoint(lsn: UInt64, compactThrough: UInt64)
        case discard(queueAfter: UInt64, done: () -> Void)
        /// Copies the store (in order after the writes before it).
        case prepareSnapshot(done: (Result<UInt64, Error>) -> Void)
        case install(SimulatedSnapshot, done: (Result<InstalledSnapshot, Error>) -> Void)
    }

    struct QueuedOperation {
        let operation: DiskOperation
        /// Simulated time at which the operation is durable.
        let dueMs: UInt64
    }

    let index: Int
    let config: ReplicaConfig
    private(set) var durable = DurableStore()
    /// How many times the node started.
    private(set) var boots = 0
    private(set) var shell: ReplicaShell?
    var replica: Replica? { shell?.replica }

    // MARK: Volatile state (lost in a crash)

    /// The log as the node sees it: durable entries and written ones.
    private(set) var log: [SimulatedEntry] = []
    /// The term history of `log`.
    private(set) var logHistory = TermHistory()
    private(set) var disk: [QueuedOperation] = []
    /// Clients waiting for the acknowledgement of their record.
    private var waitingClients: [SimulatedEntry] = []
    /// Primary: the prepared snapshot.
    private var outgoingSnapshot: [UInt8]?
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
    /// The node's local clock (nil: the replica's own time, which moves
    /// only with ticks).
    var clockMs: (() -> UInt64)?
    /// Receives a line per input and per effect the replica returned.
    var trace: ((String) -> Void)?

    init(index: Int, config: ReplicaConfig, durable: DurableStore = DurableStore()) {
        self.index = index
        self.config = config
        self.durable = durable
    }

    var isUp: Bool { shell != nil }
    var role: Replica.Role? { replica?.role }

    /// Whether effects or inputs wait for a durable effect.
    var effectsPending: Bool { shell?.isWaitingForDurable ?? false }

    /// Whether the node is idle: no effect or input waits and the disk has no work.
    var isQuiescent: Bool { !effectsPending && disk.isEmpty }

    // MARK: Life cycle

    /// Starts from the durable store, as a process start does.
    func start(incarnation: UInt64, nowMs: UInt64) {
        precondition(!isUp, "node \(index) is already up")
        boots += 1
        log = durable.log
        logHistory = durable.history
        let replica = Replica(config: config, nodeIndex: index, term: durable.term, history: logHistory, incarnation: incarnation,
                              hasReconcileQueue: !durable.queue.isEmpty, nowMs: nowMs, checkpointLsn: durable.checkpointLsn,
                              compactedLsn: durable.compactedLsn)
        let shell = ReplicaShell(replica: replica, host: self)
        if trace != nil {
            shell.trace = { [unowned self] input, effects in self.trace(input, effects) }
        }
        self.shell = shell
        let compaction = durable.checkpointLsn > 0 ? " checkpoint=\(durable.checkpointLsn) compacted=\(durable.compactedLsn)" : ""
        trace?("start boot=\(boots) term=\(durable.term) last=\(logHistory.last) queue=\(durable.queue.count)\(compaction)")
    }

    /// Loses everything that is not durable.
    func crash() {
        precondition(isUp, "node \(index) is already down")
        shell = nil
        log = []
        logHistory = TermHistory()
        disk = []
        waitingClients = []
        outbox = []
        outgoingSnapshot = nil
        incomingSnapshot = []
        trace?("crash")
    }

    // MARK: Inputs

    func tick(nowMs: UInt64) {
        shell!.tick(nowMs: nowMs)
    }

    func receive(_ message: ReplicationMessage) {
        shell!.receive(message)
    }

    /// A client's record, taken only where the shell accepts writes.
    /// - Returns: whether the node took it.
    @discardableResult
    func submit(id: UInt64) -> Bool {
        guard let shell, shell.acceptsWrites else { return false }
        let entry = SimulatedEntry(lsn: UInt64(log.count) + 1, term: shell.replica.term, id: id)
        trace?("client g\(id) at \(entry.position)")
        appendToLog([entry])
        queueDisk(.append([entry]))
        waitingClients.append(entry)
        shell.logged()
        return true
    }

    /// - Returns: whether a switchover started (false: no standby).
    @discardableResult
    func requestSwitchover() -> Bool {
        shell?.requestSwitchover() ?? false
    }

    /// Completes the oldest disk operation.
    func completeDiskOperation() {
        precondition(isUp && !disk.isEmpty, "no disk operation on node \(index)")
        let queued = disk.removeFirst()
        switch queued.operation {
        case .append(let entries):
            durable.append(entries)
            shell!.flushed(through: entries.last!.position)
        case .persistTerm(let term, let done):
            durable.persist(term: term)
            trace?("durable term=\(term)")
            done()
        case .truncate(let lsn, let done):
            precondition(UInt64(durable.log.count) >= lsn, "a truncation follows the writes before it")
            let moved = durable.truncate(after: lsn)
            truncated += moved
            durableRemovals += 1
            trace?("durable truncation after=\(lsn), queue += \(Transcript.describe(moved))")
            done()
        case .clearQueue(let count, let done):
            durable.clearQueue(first: count)
            durableRemovals += 1
            trace?("durable queue cleared")
            done(!durable.queue.isEmpty)
        case .checkpoint(let lsn, let compactThrough):
            durable.checkpoint(lsn: lsn, compactThrough: compactThrough)
            checkpoints += 1
            trace?("durable checkpoint at=\(lsn) compacted=\(compactThrough)")
        case .discard(let lsn, let done):
            let moved = durable.discard(queueAfter: lsn)
            truncated += moved
            durableRemovals += 1
            discards += 1
            trace?("durable discard, queue += \(Transcript.describe(moved))")
            done()
        case .prepareSnapshot(let done):
            let bytes = SimulatedSnapshot(of: durable).encode()
            outgoingSnapshot = bytes
            done(.success(UInt64(bytes.count)))
        case .install(let snapshot, let done):
            durable.install(snapshot)
            log = []
            logHistory = TermHistory()
            appendToLog(snapshot.log)
            durableRemovals += 1
            snapshotsInstalled += 1
            trace?("durable snapshot installed: last=\(snapshot.history.last)")
            done(.success(InstalledSnapshot(history: snapshot.history, checkpointLsn: snapshot.checkpointLsn,
                                            compactedLsn: snapshot.compactedLsn)))
        }
    }

    // MARK: Tracing

    private func trace(_ input: ReplicaShell.Input, _ effects: [ReplicaEffect]) {
        guard let trace else { return }
        if let line = Transcript.describe(input) { trace(line) }
        for effect in effects { trace("  → \(Transcript.describe(effect))") }
    }

    // MARK: ReplicaHost

    var nowMs: UInt64 { clockMs?() ?? shell?.replica.nowMs ?? 0 }

    var loggedLsn: UInt64 { UInt64(log.count) }

    func persistTerm(_ term: UInt64, done: @escaping () -> Void) {
        queueDisk(.persistTerm(term, done: done))
    }

    func truncate(after lsn: UInt64, done: @escaping () -> Void) {
        log.removeLast(log.count - Int(lsn))
        logHistory.truncate(after: lsn)
        queueDisk(.truncate(after: lsn, done: done))
    }

    func discardLog(queueAfter lsn: UInt64, done: @escaping () -> Void) {
        log = []
        logHistory = TermHistory()
        queueDisk(.discard(queueAfter: lsn, done: done))
    }

    func installSnapshot(totalBytes: UInt64, done: @escaping (Result<InstalledSnapshot, Error>) -> Void) {
        precondition(UInt64(incomingSnapshot.count) == totalBytes, "node \(index): installing an incomplete snapshot")
        guard let snapshot = try? SimulatedSnapshot(decoding: incomingSnapshot) else {
            preconditionFailure("node \(index): a complete snapshot does not decode")
        }
        incomingSnapshot = []
        queueDisk(.install(snapshot, done: done))
    }

    func accepts(_ entries: [ReplicatedEntry]) -> Bool {
        entries.allSatisfy { $0.payload.count == 8 }
    }

    func write(_ entries: [ReplicatedEntry]) {
        let simulated = entries.map(SimulatedEntry.init(replicated:))
        appendToLog(simulated)
        queueDisk(.append(simulated))
    }

    func entries(after lsn: UInt64, through throughLsn: UInt64) -> [ReplicatedEntry]? {
        log[Int(lsn)..<min(Int(throughLsn), log.count)].map(\.replicated)
    }

    func checkpoint(lsn: UInt64, compactThrough: UInt64) {
        precondition(lsn == UInt64(log.count), "node \(index): a checkpoint is of the state as it is now")
        queueDisk(.checkpoint(lsn: lsn, compactThrough: compactThrough))
    }

    func reconcileQueue(limit: Int) -> [ReplicatedEntry] {
        durable.queue.prefix(limit).map(\.replicated)
    }

    func clearReconcileQueue(first count: Int, done: @escaping (Bool) -> Void) {
        queueDisk(.clearQueue(first: count, done: done))
    }

    func reapply(_ entries: [ReplicatedEntry]) {
        reappend(entries.map(SimulatedEntry.init(replicated:)))
    }

    func reapplyOwnQueue() {
        reappend(durable.queue)
        queueDisk(.clearQueue(first: durable.queue.count, done: { _ in }))
    }

    func send(_ message: ReplicationMessage) {
        outbox.append(message)
    }

    func roleChanged(_ role: Replica.Role, term: UInt64) {
        // As the node: one that stops being primary refuses its waiting clients.
        if role == .standby { waitingClients = [] }
    }

    func acknowledge(upTo lsn: UInt64) {
        waitingClients.removeAll { client in
            guard client.lsn <= lsn else { return false }
            if client.lsn <= UInt64(log.count), log[Int(client.lsn) - 1] == client { acknowledged.append(client) }
            return true
        }
    }

    func refuseDivergence(matchLsn: UInt64, compactedLsn: UInt64) {
        refusedDivergences += 1
    }

    func prepareSnapshot(done: @escaping (Result<UInt64, Error>) -> Void) {
        queueDisk(.prepareSnapshot(done: done))
    }

    func readSnapshot(offset: UInt64, count: UInt64) -> [UInt8]? {
        guard let outgoingSnapshot, offset + count <= UInt64(outgoingSnapshot.count) else { return nil }
        return Array(outgoingSnapshot[Int(offset)..<Int(offset + count)])
    }

    func releaseOutgoingSnapshot(delivered: Bool) {
        outgoingSnapshot = nil
    }

    func writeSnapshot(offset: UInt64, bytes: [UInt8]) -> Bool {
        if offset == 0 { incomingSnapshot = [] }
        precondition(UInt64(incomingSnapshot.count) == offset, "node \(index): snapshot chunks out of order")
        incomingSnapshot += bytes
        return true
    }

    func releaseIncomingSnapshot() {
        incomingSnapshot = []
    }

    // MARK: The simulated log

    /// Appends, as new records of this primary, the records `log` lacks (by record ID).
    private func reappend(_ records: [SimulatedEntry]) {
        var present = Set(log.map(\.id))
        var added: [SimulatedEntry] = []
        for record in records where !present.contains(record.id) {
            present.insert(record.id)
            added.append(SimulatedEntry(lsn: UInt64(log.count + added.count) + 1, term: shell!.replica.term, id: record.id))
        }
        guard !added.isEmpty else { return }
        trace?("reappended \(Transcript.describe(added))")
        appendToLog(added)
        queueDisk(.append(added))
    }

    private func appendToLog(_ entries: [SimulatedEntry]) {
        for entry in entries {
            precondition(entry.lsn == UInt64(log.count) + 1, "node \(index): log gap at \(entry.lsn)")
            log.append(entry)
            logHistory.append(lsn: entry.lsn, term: entry.term)
        }
        written += entries
    }

    private func queueDisk(_ operation: DiskOperation) {
        let dueMs = max(diskDueMs(), disk.last?.dueMs ?? 0)
        disk.append(QueuedOperation(operation: operation, dueMs: dueMs))
    }
}
