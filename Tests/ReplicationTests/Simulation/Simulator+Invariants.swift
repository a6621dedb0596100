import LicenseState
import Replication

/// The properties a run must keep, checked after every step and at the end.
extension Simulator {
    /// After every step: fencing, durability of acknowledged records, and
    /// each node's agreement with its own store.
    func checkStep() {
        for node in nodes {
            guard let replica = node.replica else { continue }
            // A promotion counts once its term is durable: before that the
            // node sends nothing and takes no write (its effects wait), and
            // a crash undoes it.
            if replica.role == .primary, node.durable.term >= replica.term {
                if let holder = primaryOfTerm[replica.term] {
                    if holder != (node.index, node.boots) {
                        fail("node \(node.index) (boot \(node.boots)) is primary in term \(replica.term), which node \(holder.node) (boot \(holder.boot)) held")
                    }
                } else {
                    primaryOfTerm[replica.term] = (node.index, node.boots)
                    stats.primaryTerms += 1
                }
                if replica.degraded { stats.degradedSteps += 1 }
            }
            if node.durable.term > replica.term {
                fail("node \(node.index) persisted term \(node.durable.term) above its replica's \(replica.term)")
            }
            if replica.flushedLsn > UInt64(node.durable.log.count) {
                fail("node \(node.index) believes lsn \(replica.flushedLsn) durable, but \(node.durable.log.count) are")
            }
            if !node.effectsPending, replica.history != node.logHistory {
                fail("node \(node.index): replica history \(replica.history.starts) last \(replica.history.lastLsn) differs from its log \(node.logHistory.starts) last \(node.logHistory.lastLsn)")
            }
        }
        checkSingleWriter()
        if durabilityCheckDue {
            durabilityCheckDue = false
            var durableIds = Set<UInt64>()
            for node in nodes {
                durableIds.formUnion(node.durable.log.lazy.map(\.id))
                durableIds.formUnion(node.durable.queue.lazy.map(\.id))
            }
            for (id, entry) in acknowledged where !durableIds.contains(id) {
                fail("acknowledged g\(id) (at \(entry.position)) is in no durable log or reconciliation queue")
            }
        }
    }

    /// When node `acker` acknowledged `entry` in sync mode without being
    /// degraded, the standby must hold it durably too.
    func checkSyncAcknowledgement(_ entry: SimulatedEntry, by acker: SimulatedNode) {
        guard config.mode == .sync, !(acker.replica?.degraded ?? false) else { return }
        let peer = nodes[1 - acker.index].durable
        let onPeer = peer.log.count >= entry.lsn && peer.log[Int(entry.lsn) - 1] == entry
        if !onPeer, !peer.queue.contains(where: { $0.id == entry.id }) {
            fail("sync primary \(acker.index) acknowledged g\(entry.id) at \(entry.position), which the standby does not hold durably")
        }
    }

    /// After the quiet phase: one primary, one attached standby, the same
    /// log on both, and every record that must survive in it once.
    func checkConverged() {
        guard nodes.allSatisfy(\.isUp) else { return fail("a node is down after the quiet phase") }
        let roles = nodes.map { "\($0.role!.rawValue)@\($0.replica!.term)" }
        let primaries = nodes.filter { $0.role == .primary }
        guard primaries.count == 1 else { return fail("after the quiet phase the roles are \(roles), not one primary") }
        let primary = primaries[0]
        let standby = nodes[1 - primary.index]
        guard standby.replica!.term == primary.replica!.term, standby.replica!.attached else {
            return fail("after the quiet phase the standby is not attached (roles \(roles))")
        }
        for node in nodes where !node.isQuiescent { return fail("node \(node.index) is still busy after the quiet phase") }
        guard primary.log == standby.log else {
            let common = zip(primary.log, standby.log).prefix { $0 == $1 }.count
            return fail("logs differ after lsn \(common): primary \(primary.index) has \(Transcript.describe(Array(primary.log.dropFirst(common).prefix(4)))), standby \(Transcript.describe(Array(standby.log.dropFirst(common).prefix(4))))")
        }
        for node in nodes {
            guard node.durable.log == node.log else { return fail("node \(node.index): log not all durable after the quiet phase") }
            guard node.durable.queue.isEmpty else {
                return fail("node \(node.index): reconciliation queue still holds \(Transcript.describe(node.durable.queue))")
            }
        }
        let finalIds = primary.log.map(\.id)
        let present = Set(finalIds)
        guard present.count == finalIds.count else {
            var seen = Set<UInt64>()
            let twice = finalIds.first { !seen.insert($0).inserted }!
            return fail("g\(twice) appears twice in the final log")
        }
        for (id, entry) in acknowledged.sorted(by: { $0.key < $1.key }) where !present.contains(id) {
            return fail("acknowledged g\(id) (at \(entry.position)) is not in the final log")
        }
        for id in everTruncated.sorted() where !present.contains(id) {
            return fail("g\(id) was moved to a reconciliation queue and is not in the final log")
        }
        guard primary.replica!.commitLsn == primary.replica!.lastLsn else {
            return fail("after the quiet phase the primary acknowledged through \(primary.replica!.commitLsn) of \(primary.replica!.lastLsn)")
        }
        checkLicenses(primary: primary, standby: standby)
    }
}
