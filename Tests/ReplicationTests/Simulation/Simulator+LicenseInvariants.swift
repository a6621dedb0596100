import LicenseState
import Replication

/// The license properties of the converged pair: what clients were told
/// holds in the final log, whatever failed over, split or came late.
extension Simulator {
    /// After the quiet phase, on the final log `primary` and `standby` share:
    /// - both states are the replay of the log;
    /// - no request holds two live (not voided) grants;
    /// - every grant a client took is live and is what a repeat returns;
    ///   no request whose client took a refusal holds a live grant;
    /// - the item's use is the sum of its live grants (voids gave back
    ///   exactly what they voided), and so is each code's share of it;
    /// - every request with an answer in a reconciliation queue has an
    ///   answer in the final state (the queue was weighed, not lost).
    func checkLicenses(primary: SimulatedNode, standby: SimulatedNode) {
        var replayed = baseState
        var replayedRequests = RequestBook()
        var grants: [String: Grant] = [:]
        // A grant is live after its last grant record, voided after its last void.
        var voided = Set<String>()
        var voids = 0
        for entry in primary.log {
            replayed.apply(entry.record)
            replayedRequests.apply(entry.record)
            switch entry.record {
            case .grant(let grant):
                if grants.updateValue(grant, forKey: grant.grantId) != nil { stats.regrants += 1 }
                voided.remove(grant.grantId)
            case .voidGrant(let grant, _):
                voided.insert(grant.grantId)
                voids += 1
            default: break
            }
        }
        guard replayed == primary.state, replayed == standby.state, replayedRequests == primary.requests,
              replayedRequests == standby.requests else {
            return fail("a node's license state is not the replay of its log")
        }
        stats.voids += voids
        let live = grants.values.filter { !voided.contains($0.grantId) && $0.itemId == SimulatedClients.itemId }
        var liveByRequest: [LicenseState.RequestKey: Grant] = [:]
        for grant in live {
            guard let key = grant.requestKey else { continue }
            if let other = liveByRequest.updateValue(grant, forKey: key) {
                return fail("request \(key.requestId) holds two live grants, \(other.grantId) and \(grant.grantId)")
            }
        }
        for (key, answer) in clients.accepted.sorted(by: { $0.key.requestId < $1.key.requestId }) {
            let remembered = replayedRequests.answer(for: key)
            switch answer.outcome {
            case .granted(let grant):
                guard liveByRequest[key]?.grantId == grant.grantId else {
                    return fail("the client of \(key.requestId) holds grant \(grant.grantId) (attempt \(answer.attempt)), but the final log's live grant is \(liveByRequest[key]?.grantId ?? "none")")
                }
                guard case .granted(let held) = remembered, held.grantId == grant.grantId else {
                    return fail("a repeat of \(key.requestId) would not return grant \(grant.grantId), which its client holds")
                }
            case .refused(let error):
                if let charged = liveByRequest[key] {
                    return fail("the client of \(key.requestId) was refused (\(error.code), attempt \(answer.attempt)), yet grant \(charged.grantId) charges it")
                }
                if case .granted(let grant) = remembered {
                    return fail("the client of \(key.requestId) was refused, yet a repeat would return grant \(grant.grantId)")
                }
            }
        }
        let used = replayed.used(SimulatedClients.itemId, now: SimulatedClients.callTime)
        let charged = live.reduce(Int64(0)) { $0 + $1.amount }
        guard used == charged else { return fail("the item's use is \(used), its live grants charge \(charged)") }
        let chargedByCode = Dictionary(grouping: live, by: \.handshakeCode).mapValues { $0.reduce(Int64(0)) { $0 + $1.amount } }
            .filter { $0.value != 0 }
        let split = replayed.usedByCode(SimulatedClients.itemId, now: SimulatedClients.callTime)
        guard split.byCode == chargedByCode, split.unattributed == 0, split.total == used else {
            return fail("the item's use by code is \(split.byCode) (\(split.unattributed) unattributed), its live grants charge \(chargedByCode)")
        }
        if let item = replayed.items[SimulatedClients.itemId]?.item, used > item.limitWithGrace { stats.overruns += 1 }
        for key in everTruncatedRequests.sorted(by: { $0.requestId < $1.requestId }) where replayedRequests.answer(for: key) == nil {
            return fail("request \(key.requestId) had an answer in a reconciliation queue and has none in the final log")
        }
    }
}
