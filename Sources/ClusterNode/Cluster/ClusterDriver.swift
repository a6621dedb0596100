import Foundation
import LicenseState
import Logging
import Replication
import Transport

/// This node's `ReplicaHost`: the store and log (`LicenseService`), the
/// link to the peer (`ReplicationLink`), the snapshot files and the
/// reconciliation of another log's records. The `ReplicaShell` it owns
/// feeds the replica and orders the effects, as it does in the simulation.
///
/// Invariants: everything runs on the loop thread; the shell's `done`
/// callbacks come from the log writer's completions, never from within
/// the call that was given them.
final class ClusterDriver: ReplicaHost {
    private let loop: EventLoop
    private let service: LicenseService
    private let logger: Logger
    /// The other node's URL, as `servers` names it.
    let peerURL: String
    /// The other node's URL as clients reach it (`peerPublicUrl`, else
    /// `peerURL`): where a standby's 421 sends them.
    private let peerClientURL: String
    private var shell: ReplicaShell!
    private var link: ReplicationLink!
    /// The connection to the witness, when the pair has one.
    private(set) var witness: WitnessConnection?
    private var ticker: LoopTimer?
    /// A standby asks the witness for nothing while its primary is well:
    /// this probes it, so that health tells whether it is reachable.
    private var witnessProbe: LoopTimer?
    private var appendCheck: LoopCheck?
    /// Records applied again after a failover, and those among them that
    /// overran an item's quota (grace included).
    private(set) var reconciledTotal = 0
    private(set) var reconcileOverrunsTotal = 0
    /// Grants voided by reconciliation: their request was answered to a
    /// later attempt on the other node.
    private(set) var reconcileVoidsTotal = 0
    private(set) var lag = ReplicationLagRecorder()
    /// Called after every role or term change.
    var onChange: (() -> Void)?
    /// Primary: the snapshot being sent.
    private var outgoingSnapshot: FileHandle?
    /// Standby: the snapshot being received.
    private var incomingSnapshot: FileHandle?
    /// Standby: the entries of the last append from the peer and their
    /// records, decoded when it arrived (entries in LSN order).
    private var checkedAppend: (entries: [ReplicatedEntry], records: [LogRecord])?
    /// Standby: the queue IDs of the entries `reconcileQueue` read last,
    /// oldest first (the first of them are what the last `reconcile` carried).
    private var reconcileQueueIds: [Int64] = []
    /// When the last refusal to follow a primary was logged.
    private var lastRefusalLogMs: UInt64?
    private var outgoingSnapshotPath: String { service.store.path + ".snapshot-out" }
    private var incomingSnapshotPath: String { service.store.path + ".snapshot-in" }

    var replica: Replica { shell.replica }
    /// A primary is re-applying its own reconciliation queue, a round at a
    /// time (`ReplicaShell.reconcileEntriesPerRound`).
    private(set) var reapplyingOwnQueue = false
    /// The LSNs of the re-grants in the log (grant records that made a
    /// voided grant live again): the store's, and those not yet durable. A
    /// standby whose store cannot apply one is held (`PeerUpgradeHold`).
    private var regrantLsns: Set<UInt64> = []
    /// Records wait in this node's reconciliation queue: a standby's for the
    /// primary, or a primary's own, re-applied round by round.
    var hasReconcileQueue: Bool { replica.hasReconcileQueue || reapplyingOwnQueue }

    /// What this lts reads of what a peer streams it; stated on every
    /// stream it dials (`ReplicationReads`). Protocol 2 is the first that
    /// states it; protocol 3 numbers reconciliation rounds.
    static let ownReads = ReplicationReads(protocolVersion: 3, recordTagMax: LogRecordCodec.tagMax,
                                           snapshotFormatMax: UInt64(StateSnapshotCodec.formatVersion),
                                           schemaVersionMax: UInt64(LicenseStore.schemaVersion))
    /// Primary: a standby held until it is upgraded.
    private var upgradeHold = PeerUpgradeHold()

    /// What the peer's lts reads, as its last stream to this node stated.
    var peerReads: ReplicationReads? { link.peerReads }

    /// Why the standby is held until it is upgraded, or nil when it is not.
    var peerHeldForUpgrade: String? {
        replica.role == .primary ? upgradeHold.reason(peerReads: link.peerReads) : nil
    }

    /// The sentence that names the setting to fix when the peer's
    /// certificate (SHA-256 `presented`) was refused.
    static func certificateRefusedHint(_ presented: [UInt8], config: Config) -> String {
        let shown = SelfSignedCertificate.formatFingerprint(presented)
        let check = "if that is the peer's (its log names the certificate it serves at start)"
        if let pinned = config.peerFingerprint {
            return "the peer presents the certificate \(shown), but peerFingerprint names \(SelfSignedCertificate.formatFingerprint(pinned)): \(check), set peerFingerprint to it"
        }
        if let caFile = config.peerCaFile {
            return "the peer presents the certificate \(shown), which peerCaFile (\(caFile)) does not vouch for: set peerCaFile to the peer's certificate, or peerFingerprint to \(shown) \(check)"
        }
        return "the peer presents the certificate \(shown), which no system CA vouches for (neither peerFingerprint nor peerCaFile is set): set peerFingerprint to \(shown) \(check)"
    }

    /// Records the peer (or witness) `context` verified on a proven stream;
    /// when its key is new, `install` gets a context that trusts it too.
    private static func learn(_ context: TLSClientContext?, into keys: PeerKeys, pinned: [UInt8]?, logger: Logger,
                              install: (TLSClientContext) -> Void) {
        guard let context, let peer = context.lastVerifiedPeer,
              keys.proven(certificate: peer.certificate, key: peer.key, pinned: pinned, logger: logger) else { return }
        do {
            install(try TLSClientContext(trust: context.trust, keyPins: keys.keys))
        } catch {
            logger.error("cannot trust the \(keys.peer)'s learned TLS key: \(error)")
        }
    }

    /// - Parameters:
    ///   - peerKeys: the peer's keys learned so far (nil: plain HTTP).
    ///   - witnessKeys: the `lts witness`'s keys learned so far (nil: none, or plain HTTP).
    ///   - pairedPeer: the peer this node paired with.
    init(loop: EventLoop, config: Config, service: LicenseService, nodeUUID: String, peerTLS: TLSClientContext?, peerKeys: PeerKeys?,
         witnessKeys: PeerKeys?, pairedPeer: PairedPeer, logger: Logger) throws {
        guard let peer = config.peerURL, let peerComponents = URLComponents(string: peer), let index = config.selfIndex,
              let secret = config.clusterSecret else {
            preconditionFailure("a main_standby config names the peer, this node's index and the secret")
        }
        self.loop = loop
        self.service = service
        self.logger = logger
        peerURL = peer
        peerClientURL = config.peerPublicUrl ?? peer
        let replicaConfig = ReplicaConfig(heartbeatMs: UInt64(config.heartbeatMs), failoverTimeoutMs: UInt64(config.failoverTimeoutMs),
                                          degradeAfterMs: UInt64(config.degradeAfterMs),
                                          mode: config.replication == .sync ? .sync : .async,
                                          checkpointEveryRecords: UInt64(config.logCheckpointRecords),
                                          retainedRecords: UInt64(config.logRetainedRecords), witness: config.witness != nil)
        if let problem = replicaConfig.validate() { throw ConfigError(key: "failoverTimeoutMs", reason: problem) }
        let incarnation = Crypto.randomBytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let replica = Replica(config: replicaConfig, nodeIndex: index, term: service.term, history: service.history,
                              incarnation: incarnation, hasReconcileQueue: !(try service.store.reconcileQueue().isEmpty),
                              nowMs: loop.freshNowMs, checkpointLsn: service.checkpointLsn, compactedLsn: service.compactedLsn)
        // Snapshots of an earlier run are of no use now (nor the files
        // SQLite may have left beside one being checked).
        for path in [outgoingSnapshotPath, incomingSnapshotPath] {
            for suffix in ["", "-wal", "-shm", "-journal"] { DurableFile.remove(path + suffix) }
        }
        switch config.witness {
        case .lts(let url, let trust)?:
            guard let components = URLComponents(string: url) else { preconditionFailure("a checked witness URL parses") }
            let link = WitnessLink(loop: loop, url: components, tls: try TLSClientContext(trust: trust, keyPins: witnessKeys?.keys ?? []),
                                   clusterSecret: secret, timeoutMs: replicaConfig.leaseMs, logger: logger)
            if let witnessKeys {
                let pinned: [UInt8]? = if case .pinnedSHA256(let pin) = trust { pin } else { nil }
                link.onWitnessProven = { [weak link] context in
                    Self.learn(context, into: witnessKeys, pinned: pinned, logger: logger) { link?.replaceTLS($0) }
                }
            }
            witness = link
        case .etcd(let endpoints, let keyPrefix, let trust)?:
            witness = EtcdWitness(loop: loop, endpoints: endpoints, keyPrefix: keyPrefix, trust: trust, timeoutMs: replicaConfig.leaseMs,
                                  logger: logger)
        case nil:
            break
        }
        regrantLsns = Set(try service.store.regrantLsns())
        shell = ReplicaShell(replica: replica, host: self)
        link = ReplicationLink(loop: loop, peerURL: peerComponents, tls: peerTLS, clusterSecret: secret, nodeUUID: nodeUUID,
                               logger: logger) { [unowned self] message in self.receive(message) }
        link.pairedPeer = pairedPeer
        link.certificateRefusedHint = { [config] presented in Self.certificateRefusedHint(presented, config: config) }
        if let peerKeys {
            let pinned = config.peerFingerprint
            link.onPeerProven = { [unowned self] context in
                Self.learn(context, into: peerKeys, pinned: pinned, logger: logger) { self.link.replaceTLS($0) }
            }
        }
        service.onDurable = { [unowned self] entry in
            self.shell.flushed(through: LogPosition(term: entry.term, lsn: entry.lsn))
        }
        let tickMs = max(5, UInt64(config.heartbeatMs) / 4)
        ticker = LoopTimer(loop: loop, delayMs: tickMs, repeatMs: tickMs) { [unowned self] in
            self.shell.tick(nowMs: self.nowMs)
        }
        appendCheck = LoopCheck(loop: loop) { [unowned self] in self.shell.logged() }
        if let witness {
            witnessProbe = LoopTimer(loop: loop, delayMs: Self.witnessProbeMs, repeatMs: Self.witnessProbeMs) { [unowned self] in
                if replica.role == .standby, replica.claimInFlight == nil { witness.probe { _ in } }
            }
        }
        logger.info("pair member \(index) (\(index == 0 ? "main" : "standby") in servers), peer \(peer), term \(replica.term), \(config.replication.rawValue) replication; waiting for the peer")
        if let witness {
            logger.info("partition behaviour: witness \(witness.url) decides terms; a primary takes writes only with its lease (\(replicaConfig.leaseMs) ms, renewed every heartbeat) or its standby's acknowledgement, and a standby takes over only with the witness's grant")
        } else {
            logger.info("partition behaviour: no witness: during a cut link both nodes may answer (the standby takes over after \(config.failoverTimeoutMs) ms, the cut-off primary answers alone after \(config.degradeAfterMs) ms); their records are reconciled after")
        }
    }

    /// A message from the peer, unless it comes from a standby held until
    /// it is upgraded (`PeerUpgradeHold`).
    private func receive(_ message: ReplicationMessage) {
        if replica.role == .primary, upgradeHold.drops(message, peerReads: link.peerReads, term: replica.term) { return }
        shell.receive(message)
    }

    /// Logs a new hold on the standby.
    private func logHold(_ reason: String?) {
        guard let reason else { return }
        logger.error("\(reason): it cannot read that, so it is held detached (sent heartbeats only, its acknowledgements not counted) until it runs this lts version or newer: upgrade it. Meanwhile this primary serves as without a standby\(replica.config.mode == .sync ? " (sync replication: after degradeAfterMs)" : "").")
    }

    /// The stream route's handler.
    func accept(_ request: HTTPRequest) {
        link.accept(request)
    }

    /// Why a write cannot be taken here now, or nil when it can.
    func writeRefusal() -> APIError? {
        shell.refreshClock()
        if shell.acceptsWrites { return nil }
        if replica.role == .primary, shell.isWaitingForDurable {
            return APIError.unavailable("This node is taking over as primary; retry in a moment.")
        }
        if replica.role == .primary, !replica.holdsWriteAuthority(atMs: replica.nowMs) {
            return APIError(status: 503, code: -20103, message: "This node is primary but reaches neither the witness nor its standby, so the standby may be taking over; retry in a moment or on the other node.")
        }
        if replica.role == .primary, replica.unconfirmedSinceMs != nil {
            return APIError(status: 503, code: -20102, message: "This node did not run for a while and is checking that it is still the primary; retry in a moment.")
        }
        if replica.role == .primary {
            return APIError(status: 503, code: -20101, message: "A switchover is in progress; retry in a moment.")
        }
        return APIError(status: 421, code: -20100, message: "This node is the standby; send this call to the primary.",
                        extra: ["primary": peerClientURL])
    }

    /// Starts a planned switchover; false when there is no standby to take over.
    func requestSwitchover() -> Bool {
        shell.requestSwitchover()
    }

    /// How often a standby checks that it reaches the witness.
    static let witnessProbeMs: UInt64 = 1_000

    /// The witness as this node knows it now (nil: the pair has none).
    var witnessStatus: WitnessStatus? {
        guard let witness else { return nil }
        let replica = self.replica
        let now = loop.nowMs
        // Only a primary holds either (a step down clears both: `Replica.checkInvariants`).
        let lease = replica.lease.map { $0.untilMs > now ? $0.untilMs - now : 0 } ?? 0
        let promise = replica.standbyPromiseUntilMs.map { $0 > now ? $0 - now : 0 } ?? 0
        return WitnessStatus(url: witness.url, reachable: witness.lastAnswerMs != nil && witness.lastProblem == nil,
                             problem: witness.lastProblem, leaseRemainingMs: lease, standbyPromiseRemainingMs: promise,
                             highestTerm: replica.witnessHighestTerm)
    }

    func close() {
        witnessProbe?.cancel()
        witness?.close()
        ticker?.cancel()
        appendCheck?.cancel()
        link.close()
    }

    // MARK: ReplicaHost: time and the log

    /// Read fresh: the replica decides leases and acknowledgements by it.
    var nowMs: UInt64 { loop.freshNowMs }

    var loggedLsn: UInt64 { service.lastLsn }

    func persistTerm(_ term: UInt64, done: @escaping () -> Void) {
        service.persistTerm(term, done: done)
    }

    func truncate(after lsn: UInt64, done: @escaping () -> Void) {
        logger.warning("this node's log differs from the primary's after lsn \(lsn): moving the records after it to the reconciliation queue")
        regrantLsns = regrantLsns.filter { $0 <= lsn }
        service.truncate(after: lsn, done: done)
    }

    func discardLog(queueAfter lsn: UInt64, done: @escaping () -> Void) {
        logger.warning("this node's log differs from the primary's after lsn \(lsn), behind its checkpoint: moving the records after it to the reconciliation queue and emptying the store; a snapshot from the primary follows")
        regrantLsns = []
        service.discard(queueAfter: lsn, done: done)
    }

    /// Decodes the records of an arriving append, so an entry the replica
    /// accepts can always be applied; keeps them for `write`.
    func accepts(_ entries: [ReplicatedEntry]) -> Bool {
        var records: [LogRecord] = []
        records.reserveCapacity(entries.count)
        for entry in entries {
            guard let record = try? LogRecordCodec.decode(entry.payload) else {
                logger.error("refused an append from the peer: the record at lsn \(entry.lsn) does not decode")
                return false
            }
            records.append(record)
        }
        checkedAppend = (entries, records)
        return true
    }

    func write(_ entries: [ReplicatedEntry]) {
        do {
            let records = try records(of: entries)
            checkedAppend = nil
            service.appendReplicated(entries, records: records)
        } catch {
            preconditionFailure("entries were checked before the replica accepted them: \(error)")
        }
    }

    /// The records of `entries` (which the replica accepted for writing):
    /// those of the last append checked on arrival, without decoding them
    /// again (a second decode had been a tenth of a catching-up standby's
    /// work); any other entry is decoded here.
    private func records(of entries: [ReplicatedEntry]) throws -> [LogRecord] {
        guard let checked = checkedAppend, let first = checked.entries.first else {
            return try entries.map { try LogRecordCodec.decode($0.payload) }
        }
        return try entries.map { entry in
            let index = Int(truncatingIfNeeded: entry.lsn &- first.lsn)
            if entry.lsn >= first.lsn, index < checked.entries.count, checked.entries[index] == entry {
                return checked.records[index]
            }
            return try LogRecordCodec.decode(entry.payload)
        }
    }

    func entries(after lsn: UInt64, through throughLsn: UInt64) -> [ReplicatedEntry]? {
        do {
            let entries = try service.entries(after: lsn, through: throughLsn)
            let (streamable, newHold) = upgradeHold.check(entries: entries, peerReads: link.peerReads ?? .protocol1, regrantLsns: regrantLsns)
            logHold(newHold)
            return streamable ? entries : nil
        } catch {
            logger.error("cannot read the log to stream it: \(error)")
            return nil
        }
    }

    func checkpoint(lsn: UInt64, compactThrough: UInt64) {
        service.checkpoint(lsn: lsn, compactThrough: compactThrough)
    }

    // MARK: ReplicaHost: reconciliation

    /// The primary's lts numbers reconciliation rounds: the last stream it
    /// dialed here stated replication protocol 3 or later.
    var peerNumbersReconcileRounds: Bool { (link.peerReads?.protocolVersion ?? 1) >= 3 }

    /// The oldest queued records the primary's lts reads (an older lts
    /// would drop a record it cannot decode, and this node then its copy):
    /// from the first it cannot read on, records wait here, and are sent
    /// at this node's next start once the primary runs a newer lts.
    func reconcileQueue(limit: Int) -> [ReplicatedEntry] {
        do {
            var queued = try service.store.reconcileQueue(limit: limit)
            let entries = queued.map { Self.replicated($0.entry) }
            let reads = link.peerReads ?? .protocol1
            if let (entry, tag) = reads.firstUnreadable(entries), let index = entries.firstIndex(of: entry) {
                logger.warning("the reconciliation queue holds a record\(tag.map { " of tag \($0)" } ?? "") (lsn \(entry.lsn) of this node's old log) that the primary's lts (replication \(reads)) cannot read: it and the records after it stay queued here; upgrade the primary, then restart this node to send them")
                queued.removeSubrange(index...)
            }
            reconcileQueueIds = queued.map(\.id)
            return Array(entries.prefix(queued.count))
        } catch {
            logger.error("cannot read the reconciliation queue: \(error)")
            reconcileQueueIds = []
            return []
        }
    }

    func clearReconcileQueue(first count: Int, done: @escaping (_ remains: Bool) -> Void) {
        // The queue only grows at its end meanwhile: its first `count` are those read last.
        guard count > 0, count <= reconcileQueueIds.count else { return }
        service.clearReconcileQueue(throughId: reconcileQueueIds[count - 1]) { [unowned self] in
            let remains = self.reconcileQueueHoldsRecords()
            self.logger.info("the primary holds the reconciled records\(remains ? "; sending the next part of the queue" : ": reconciliation queue emptied")")
            done(remains)
        }
    }

    /// Whether the store's reconciliation queue still holds a record (true
    /// when it cannot be read: the queue is then sent or re-applied again,
    /// never dropped).
    private func reconcileQueueHoldsRecords() -> Bool {
        ((try? service.store.reconcileQueue(limit: 1).count) ?? 1) > 0
    }

    func reapply(_ entries: [ReplicatedEntry], reapplied: inout ReappliedRecords) {
        let decoded = entries.compactMap { entry in
            (try? LogRecordCodec.decode(entry.payload)).map { LogEntry(lsn: entry.lsn, term: entry.term, record: $0) }
        }
        reapply(decoded, from: "the peer", reapplied: &reapplied)
    }

    func reapplyOwnQueue(limit: Int, reapplied: inout ReappliedRecords, done: @escaping (_ remains: Bool) -> Void) {
        do {
            let queued = try service.store.reconcileQueue(limit: limit)
            guard let last = queued.last else {
                reapplyingOwnQueue = false
                return
            }
            reapplyingOwnQueue = true
            reapply(queued.map(\.entry), from: "this node's own queue", reapplied: &reapplied)
            service.clearReconcileQueue(throughId: last.id) { [unowned self] in
                let remains = self.reconcileQueueHoldsRecords()
                reapplyingOwnQueue = remains && replica.role == .primary
                done(remains)
            }
        } catch {
            logger.error("cannot read the reconciliation queue: \(error)")
        }
    }

    /// Logs again, as new records, the records another log held that this
    /// one lacks, by the reconciliation policy (`LicenseState.reconciliation`),
    /// and counts the overruns they cause and the grants they void. A grant,
    /// or a void of it, is in the log when `reapplied` or the store holds it
    /// (a store that cannot be read holds both: nothing is logged twice).
    private func reapply(_ entries: [LogEntry], from source: String, reapplied: inout ReappliedRecords) {
        var applied = 0
        for entry in entries {
            let remembered: RememberedAnswer?
            do {
                remembered = try service.rememberedAnswer(for: entry.record.answeredRequest)
            } catch {
                return
            }
            // Each grant's standing as the log stood before this entry's records,
            // looked up once: the policy asks it, and so does the re-grant check.
            var looked: [String: GrantStanding] = [:]
            func standing(_ grantId: String) -> GrantStanding {
                if let known = looked[grantId] { return known }
                let found = GrantStanding.of(grantId, reappliedAt: reapplied.position(of:),
                                             stored: { (try? service.store.grantStanding(grantId)) ?? .voided })
                looked[grantId] = found
                return found
            }
            let records = service.state.reconciliation(of: entry.record, remembered: remembered, grantStanding: standing)
            if !records.isEmpty { applied += 1 }
            for record in records {
                let isRegrant: Bool
                if case .grant(let grant) = record { isRegrant = standing(grant.grantId) != .absent } else { isRegrant = false }
                service.commit(record, request: nil) { _ in }
                if isRegrant { regrantLsns.insert(service.history.lastLsn) }
                if let key = GrantStanding.reappliedKey(of: record) {
                    reapplied.logged(key, at: LogPosition(term: service.term, lsn: service.history.lastLsn))
                }
                switch record {
                case .grant(let grant):
                    if let overrun = service.state.overrun(after: grant) {
                        reconcileOverrunsTotal += 1
                        logger.warning("reconciled grant \(grant.grantId) overruns license item \(overrun.itemId): \(overrun.used) in use, \(overrun.allowed) allowed with grace")
                    }
                case .voidGrant(let grant, _):
                    reconcileVoidsTotal += 1
                    logger.warning("grant \(grant.grantId) is void: the other node answered its request \(grant.requestId ?? "") to a later attempt, and that answer is kept")
                default:
                    break
                }
            }
        }
        reconciledTotal += applied
        logger.notice("reconciliation: applied \(applied) of \(entries.count) records from \(source) again; the rest were here already or are not replayed")
    }

    private static func replicated(_ entry: LogEntry) -> ReplicatedEntry {
        ReplicatedEntry(lsn: entry.lsn, term: entry.term, payload: LogRecordCodec.encode(entry.record))
    }

    // MARK: ReplicaHost: the peer and the clients

    func send(_ message: ReplicationMessage) {
        if case .reconcile(_, _, let entries, let round) = message {
            logger.info("sending \(entries.count) records of the reconciliation queue to the primary\(round == 0 ? "" : " (round \(round))")")
        }
        link.send(message)
    }

    func roleChanged(_ role: Replica.Role, term: UInt64) {
        service.term = term
        reapplyingOwnQueue = false
        if role != .primary { upgradeHold.release() }
        switch role {
        case .primary:
            logger.notice("now primary in term \(term) at lsn \(replica.lastLsn)")
        case .standby:
            logger.notice("standby in term \(term); the primary is \(peerURL)")
            service.refusePending(writeRefusal() ?? APIError.unavailable("This node stopped being primary."))
        }
        onChange?()
    }

    func acknowledge(upTo lsn: UInt64) {
        service.acknowledge(upTo: lsn)
    }

    func askWitness(_ claim: WitnessClaim) {
        guard let witness else { preconditionFailure("a claim to a witness that is not configured") }
        witness.ask(claim) { [weak self] answer in
            guard !claim.release else { return }
            self?.shell.witnessAnswered(claim, answer)
        }
    }

    func refuseDivergence(matchLsn: UInt64, compactedLsn: UInt64) {
        // The primary answers every hello so: say it once a minute.
        if lastRefusalLogMs.map({ loop.nowMs - $0 >= 60_000 }) ?? true {
            lastRefusalLogMs = loop.nowMs
            logger.critical("the primary's log leaves this node's at lsn \(matchLsn), but this node compacted its log through lsn \(compactedLsn): its records after \(matchLsn) exist only in its checkpoint and cannot be reconciled, so it does not follow the primary. Decide which history to keep: to keep this node's, stop the other node, move its data directory away and start it again (it then joins from this node); to keep the primary's, do the same with this node.")
        }
    }

    func observeAppended(through lsn: UInt64, peerAttached: Bool) {
        if peerAttached { lag.appended(through: lsn, atMs: loop.nowMs) }
    }

    func observePeerFlushed(_ flushedLsn: UInt64?) {
        if let flushedLsn {
            lag.flushed(through: flushedLsn, atMs: loop.nowMs)
        } else {
            lag.forgetPending()
        }
    }

    // MARK: ReplicaHost: snapshots

    func prepareSnapshot(done: @escaping (Result<UInt64, Error>) -> Void) {
        let (streamable, newHold) = upgradeHold.checkSnapshot(format: UInt64(StateSnapshotCodec.formatVersion),
                                                               schema: UInt64(LicenseStore.schemaVersion),
                                                               recordTagMax: LogRecordCodec.tagMax, peerReads: link.peerReads ?? .protocol1)
        logHold(newHold)
        guard streamable else { return done(.failure(StoreFailure("the standby cannot read a snapshot of this lts"))) }
        logger.notice("the standby's log starts before this node's retained log: copying the store to send it a snapshot")
        let path = outgoingSnapshotPath
        service.prepareSnapshot(to: path) { [unowned self] result in
            switch result {
            case .success(let size):
                guard let file = FileHandle(forReadingAtPath: path) else {
                    self.logger.error("cannot open the snapshot \(path) just written; the standby will ask again")
                    return done(.failure(StoreFailure("cannot open \(path)")))
                }
                self.outgoingSnapshot = file
                self.logger.notice("sending a snapshot of \(size) bytes to the standby")
                done(.success(size))
            case .failure(let error):
                self.logger.error("cannot copy the store for a snapshot: \(error); the standby will ask again")
                done(.failure(error))
            }
        }
    }

    func readSnapshot(offset: UInt64, count: UInt64) -> [UInt8]? {
        guard let file = outgoingSnapshot else { return nil }
        do {
            try file.seek(toOffset: offset)
            let bytes = [UInt8](try file.read(upToCount: Int(count)) ?? Data())
            guard UInt64(bytes.count) == count else {
                logger.error("the snapshot file \(outgoingSnapshotPath) ends before byte \(offset + count)")
                return nil
            }
            return bytes
        } catch {
            logger.error("cannot read the snapshot file \(outgoingSnapshotPath): \(error)")
            return nil
        }
    }

    func releaseOutgoingSnapshot(delivered: Bool) {
        if delivered { logger.notice("the standby holds the whole snapshot") }
        try? outgoingSnapshot?.close()
        outgoingSnapshot = nil
        DurableFile.remove(outgoingSnapshotPath)
    }

    func writeSnapshot(offset: UInt64, bytes: [UInt8]) -> Bool {
        do {
            if offset == 0 {
                try? incomingSnapshot?.close()
                DurableFile.remove(incomingSnapshotPath)
                guard FileManager.default.createFile(atPath: incomingSnapshotPath, contents: nil, attributes: [.posixPermissions: 0o600]),
                      let file = FileHandle(forWritingAtPath: incomingSnapshotPath) else {
                    throw StoreFailure("cannot create \(incomingSnapshotPath)")
                }
                incomingSnapshot = file
                logger.notice("receiving a snapshot from the primary")
            }
            guard let file = incomingSnapshot else { throw StoreFailure("a snapshot chunk at \(offset) without its start") }
            try file.seek(toOffset: offset)
            try file.write(contentsOf: bytes)
            return true
        } catch {
            logger.error("cannot write the incoming snapshot: \(error); asking for it again")
            return false
        }
    }

    func releaseIncomingSnapshot() {
        try? incomingSnapshot?.close()
        incomingSnapshot = nil
        DurableFile.remove(incomingSnapshotPath)
    }

    func installSnapshot(totalBytes: UInt64, done: @escaping (Result<InstalledSnapshot, Error>) -> Void) {
        guard let file = incomingSnapshot else {
            logger.error("a snapshot is complete, but its file is not open; asking for it again")
            // The shell is not re-entered: answer on the next loop turn.
            var answer: LoopTimer?
            answer = LoopTimer(loop: loop, delayMs: 0) {
                answer?.cancel()
                done(.failure(StoreFailure("the incoming snapshot is not open")))
            }
            return
        }
        incomingSnapshot = nil
        try? file.close()
        service.installSnapshot(from: incomingSnapshotPath, totalBytes: totalBytes) { [unowned self] result in
            switch result {
            case .success(let loaded):
                self.regrantLsns = Set((try? self.service.store.regrantLsns()) ?? [])
                self.logger.notice("snapshot installed: lsn \(loaded.history.lastLsn), checkpoint at \(loaded.checkpointLsn); following the primary from there")
                done(.success(InstalledSnapshot(history: loaded.history, checkpointLsn: loaded.checkpointLsn, compactedLsn: loaded.compactedLsn)))
            case .failure(let error):
                self.logger.error("\(error)")
                DurableFile.remove(self.incomingSnapshotPath)
                done(.failure(error))
            }
        }
    }
}
