import LicenseState
import Replication

/// One simulated pair member: the production `ReplicaShell` over a
/// `DurableStore` and a one-writer disk, as `ClusterDriver` hosts it over
/// `LicenseService` and `LogWriter`. Only the host is simulated; the shell
/// that feeds the replica and orders its effects is the one that ships, and
/// so are the decisions on client calls (`LicenseState.decide`) and the
/// reconciliation policy (`LicenseState.reconciliation`).
///
/// Invariants:
/// - The disk completes operations in the order they were queued, so a
///   durable operation implies that every write queued before it is durable.
/// - A crash keeps `durable` and loses everything else: the log's tail that
///   is not yet durable, the shell with its queued effects and inputs,
///   messages, waiting clients.
/// - While no effect waits, `log` and the replica's history agree.
/// - `state` is `baseState` with every record of `log` applied.
final class SimulatedNode: ReplicaHost {
    /// What a node answered to one sending of a client's request.
    struct Answer {
        enum Outcome: Equatable {
            case granted(Grant)
            case refused(LicenseError)
        }

        var key: LicenseState.RequestKey
        var attempt: Int
        var outcome: Outcome
        /// The entry logged for this answer; nil for answers that log nothing.
        var entry: SimulatedEntry?
    }

    /// A client waiting for an answer: given once the log through `lsn`
    /// is acknowledged and still holds entry `id` there.
    private struct WaitingClient {
        var lsn: UInt64
        var id: UInt64?
        var answer: Answer?
        var plain: SimulatedEntry?
    }

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
    /// The license state before the first record (the imported items).
    let baseState: LicenseState
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
    /// The license state of `log`.
    private(set) var state = LicenseState()
    /// The answers `log` gave to request IDs.
    private(set) var requests = RequestBook()
    /// The grants this process logged again in reconciliation.
    private var reappendedGrantIds: Set<String> = []
    private(set) var disk: [QueuedOperation] = []
    /// Clients waiting for the acknowledgement of their record.
    private var waitingClients: [WaitingClient] = []
    /// Primary: the prepared snapshot.
    private var outgoingSnapshot: [UInt8]?
    /// Standby: the snapshot bytes received so far.
    private var incomingSnapshot: [UInt8] = []

    // MARK: Outputs, drained by the owner

    var outbox: [ReplicationMessage] = []
    /// Claims for the witness, carried by the owner.
    var witnessOutbox: [WitnessClaim] = []
    /// Plain records acknowledged to their client, as they stood in the log.
    var acknowledged: [SimulatedEntry] = []
    /// Answers to client calls, in the order they were given.
    var answers: [Answer] = []
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
    /// Rounds over its own queue after which records remained for a next one.
    var laterOwnQueueRounds = 0
    /// Rounds of its queue sent to a primary, cleared, with records left for a next one.
    var laterPeerQueueRounds = 0
    /// Grants one process logged again in reconciliation a second time (a
    /// truncation took the first out of its log).
    var grantsReappendedAgain = 0
    /// The peer reads a reconciliation round's number (replication protocol 3).
    var peerNumbersReconcileRounds = true
    /// Records per reconciliation round, as a node's (the simulator sets
    /// far fewer: its queues are short, and several rounds check the
    /// hand-over between them).
    var reconcileEntriesPerRound = ReplicaShell.reconcileEntriesPerRound
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
    /// A new record ID, for the records reconciliation makes anew (voids).
    var newRecordId: () -> UInt64

    init(index: Int, config: ReplicaConfig, durable: DurableStore = DurableStore(), baseState: LicenseState = LicenseState()) {
        self.index = index
        self.config = config
        self.durable = durable
        self.baseState = baseState
        var next: UInt64 = 1 << 40
        newRecordId = {
            next += 1
            return next
        }
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
        rebuildState()
        let replica = Replica(config: config, nodeIndex: index, term: durable.term, history: logHistory, incarnation: incarnation,
                              hasReconcileQueue: !durable.queue.isEmpty, nowMs: nowMs, checkpointLsn: durable.checkpointLsn,
                              compactedLsn: durable.compactedLsn)
        let shell = ReplicaShell(replica: replica, host: self, reconcileEntriesPerRound: reconcileEntriesPerRound)
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
        reappendedGrantIds = []
        disk = []
        waitingClients = []
        outbox = []
        witnessOutbox = []
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

    /// A client's plain record, taken only where the shell accepts writes
    /// (the host's time given first, as `ClusterDriver.writeRefusal` does).
    /// - Returns: whether the node took it.
    @discardableResult
    func submit(id: UInt64) -> Bool {
        shell?.refreshClock()
        guard let shell, shell.acceptsWrites else { return false }
        let entry = SimulatedEntry(lsn: UInt64(log.count) + 1, term: shell.replica.term, id: id)
        trace?("client g\(id) at \(entry.position)")
        appendToLog([entry])
        queueDisk(.append([entry]))
        waitingClients.append(WaitingClient(lsn: entry.lsn, id: entry.id, plain: entry))
        shell.logged()
        return true
    }

    /// A client's authorize call, decided as the node's client API does
    /// (`LicenseState.decide`), only where the shell accepts writes: a
    /// record to log is answered once acknowledged, a repeat once every
    /// record before it is, a refusal that logs nothing at once.
    /// - Returns: whether the node took the call (false: a standby's 421).
    @discardableResult
    func call(_ call: ClientCall, nowSeconds: Int64) -> Bool {
        shell?.refreshClock()
        guard let shell, shell.acceptsWrites, let requestId = call.requestId, let attempt = call.attempt else { return false }
        let key = LicenseState.RequestKey(clientUUID: call.clientUUID, requestId: requestId)
        let id = newRecordId()
        let record: LogRecord
        let outcome: Answer.Outcome
        switch state.decide(call, kind: .authorize, grantId: "n\(index)-\(id)", now: nowSeconds, remembered: requests.answer(for: key)) {
        case .grant(let grant):
            (record, outcome) = (.grant(grant), .granted(grant))
        case .repeatedToLaterAttempt(let grant):
            (record, outcome) = (.grantAnsweredAgain(grant, at: nowSeconds), .granted(grant))
        case .refusedRetry(let refusal):
            (record, outcome) = (.refusal(refusal), .refused(refusal.error))
        case .repeated(let grant):
            trace?("client \(requestId)#\(attempt): repeat of \(grant.grantId)")
            waitingClients.append(WaitingClient(lsn: UInt64(log.count), id: log.last?.id,
                                                answer: Answer(key: key, attempt: attempt, outcome: .granted(grant), entry: nil)))
            acknowledge(upTo: shell.replica.commitLsn)
            return true
        case .refused(let error):
            trace?("client \(requestId)#\(attempt): refused \(error.code)")
            answers.append(Answer(key: key, attempt: attempt, outcome: .refused(error), entry: nil))
            return true
        }
        let entry = SimulatedEntry(lsn: UInt64(log.count) + 1, term: shell.replica.term, id: id, record: record)
        trace?("client \(requestId)#\(attempt) at \(entry.position): \(entry.description)")
        appendToLog([entry])
        queueDisk(.append([entry]))
        waitingClients.append(WaitingClient(lsn: entry.lsn, id: entry.id,
                                            answer: Answer(key: key, attempt: attempt, outcome: outcome, entry: entry)))
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
            rebuildState()
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
        rebuildState()
        queueDisk(.truncate(after: lsn, done: done))
    }

    func discardLog(queueAfter lsn: UInt64, done: @escaping () -> Void) {
        log = []
        logHistory = TermHistory()
        rebuildState()
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
        entries.allSatisfy { SimulatedEntry.isWellFormed($0.payload) }
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
        queueDisk(.clearQueue(first: count, done: { [unowned self] remains in
            if remains { laterPeerQueueRounds += 1 }
            done(remains)
        }))
    }

    func reapply(_ entries: [ReplicatedEntry], reapplied: inout ReappliedRecords) {
        reappend(entries.map(SimulatedEntry.init(replicated:)), reapplied: &reapplied)
    }

    func reapplyOwnQueue(limit: Int, reapplied: inout ReappliedRecords, done: @escaping (Bool) -> Void) {
        let round = Array(durable.queue.prefix(limit))
        guard !round.isEmpty else { return }
        reappend(round, reapplied: &reapplied)
        queueDisk(.clearQueue(first: round.count, done: { [unowned self] remains in
            if remains { laterOwnQueueRounds += 1 }
            done(remains)
        }))
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
            let stillLogged = client.lsn == 0 ? client.id == nil
                : client.lsn <= UInt64(log.count) && log[Int(client.lsn) - 1].id == client.id
            guard stillLogged else { return true }
            if let plain = client.plain { acknowledged.append(plain) }
            if let answer = client.answer { answers.append(answer) }
            return true
        }
    }

    func askWitness(_ claim: WitnessClaim) {
        witnessOutbox.append(claim)
    }

    /// The witness's answer to a claim (nil: the timeout).
    func witnessAnswered(_ claim: WitnessClaim, _ answer: WitnessAnswer?) {
        shell?.witnessAnswered(claim, answer)
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

    /// Appends, as new records of this primary, what the reconciliation
    /// policy logs for `records` (`LicenseState.reconciliation`), as
    /// `ClusterDriver` does: a record logged as it came keeps its ID, one
    /// made anew (a void) gets a new one. Where a grant stands is judged as
    /// the node judges it: by `reapplied`, then the durable store.
    private func reappend(_ records: [SimulatedEntry], reapplied: inout ReappliedRecords) {
        var added: [SimulatedEntry] = []
        for record in records {
            let remembered = record.record.answeredRequest.flatMap(requests.answer(for:))
            let logged = state.reconciliation(of: record.record, remembered: remembered, grantStanding: { grantId in
                GrantStanding.of(grantId, reappliedAt: reapplied.position(of:), stored: { durable.grantStanding(grantId) })
            })
            for next in logged {
                let entry = SimulatedEntry(lsn: UInt64(log.count) + 1, term: shell!.replica.term,
                                           id: next == record.record ? record.id : newRecordId(), record: next)
                appendToLog([entry])
                added.append(entry)
                if let key = GrantStanding.reappliedKey(of: next) { reapplied.logged(key, at: entry.position) }
                if case .grant(let grant) = next, !reappendedGrantIds.insert(grant.grantId).inserted { grantsReappendedAgain += 1 }
            }
        }
        guard !added.isEmpty else { return }
        trace?("reappended \(Transcript.describe(added))")
        queueDisk(.append(added))
    }

    private func rebuildState() {
        state = baseState
        requests = RequestBook()
        for entry in log { applyToState(entry.record) }
    }

    private func applyToState(_ record: LogRecord) {
        state.apply(record)
        requests.apply(record)
    }

    private func appendToLog(_ entries: [SimulatedEntry]) {
        for entry in entries {
            precondition(entry.lsn == UInt64(log.count) + 1, "node \(index): log gap at \(entry.lsn)")
            log.append(entry)
            logHistory.append(lsn: entry.lsn, term: entry.term)
            applyToState(entry.record)
        }
        written += entries
    }

    private func queueDisk(_ operation: DiskOperation) {
        let dueMs = max(diskDueMs(), disk.last?.dueMs ?? 0)
        disk.append(QueuedOperation(operation: operation, dueMs: dueMs))
    }
}
