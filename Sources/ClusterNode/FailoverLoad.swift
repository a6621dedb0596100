import Foundation
import Transport

/// Continuous authorizations against a pair from worker threads (blocking
/// HTTPS calls), each failing over like a client: on a refusal as standby
/// (421), a 503 or a lost connection it tries the other node, retrying the
/// same `requestId` until a node answers with a grant. For `lts bench
/// failover` and the pair's process tests.
///
/// Invariant: `acknowledged` holds exactly the (requestId → grantId) pairs a
/// node answered 200; a request is never given up while the load runs.
final class FailoverLoad: @unchecked Sendable {
    /// Wait before retrying after both nodes failed, so a dead pair is not spun on.
    static let retryPauseMicroseconds: UInt32 = 20_000
    /// A stopped node must not hold a worker for long.
    static let callTimeoutMs = 1_000

    /// The authorize URLs of the two nodes and how to trust each.
    private let urls: [String]
    private let trusts: [TLSTrust]
    private let code: String
    private let product: String
    private let lock = NSCondition()
    private var grants: [String: String] = [:]
    private var lastSuccess: Date?
    private var largestGapSeconds = 0.0
    private var running = true
    private let group = DispatchGroup()

    /// Starts `workers` threads.
    /// - Parameter servers: the two nodes' base URLs (`https://…/dls/`) and how to trust each.
    init(servers: [(url: String, trust: TLSTrust)], code: String, product: String = "dbr", workers: Int = 4) {
        precondition(servers.count == 2, "a pair has two nodes")
        urls = servers.map { $0.url + ($0.url.hasSuffix("/") ? "" : "/") + "api/v1/authorize" }
        trusts = servers.map(\.trust)
        self.code = code
        self.product = product
        for worker in 0..<workers {
            DispatchQueue.global().async(group: group) { self.work(worker) }
        }
    }

    private func work(_ worker: Int) {
        var node = 0
        var sequence = 0
        let clients = trusts.map { HTTPClient(trust: $0, timeoutMs: Self.callTimeoutMs) }
        while isRunning {
            sequence += 1
            let requestId = "w\(worker)-\(sequence)"
            let body = Data("{\"handshakeCode\":\(JSONText.quote(code)),\"clientUUID\":\"worker-\(worker)\",\"product\":\(JSONText.quote(product)),\"requestId\":\"\(requestId)\"}".utf8)
            var failures = 0
            while isRunning {
                let response = try? clients[node].send("POST", urls[node], body: body)
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
    func waitForMore(_ count: Int, timeoutSeconds: Double = 30) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let target = grants.count + count
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while grants.count < target {
            guard lock.wait(until: deadline) else { return false }
        }
        return true
    }

    /// The largest gap between two acknowledged grants since `resetGap`, in seconds.
    var largestGap: Double {
        lock.lock()
        defer { lock.unlock() }
        return largestGapSeconds
    }

    /// Forgets the gaps seen so far (before a fault is injected).
    func resetGap() {
        lock.lock()
        largestGapSeconds = 0
        lock.unlock()
    }

    /// Stops the workers and waits for them; returns what was acknowledged
    /// and the largest gap between two acknowledged grants.
    func stop() -> (acknowledged: [String: String], largestGapSeconds: Double) {
        lock.lock()
        running = false
        lock.unlock()
        group.wait()
        lock.lock()
        defer { lock.unlock() }
        return (grants, largestGapSeconds)
    }
}
