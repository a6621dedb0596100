import Foundation
import Transport

/// Continuous authorizations against a pair from worker threads, each
/// failing over like a client: on a refusal as standby (421), a 503 or a
/// lost connection it tries the other node, retrying the same `requestId`
/// until a node answers with a grant.
///
/// Invariant: `acknowledged` holds exactly the (requestId → grantId) pairs a
/// node answered 200; a request is never given up while the load runs.
public final class PairLoad: @unchecked Sendable {
    /// Wait before retrying after both nodes failed, so a dead pair is not spun on.
    public static let retryPauseMicroseconds: UInt32 = 20_000

    private let pair: NodePair
    private let code: String
    private let product: String
    private let lock = NSCondition()
    private var grants: [String: String] = [:]
    private var lastSuccess: Date?
    private var largestGapSeconds = 0.0
    private var running = true
    private let group = DispatchGroup()

    /// Starts `workers` threads.
    public init(pair: NodePair, code: String, product: String = "dbr", workers: Int = 4) {
        self.pair = pair
        self.code = code
        self.product = product
        for worker in 0..<workers {
            DispatchQueue.global().async(group: group) { self.work(worker) }
        }
    }

    private func work(_ worker: Int) {
        var node = 0
        var sequence = 0
        // A stopped node must not hold a worker for long.
        let clients = (0..<2).map { HTTPClient(trust: .pinnedSHA256(pair.nodes[$0].fingerprint), timeoutMs: 1_000) }
        while isRunning {
            sequence += 1
            let requestId = "w\(worker)-\(sequence)"
            let body = json(["handshakeCode": code, "clientUUID": "worker-\(worker)", "product": product, "requestId": requestId])
            var failures = 0
            while isRunning {
                let response = try? clients[node].send("POST", pair.nodes[node].url("/api/v1/authorize"), body: body)
                if response?.status == 200, let grantId = response?.json?["grantId"] as? String {
                    record(requestId, grantId)
                    break
                }
                node = 1 - node
                failures += 1
                if failures % 2 == 0 { usleep(Self.retryPauseMicroseconds) }
            }
        }
    }

    private var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return running
    }

    private func record(_ requestId: String, _ grantId: String) {
        lock.lock()
        let now = Date()
        if let last = lastSuccess { largestGapSeconds = max(largestGapSeconds, now.timeIntervalSince(last)) }
        lastSuccess = now
        grants[requestId] = grantId
        lock.broadcast()
        lock.unlock()
    }

    /// Waits until `count` more grants than now were acknowledged; false on timeout.
    public func waitForMore(_ count: Int, timeoutSeconds: Double = 30) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let target = grants.count + count
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while grants.count < target {
            guard lock.wait(until: deadline) else { return false }
        }
        return true
    }

    /// Forgets the gaps seen so far (before a fault is injected).
    public func resetGap() {
        lock.lock()
        largestGapSeconds = 0
        lock.unlock()
    }

    /// Stops the workers and waits for them; returns what was acknowledged
    /// and the largest gap between two acknowledged grants.
    public func stop() -> (acknowledged: [String: String], largestGapSeconds: Double) {
        lock.lock()
        running = false
        lock.unlock()
        group.wait()
        lock.lock()
        defer { lock.unlock() }
        return (grants, largestGapSeconds)
    }
}
