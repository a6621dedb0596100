import Foundation
import LicenseState
import Logging
import Replication
import Transport

/// The shell around this node's `Replica`: feeds it ticks, the peer's
/// messages and the log's progress, and carries out its effects against the
/// `LicenseService` and the `ReplicationLink`.
///
/// Invariants: everything runs on the loop thread; effects run in the order
/// the replica returned them, and while an effect that must be durable
/// (term, truncation) is under way, nothing else happens: later effects and
/// new inputs wait, and writes are refused (the shell the simulation
/// checks); before each input the replica's log is brought up to the
/// service's (`syncAppended`), so both always agree on the log.
final class ClusterDriver {
    private let loop: EventLoop
    private let service: LicenseService
    private let logger: Logger
    /// The other node's URL, as `servers` names it.
    let peerURL: String
    private(set) var replica: Replica
    private var link: ReplicationLink!
    private var ticker: LoopTimer?
    private var appendCheck: LoopCheck?
    /// Effects waiting for a durable effect before them to complete.
    private var effects: [ReplicaEffect] = []
    private var effectsStart = 0
    private var waitingForDurable = false
    /// Inputs that arrived while a durable effect was under way, in order.
    private var heldInputs: [(inout Replica) -> [ReplicaEffect]] = []
    /// Most inputs held; a tick needs no holding (the next one comes).
    static let heldInputsMax = 4096
    /// Grant IDs this node applied again for a peer (the store knows only
    /// the durable ones).
    private var reconciledGrantIds: Set<String> = []
    /// Records applied again after a failover, and those among them that
    /// overran an item's quota (grace included).
    private(set) var reconciledTotal = 0
    private(set) var reconcileOverrunsTotal = 0
    private(set) var lag = ReplicationLagRecorder()
    /// The queue ID of the last record the last `reconcile` carried: what
    /// its answer lets this node remove.
    private var reconcileSentThroughId: Int64?
    /// Called after every role or term change.
    var onChange: (() -> Void)?
    /// Primary: the snapshot being sent, and the session it is for.
    private var outgoingSnapshot: (session: UInt64, file: FileHandle)?
    /// Standby: the snapshot being received.
    private var incomingSnapshot: FileHandle?
    /// Standby: the entries of the last append from the peer and their
    /// records, decoded when it arrived (entries in LSN order).
    private var checkedAppend: (entries: [ReplicatedEntry], records: [LogRecord])?
    /// When the last refusal to follow a primary was logged.
    private var lastRefusalLogMs: UInt64?
    private var outgoingSnapshotPath: String { service.store.path + ".snapshot-out" }
    private var incomingSnapshotPath: String { service.store.path + ".snapshot-in" }

    init(loop: EventLoop, config: Config, service: LicenseService, nodeUUID: String, peerTLS: TLSClientContext?,
         logger: Logger) throws {
        guard let peer = config.peerURL, let peerComponents = URLComponents(string: peer), let index = config.selfIndex,
              let secret = config.clusterSecret else {
            preconditionFailure("a main_standby config names the peer, this node's index and the secret")
        }
        self.loop = loop
        self.service = service
        self.logger = logger
        peerURL = peer
        let replicaConfig = ReplicaConfig(heartbeatMs: UInt64(config.heartbeatMs), failoverTimeoutMs: UInt64(config.failoverTimeoutMs),
                                          degradeAfterMs: UInt64(config.degradeAfterMs),
                                          mode: config.replication == .sync ? .sync : .async,
                                          checkpointEveryRecords: UInt64(config.logCheckpointRecords),
                                          retainedRecords: UInt64(config.logRetainedRecords))
        let incarnation = Crypto.randomBytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        replica = Replica(config: replicaConfig, nodeIndex: index, term: service.term, history: service.history,
                          incarnation: incarnation, hasReconcileQueue: !(try service.store.reconcileQueue().isEmpty),
                          nowMs: loop.nowMs, checkpointLsn: service.checkpointLsn, compactedLsn: service.compactedLsn)
        // Snapshots of an earlier run are of no use now (nor the files
        // SQLite may have left beside one being checked).
        for path in [outgoingSnapshotPath, incomingSnapshotPath] {
            for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
        }
        link = ReplicationLink(loop: loop, peerURL: peerComponents, tls: peerTLS, clusterSecret: secret, nodeUUID: nodeUUID,
                               logger: logger) { [unowned self] message in self.received(message) }
        service.onDurable = { [unowned self] entry in
            self.input { $0.flushed(through: LogPosition(term: entry.term, lsn: entry.lsn)) }
        }
        let tickMs = max(5, UInt64(config.heartbeatMs) / 4)
        ticker = LoopTimer(loop: loop, delayMs: tickMs, repeatMs: tickMs) { [unowned self] in
            guard !self.waitingForDurable else { return }
            self.input { $0.tick(nowMs: self.loop.nowMs) }
        }
        appendCheck = LoopCheck(loop: loop) { [unowned self] in
            guard !self.waitingForDurable else { return }
            self.run(self.syncAppended())
        }
        logger.info("pair member \(index) (\(index == 0 ? "main" : "standby") in servers), peer \(peer), term \(replica.term), \(config.replication.rawValue) replication; waiting for the peer")
    }

    /// The stream route's handler.
    func accept(_ request: HTTPRequest) {
        link.accept(request)
    }

    /// Why a write cannot be taken here now, or nil when it can.
    var writeRefusal: APIError? {
        if replica.acceptsWrites, !waitingForDurable { return nil }
        if replica.role == .primary, waitingForDurable {
            return APIError.unavailable("This node is taking over as primary; retry in a moment.")
        }
        if replica.role == .primary {
            return APIError(status: 503, code: -20101, message: "A switchover is in progress; retry in a moment.")
        }
        return APIError(status: 421, code: -20100, message: "This node is the standby; send this call to the primary.",
                        extra: ["primary": peerURL])
    }

    /// Starts a planned switchover; false when there is no standby to take over.
    func requestSwitchover() -> Bool {
        guard !waitingForDurable else { return false }
        run(syncAppended())
        guard let effects = replica.requestSwitchover() else { return false }
        run(effects)
        return true
    }

    func close() {
        ticker?.cancel()
        appendCheck?.cancel()
        link.close()
    }

    // MARK: Inputs

    private func received(_ message: ReplicationMessage) {
        if case .append(_, _, _, _, let entries, _) = message {
            // The replica accepts entries by position only: check the records
            // first, so an entry it accepts can always be applied.
            var records: [LogRecord] = []
            records.reserveCapacity(entries.count)
            for entry in entries {
                guard let record = try? LogRecordCodec.decode(entry.payload) else {
                    logger.error("refused an append from the peer: the record at lsn \(entry.lsn) does not decode")
                    return
                }
                records.append(record)
            }
            checkedAppend = (entries, records)
        }
        input { $0.receive(message) }
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

    /// Feeds one input to the replica (after syncing its log) and runs the
    /// effects; holds it while a durable effect is under way.
    private func input(_ step: @escaping (inout Replica) -> [ReplicaEffect]) {
        guard !waitingForDurable else {
            if heldInputs.count < Self.heldInputsMax {
                heldInputs.append(step)
            } else {
                // Dropping a message is a loss the protocol recovers from;
                // a flushed report is repeated by the next one.
                logger.warning("replication inputs dropped while the store was busy")
            }
            return
        }
        var produced = syncAppended()
        let peerFlushed = replica.peer?.flushedLsn
        produced += step(&replica)
        if let flushed = replica.peer?.flushedLsn {
            if flushed != peerFlushed { lag.flushed(through: flushed, atMs: loop.nowMs) }
        } else if peerFlushed != nil {
            lag.forgetPending()
        }
        run(produced)
        if !waitingForDurable { releaseStaleSnapshots() }
    }

    /// Tells a primary replica about records the service logged since.
    private func syncAppended() -> [ReplicaEffect] {
        guard replica.role == .primary, service.lastLsn > replica.lastLsn else { return [] }
        if replica.peer != nil { lag.appended(through: service.lastLsn, atMs: loop.nowMs) }
        return replica.appended(through: service.lastLsn)
    }

    // MARK: Effects

    private func run(_ produced: [ReplicaEffect]) {
        effects += produced
        while !waitingForDurable, effectsStart < effects.count {
            let effect = effects[effectsStart]
            effectsStart += 1
            perform(effect)
        }
        if effectsStart == effects.count {
            effects = []
            effectsStart = 0
        }
    }

    /// Resumes the effects after a durable one completed (first `produced`,
    /// what the replica said to its completion), then the inputs held
    /// meanwhile (each may wait for a durable effect again).
    private func durableDone(_ produced: [ReplicaEffect] = []) {
        waitingForDurable = false
        run(produced)
        while !waitingForDurable, !heldInputs.isEmpty {
            input(heldInputs.removeFirst())
        }
    }

    /// Closes and removes a snapshot file the replica no longer waits on
    /// (the standby went, the primary stepped down, a new hello began anew).
    private func releaseStaleSnapshots() {
        if let outgoing = outgoingSnapshot, replica.peer?.session != outgoing.session || replica.peer?.snapshot == nil {
            try? outgoing.file.close()
            outgoingSnapshot = nil
            unlink(outgoingSnapshotPath)
        }
        if let incoming = incomingSnapshot, replica.incomingSnapshot == nil {
            try? incoming.close()
            incomingSnapshot = nil
            unlink(incomingSnapshotPath)
        }
    }

    private func perform(_ effect: ReplicaEffect) {
        switch effect {
        case .persistTerm(let term):
            waitingForDurable = true
            service.persistTerm(term) { [unowned self] in self.durableDone() }
        case .truncate(let lsn):
            logger.warning("this node's log differs from the primary's after lsn \(lsn): moving the records after it to the reconciliation queue")
            waitingForDurable = true
            service.truncate(after: lsn) { [unowned self] in self.durableDone() }
        case .write(let entries):
            do {
                let records = try records(of: entries)
                checkedAppend = nil
                service.appendReplicated(entries, records: records)
            } catch {
                preconditionFailure("entries were checked before the replica accepted them: \(error)")
            }
        case .send(let message):
            link.send(message)
        case .sendAppend(let session, let prevLsn, let prevTerm, let throughLsn, let commitLsn):
            guard replica.role == .primary else { return }
            do {
                // One append per part that fits a frame, each following the one before.
                var previous = (lsn: prevLsn, term: prevTerm)
                for part in Self.parts(of: try service.entries(after: prevLsn, through: throughLsn)) {
                    link.send(.append(term: replica.term, session: session, prevLsn: previous.lsn, prevTerm: previous.term,
                                      entries: part, commitLsn: commitLsn))
                    previous = (part.last!.lsn, part.last!.term)
                }
            } catch {
                logger.error("cannot read the log to stream it: \(error)")
            }
        case .sendReconcile(let session):
            do {
                // The oldest part that fits a frame; the rest goes in later rounds.
                let queued = try service.store.reconcileQueue(limit: ReplicationMessageCodec.entriesMax)
                let part = Self.parts(of: queued.map { Self.replicated($0.entry) }).first ?? []
                reconcileSentThroughId = queued.prefix(part.count).last?.id
                logger.info("sending \(part.count) records of the reconciliation queue to the primary")
                link.send(.reconcile(term: replica.term, session: session, entries: part))
            } catch {
                logger.error("cannot read the reconciliation queue: \(error)")
            }
        case .reconcile(let session, let entries):
            let decoded = entries.compactMap { entry in
                (try? LogRecordCodec.decode(entry.payload)).map { LogEntry(lsn: entry.lsn, term: entry.term, record: $0) }
            }
            reapply(decoded, from: "the peer")
            run(syncAppended() + replica.reconciled(session: session, throughLsn: service.lastLsn))
        case .reconcileOwnQueue:
            do {
                reapply(try service.store.reconcileQueue().map(\.entry), from: "this node's own queue")
                service.clearReconcileQueue()
            } catch {
                logger.error("cannot read the reconciliation queue: \(error)")
            }
        case .clearReconcileQueue:
            let sent = reconcileSentThroughId
            service.clearReconcileQueue(throughId: sent) { [unowned self] in
                let remaining = (try? self.service.store.reconcileQueue(limit: 1).count) ?? 1
                self.logger.info("the primary holds the reconciled records\(remaining > 0 ? "; sending the next part of the queue" : ": reconciliation queue emptied")")
                if remaining > 0 { self.input { $0.reconcileQueueRemains() } }
            }
        case .roleChanged(let role, let term):
            service.term = term
            switch role {
            case .primary:
                logger.notice("now primary in term \(term) at lsn \(replica.lastLsn)")
            case .standby:
                logger.notice("standby in term \(term); the primary is \(peerURL)")
                service.refusePending(writeRefusal ?? APIError.unavailable("This node stopped being primary."))
            }
            onChange?()
        case .ackClients(let lsn):
            service.acknowledge(upTo: lsn)
        case .refuseDivergence(let matchLsn, let compactedLsn):
            // The primary answers every hello so: say it once a minute.
            if lastRefusalLogMs.map({ loop.nowMs - $0 >= 60_000 }) ?? true {
                lastRefusalLogMs = loop.nowMs
                logger.critical("the primary's log leaves this node's at lsn \(matchLsn), but this node compacted its log through lsn \(compactedLsn): its records after \(matchLsn) exist only in its checkpoint and cannot be reconciled, so it does not follow the primary. Decide which history to keep: to keep this node's, stop the other node, move its data directory away and start it again (it then joins from this node); to keep the primary's, do the same with this node.")
            }
        case .checkpoint(let lsn, let compactThrough):
            service.checkpoint(lsn: lsn, compactThrough: compactThrough)
        case .discardLog(let lsn):
            logger.warning("this node's log differs from the primary's after lsn \(lsn), behind its checkpoint: moving the records after it to the reconciliation queue and emptying the store; a snapshot from the primary follows")
            waitingForDurable = true
            service.discard(queueAfter: lsn) { [unowned self] in self.durableDone() }
        case .prepareSnapshot(let session):
            prepareSnapshot(session: session)
        case .sendSnapshotChunk(let session, let id, let offset, let count, let totalBytes):
            sendSnapshotChunk(session: session, id: id, offset: offset, count: count, totalBytes: totalBytes)
        case .snapshotSent(let session):
            guard let outgoing = outgoingSnapshot, outgoing.session == session else { return }
            logger.notice("the standby holds the whole snapshot")
            try? outgoing.file.close()
            outgoingSnapshot = nil
            unlink(outgoingSnapshotPath)
        case .writeSnapshotChunk(let offset, let bytes):
            writeSnapshotChunk(offset: offset, bytes: bytes)
        case .installSnapshot(let totalBytes):
            installSnapshot(totalBytes: totalBytes)
        }
    }

    // MARK: Snapshots

    private func prepareSnapshot(session: UInt64) {
        logger.notice("the standby's log starts before this node's retained log: copying the store to send it a snapshot")
        try? outgoingSnapshot?.file.close()
        outgoingSnapshot = nil
        let path = outgoingSnapshotPath
        service.prepareSnapshot(to: path) { [unowned self] result in
            // Only the copy the replica still waits for is kept.
            guard let peer = self.replica.peer, peer.session == session, peer.snapshot?.totalBytes == nil else { return }
            switch result {
            case .success(let size):
                guard let file = FileHandle(forReadingAtPath: path) else {
                    self.logger.error("cannot open the snapshot \(path) just written; the standby will ask again")
                    return self.input { $0.snapshotUnavailable(session: session) }
                }
                self.outgoingSnapshot = (session, file)
                self.logger.notice("sending a snapshot of \(size) bytes to the standby")
                self.input { $0.snapshotPrepared(session: session, totalBytes: size) }
            case .failure(let error):
                self.logger.error("cannot copy the store for a snapshot: \(error); the standby will ask again")
                self.input { $0.snapshotUnavailable(session: session) }
            }
        }
    }

    private func sendSnapshotChunk(session: UInt64, id: UInt64, offset: UInt64, count: UInt64, totalBytes: UInt64) {
        guard let outgoing = outgoingSnapshot, outgoing.session == session else { return }
        do {
            try outgoing.file.seek(toOffset: offset)
            let bytes = [UInt8](try outgoing.file.read(upToCount: Int(count)) ?? Data())
            guard UInt64(bytes.count) == count else {
                return logger.error("the snapshot file \(outgoingSnapshotPath) is shorter than \(totalBytes) bytes")
            }
            link.send(.snapshotChunk(term: replica.term, session: session, id: id, offset: offset, totalBytes: totalBytes, bytes: bytes))
        } catch {
            logger.error("cannot read the snapshot file \(outgoingSnapshotPath): \(error)")
        }
    }

    private func writeSnapshotChunk(offset: UInt64, bytes: [UInt8]) {
        do {
            if offset == 0 {
                try? incomingSnapshot?.close()
                unlink(incomingSnapshotPath)
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
        } catch {
            logger.error("cannot write the incoming snapshot: \(error); asking for it again")
            try? incomingSnapshot?.close()
            incomingSnapshot = nil
            input { $0.snapshotRefused() }
        }
    }

    private func installSnapshot(totalBytes: UInt64) {
        guard let file = incomingSnapshot else {
            logger.error("a snapshot is complete, but its file is not open; asking for it again")
            return input { $0.snapshotRefused() }
        }
        incomingSnapshot = nil
        try? file.close()
        waitingForDurable = true
        service.installSnapshot(from: incomingSnapshotPath, totalBytes: totalBytes) { [unowned self] result in
            switch result {
            case .success(let loaded):
                self.logger.notice("snapshot installed: lsn \(loaded.history.lastLsn), checkpoint at \(loaded.checkpointLsn); following the primary from there")
                self.durableDone(self.replica.installedSnapshot(history: loaded.history, checkpointLsn: loaded.checkpointLsn,
                                                                compactedLsn: loaded.compactedLsn, nowMs: self.loop.nowMs))
            case .failure(let error):
                self.logger.error("\(error)")
                unlink(self.incomingSnapshotPath)
                self.durableDone(self.replica.snapshotRefused())
            }
        }
    }

    /// Most payload bytes in one append or reconcile message: well inside
    /// `Frame.frameBytesMax`, whatever the records (a license import carries
    /// its file, up to 1 MiB).
    static let messagePayloadBytesMax = 8 << 20

    /// Splits entries into runs whose payloads fit one message.
    static func parts(of entries: [ReplicatedEntry]) -> [[ReplicatedEntry]] {
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

    private static func replicated(_ entry: LogEntry) -> ReplicatedEntry {
        ReplicatedEntry(lsn: entry.lsn, term: entry.term, payload: LogRecordCodec.encode(entry.record))
    }

    // MARK: Reconciliation

    /// Logs again, as new records, the records another log held that this
    /// one lacks: grants not seen (by grant ID or request ID), lease
    /// renewals and releases that still matter, licenses not imported,
    /// handshake edits. Expiry, password and alert records are not replayed:
    /// expiry follows this node's clock, a password or alert settings set here
    /// win, refusal tallies are a rate estimate, and alert bookkeeping is
    /// redone by this node's own checks (a reconciled alert email could only
    /// be sent a second time).
    private func reapply(_ entries: [LogEntry], from source: String) {
        var applied = 0
        for entry in entries {
            guard shouldReapply(entry.record) else { continue }
            if case .grant(let grant) = entry.record { reconciledGrantIds.insert(grant.grantId) }
            service.commit(entry.record, request: nil) { _ in }
            applied += 1
            if case .grant(let grant) = entry.record, let usage = service.state.items[grant.itemId],
               service.state.used(grant.itemId, now: grant.at) > usage.item.limitWithGrace {
                reconcileOverrunsTotal += 1
                logger.warning("reconciled grant \(grant.grantId) overruns license item \(grant.itemId): \(service.state.used(grant.itemId, now: grant.at)) in use, \(usage.item.limitWithGrace) allowed with grace")
            }
        }
        reconciledTotal += applied
        logger.notice("reconciliation: applied \(applied) of \(entries.count) records from \(source) again; the rest were here already or are not replayed")
    }

    private func shouldReapply(_ record: LogRecord) -> Bool {
        let state = service.state
        switch record {
        case .grant(let grant):
            if reconciledGrantIds.contains(grant.grantId) || ((try? service.store.hasGrant(grant.grantId)) ?? true) { return false }
            if let requestId = grant.requestId,
               state.requests[LicenseState.RequestKey(clientUUID: grant.clientUUID, requestId: requestId)] != nil {
                return false
            }
            return true
        case .renewLease(let grantId, let expiresAt, _):
            return (state.leases[grantId]?.expiresAt ?? .max) < expiresAt
        case .releaseLease(let grantId, _):
            return state.leases[grantId] != nil
        case .importLicense(let bytes, _, _):
            guard let file = try? LicenseFile.parse(bytes) else { return false }
            return state.licenses[file.licenseId] == nil
        case .putHandshake, .deleteHandshake:
            return true
        case .expire, .setAdminPassword, .tallyCalls, .alerts, .alertDelivery, .setAlertSettings:
            return false
        }
    }
}
