import Replication

/// One-line, stable descriptions of effects and messages, shared by the
/// scenario transcripts and the simulation's step trace.
///
/// Invariant: a description names every field that a reader needs to tell two
/// different effects apart (entries show `lsn@term:g<record ID>`).
enum Transcript {
    static func describe(_ effect: ReplicaEffect) -> String {
        switch effect {
        case .persistTerm(let term): return "persist term=\(term)"
        case .truncate(let lsn): return "truncate after=\(lsn)"
        case .write(let entries): return "write \(describe(entries))"
        case .send(let message): return "send \(describe(message))"
        case .sendAppend(let session, let prevLsn, let prevTerm, let throughLsn, let commitLsn):
            return "send-append session=\(session) prev=\(prevLsn)@\(prevTerm) through=\(throughLsn) commit=\(commitLsn)"
        case .sendReconcile(let session): return "send-reconcile session=\(session)"
        case .reconcile(let session, let entries, let round): return "reconcile session=\(session) round=\(round) \(describe(entries))"
        case .reconcileOwnQueue: return "reconcile-own-queue"
        case .clearReconcileQueue: return "clear-reconcile-queue"
        case .roleChanged(let role, let term): return "role \(role.rawValue) term=\(term)"
        case .ackClients(let lsn): return "ack-clients upTo=\(lsn)"
        case .discardLog(let lsn): return "discard-log queueAfter=\(lsn)"
        case .refuseDivergence(let matchLsn, let compactedLsn): return "refuse-divergence match=\(matchLsn) compacted=\(compactedLsn)"
        case .checkpoint(let lsn, let compactThrough): return "checkpoint at=\(lsn) compactThrough=\(compactThrough)"
        case .prepareSnapshot(let session): return "prepare-snapshot session=\(session)"
        case .sendSnapshotChunk(let session, let id, let offset, let count, let totalBytes):
            return "send-snapshot-chunk session=\(session) id=\(id) offset=\(offset) count=\(count) total=\(totalBytes)"
        case .snapshotSent(let session): return "snapshot-sent session=\(session)"
        case .writeSnapshotChunk(let offset, let bytes): return "write-snapshot-chunk offset=\(offset) count=\(bytes.count)"
        case .installSnapshot(let totalBytes): return "install-snapshot total=\(totalBytes)"
        case .askWitness(let claim): return "ask-witness \(describe(claim))"
        }
    }

    /// The trace line of a shell input, or nil for records the node logged
    /// itself (its own line, such as `client g1 at 1@2`, came before).
    static func describe(_ input: ReplicaShell.Input) -> String? {
        switch input {
        case .tick(let nowMs): return "tick now=\(nowMs)"
        case .receive(let message): return "receive \(describe(message))"
        case .flushed(let position): return "flushed \(position)"
        case .logged: return nil
        case .switchover: return "switchover"
        case .snapshotPrepared(let session, let totalBytes): return "snapshot prepared session=\(session) bytes=\(totalBytes)"
        case .snapshotUnavailable(let session): return "snapshot unavailable session=\(session)"
        case .snapshotRefused: return "snapshot refused"
        case .installedSnapshot: return "installed snapshot"
        case .reconciled(let session, let throughLsn, let round): return "reconciled session=\(session) through=\(throughLsn) round=\(round)"
        case .reconcileQueueRemains: return "reconcile queue remains"
        case .witnessAnswered(let claim, let answer):
            guard let answer else { return "witness: no answer to \(describe(claim))" }
            return "witness: \(answer.granted ? "granted" : "refused") \(describe(claim)) highest=\(answer.highestTerm) holder=\(answer.holder.map(String.init) ?? "-") left=\(answer.leaseRemainingMs)"
        }
    }

    static func describe(_ message: ReplicationMessage) -> String {
        switch message {
        case .hello(let term, let session, let nodeIndex, let history):
            return "hello term=\(term) session=\(session) node=\(nodeIndex) last=\(history.last)"
        case .append(let term, let session, let prevLsn, let prevTerm, let entries, let commitLsn):
            return "append term=\(term) session=\(session) prev=\(prevLsn)@\(prevTerm) \(describe(entries)) commit=\(commitLsn)"
        case .heartbeat(let term, let session, let commitLsn, let sentLsn, let sentAtMs):
            return "heartbeat term=\(term) session=\(session) commit=\(commitLsn) sent=\(sentLsn)" + (sentAtMs > 0 ? " at=\(sentAtMs)" : "")
        case .ack(let term, let session, let flushedLsn, let heardAtMs):
            return "ack term=\(term) session=\(session) flushed=\(flushedLsn)" + (heardAtMs > 0 ? " heard=\(heardAtMs)" : "")
        case .diverged(let term, let session, let matchLsn): return "diverged term=\(term) session=\(session) match=\(matchLsn)"
        case .reconcile(let term, let session, let entries, let round):
            return "reconcile term=\(term) session=\(session) round=\(round) \(describe(entries))"
        case .reconciled(let term, let session, let throughLsn, let round):
            return "reconciled term=\(term) session=\(session) through=\(throughLsn) round=\(round)"
        case .handover(let term, let session, let lastLsn): return "handover term=\(term) session=\(session) last=\(lastLsn)"
        case .snapshotChunk(let term, let session, let id, let offset, let totalBytes, let bytes):
            return "snapshot-chunk term=\(term) session=\(session) id=\(id) offset=\(offset) count=\(bytes.count) total=\(totalBytes)"
        case .snapshotAck(let term, let session, let receivedBytes):
            return "snapshot-ack term=\(term) session=\(session) received=\(receivedBytes)"
        }
    }

    static func describe(_ claim: WitnessClaim) -> String {
        "\(claim.release ? "release" : "claim")#\(claim.id) node=\(claim.node) term=\(claim.term) hold=\(claim.holdMs)"
    }

    static func describe(_ entries: [ReplicatedEntry]) -> String {
        describe(entries.map(SimulatedEntry.init(replicated:)))
    }

    static func describe(_ entries: [SimulatedEntry]) -> String {
        "[" + entries.map(\.description).joined(separator: " ") + "]"
    }
}
