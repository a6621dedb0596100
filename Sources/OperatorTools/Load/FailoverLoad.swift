import Foundation
import LicenseClient
import Platform
import Transport

/// Continuous authorizations against a pair from worker threads, each a
/// `LicenseClient` (so failing over as a real client does: the remembered
/// primary first, redirects followed, the same `requestId` on every retry
/// until a server answers). For `lts drill`, `lts bench failover` and the
/// pair's process tests.
///
/// Invariant: `acknowledged` holds exactly the (requestId → grantId) pairs a
/// server answered with a grant, with the time each answer arrived; a
/// request is never given up while the load runs.
final class FailoverLoad: @unchecked Sendable {
    /// Pause after a refusal, so a refused code is not spun on.
    static let refusalPauseMicroseconds: UInt32 = 20_000
    /// A stopped or paused node must not hold a worker for long.
    static let requestTimeoutMs = 1_000

    private let lock = NSCondition()
    private var grants: [String: String] = [:]
    /// When each grant was acknowledged, in order.
    private var times: [Date] = []
    private var lastSuccess: Date?
    private var largestGapSeconds = 0.0
    private var running = true
    private let group = DispatchGroup()

    /// Starts `workers` threads.
    /// - Parameters:
    ///   - servers: the two nodes' base URLs (`https://…/dls/`) and how to trust each.
    ///   - sessionPassword: sent with every call (a drill pass for the drill code).
    init(servers: [(url: String, trust: TLSTrust)], code: String, product: String = "dbr", sessionPassword: String? = nil, workers: Int = 4) {
        let tag = Crypto.randomUUID().prefix(8)
        for worker in 0..<workers {
            var settings = LicenseClient.Settings(servers: servers, handshakeCode: code, clientUUID: "load-\(tag)-\(worker)")
            settings.sessionPassword = sessionPassword
            settings.requestTimeoutMs = Self.requestTimeoutMs
            settings.callDeadlineMs = 2_000
            let client = try? LicenseClient(settings: settings)
            precondition(client != nil, "a load needs one or two distinct servers")
            DispatchQueue.global().async(group: group) { self.work(client!, product: product) }
        }
    }

    private func work(_ client: LicenseClient, product: String) {
        while isRunning {
            let requestId = LicenseClient.newRequestId()
            while isRunning {
                do {
                    let grant = try client.authorize(product: product, requestId: requestId)
                    record(requestId, grant.grantId)
                    break
                } catch is LicenseClient.Refusal {
                    usleep(Self.refusalPauseMicroseconds)
                    break
                } catch {
                    // No server answered in time: the same request again.
                }
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
        times.append(now)
        lock.broadcast()
        lock.unlock()
    }

    /// Waits until `count` more grants than now were acknowledged; false on timeout.
    func waitForMore(_ count: Int, timeoutSeconds: Double = 30) -> Bool {
        waitUntil(acknowledged + count, timeoutSeconds: timeoutSeconds)
    }

    /// Grants acknowledged so far.
    var acknowledged: Int {
        lock.lock()
        defer { lock.unlock() }
        return grants.count
    }

    /// The grants acknowledged so far (requestId → grantId), while the load goes on.
    var acknowledgedGrants: [String: String] {
        lock.lock()
        defer { lock.unlock() }
        return grants
    }

    /// Waits until `target` grants in all were acknowledged; false on
    /// timeout. A caller that polls in short slices (to notice Ctrl-C) fixes
    /// the target once: counting afresh in each slice would ask for the
    /// whole count within one slice, a rate a slower load never reaches.
    func waitUntil(_ target: Int, timeoutSeconds: Double) -> Bool {
        lock.lock()
        defer { lock.unlock() }
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

    /// When the first grant acknowledged at or after `moment` arrived, if one did.
    func firstAcknowledged(atOrAfter moment: Date) -> Date? {
        lock.lock()
        defer { lock.unlock() }
        return times.first { $0 >= moment }
    }

    /// Grants acknowledged before `start`, in `[start, end)`, and from `end` on.
    func counts(splitAt start: Date, _ end: Date) -> (before: Int, during: Int, after: Int) {
        lock.lock()
        defer { lock.unlock() }
        let before = times.filter { $0 < start }.count
        let during = times.filter { $0 >= start && $0 < end }.count
        return (before, during, times.count - before - during)
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
