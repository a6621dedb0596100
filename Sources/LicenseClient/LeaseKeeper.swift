import Foundation

/// Keeps leases of concurrent items alive in the background: each is
/// renewed (a heartbeat through the client, so it follows a failover like
/// any call) when a third of its life has passed; a renewal no server
/// answers is tried again a second later, while the lease may still live.
///
/// Invariant: a kept lease is renewed until `stop(grantId:)`, `close()`, or
/// a server says it is gone (then `onLost` is called once for it).
public final class LeaseKeeper: @unchecked Sendable {
    private struct Kept {
        var leaseSeconds: Int
        var dueAt: Date
    }

    private let client: LicenseClient
    private let condition = NSCondition()
    private var kept: [String: Kept] = [:]
    private var closed = false
    private var renewalsTotal = 0
    private var lastServer: String?
    /// Called on the keeper's thread when a server says a kept lease is gone.
    public var onLost: ((_ grantId: String, _ refusal: LicenseClient.Refusal) -> Void)?

    public init(client: LicenseClient) {
        self.client = client
        Thread.detachNewThread { [self] in run() }
    }

    /// Renews `grantId` from now on; its lease lives `leaseSeconds`.
    public func keep(grantId: String, leaseSeconds: Int) {
        condition.lock()
        kept[grantId] = Kept(leaseSeconds: leaseSeconds, dueAt: Self.due(leaseSeconds))
        condition.broadcast()
        condition.unlock()
    }

    public func stop(grantId: String) {
        condition.lock()
        kept[grantId] = nil
        condition.unlock()
    }

    /// Renewals that succeeded, and the server of the last one.
    public var renewals: (count: Int, lastServer: String?) {
        condition.lock()
        defer { condition.unlock() }
        return (renewalsTotal, lastServer)
    }

    public func close() {
        condition.lock()
        closed = true
        kept = [:]
        condition.broadcast()
        condition.unlock()
    }

    private static func due(_ leaseSeconds: Int) -> Date {
        Date().addingTimeInterval(max(1, Double(leaseSeconds) / 3))
    }

    private func run() {
        condition.lock()
        while !closed {
            guard let next = kept.min(by: { $0.value.dueAt < $1.value.dueAt }) else {
                condition.wait()
                continue
            }
            guard next.value.dueAt <= Date() else {
                condition.wait(until: next.value.dueAt)
                continue
            }
            let grantId = next.key
            condition.unlock()
            let outcome = Result { try client.heartbeat(grantId: grantId) }
            condition.lock()
            guard var lease = kept[grantId] else { continue }
            switch outcome {
            case .success(let renewal):
                renewalsTotal += 1
                lastServer = renewal.server
                if renewal.leaseSeconds > 0 { lease.leaseSeconds = renewal.leaseSeconds }
                lease.dueAt = Self.due(lease.leaseSeconds)
                kept[grantId] = lease
            case .failure(let refusal as LicenseClient.Refusal):
                kept[grantId] = nil
                condition.unlock()
                onLost?(grantId, refusal)
                condition.lock()
            case .failure:
                lease.dueAt = Date().addingTimeInterval(1)
                kept[grantId] = lease
            }
        }
        condition.unlock()
    }
}
