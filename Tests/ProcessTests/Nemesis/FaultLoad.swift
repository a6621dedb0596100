import Foundation
import LicenseClient
import LTSTestSupport
import Platform

/// One final answer a server gave to an authorize call.
struct RecordedAnswer {
    enum Outcome: Equatable {
        case granted(grantId: String, term: Int)
        case refused(code: Int)
    }

    let requestId: String
    let outcome: Outcome
    /// The index of the node that answered.
    let node: Int
    let at: Date
}

/// The client load of a fault run: worker threads, each a `LicenseClient`
/// of both nodes (so failing over as a real client does: the remembered
/// primary first, 421 redirects followed, the other node tried on a
/// timeout), each call with a new requestId that every retry repeats until
/// a server answers. Scan workers ask for a scan item that never runs out;
/// seat workers hold a few leases of a small concurrent item for a moment
/// each and release them, so the item is often full and calls are refused
/// (-20120).
///
/// Invariant: `answers` holds every final answer a server gave, in the
/// order they arrived, with the requestId it answered; `leaseChanges` holds
/// +1 when a lease grant arrived and -1 when its release was first sent, so
/// their running sum never exceeds the leases the servers counted at once.
final class FaultLoad: @unchecked Sendable {
    static let scanWorkers = 6
    static let seatWorkers = 4
    static let leasesPerSeatWorker = 3
    /// How long a seat worker holds a lease before it releases it.
    static let holdMs: ClosedRange<UInt64> = 300...1_500
    /// Pause after a refusal, so a full item is not spun on.
    static let refusalPauseMicroseconds: UInt32 = 50_000
    /// A stopped, paused or cut node must not hold a worker for long.
    static let requestTimeoutMs = 1_000
    static let callDeadlineMs = 2_000

    private let lock = NSCondition()
    private var recorded: [RecordedAnswer] = []
    private var grantCount = 0
    private var changes: [(at: Date, delta: Int)] = []
    private var failures: [String] = []
    private var running = true
    private let group = DispatchGroup()
    private let urls: [String]

    /// Starts the workers, each on a thread of its own that first runs `enter`
    /// (to move into the clients' network namespace).
    init(servers: [(url: String, trust: TLSTrust)], code: String, scanProduct: String, seatProduct: String, seed: UInt64,
         enter: @escaping @Sendable () throws -> Void) {
        urls = servers.map(\.url)
        for worker in 0..<(Self.scanWorkers + Self.seatWorkers) {
            var settings = LicenseClient.Settings(servers: servers, handshakeCode: code, clientUUID: "nemesis-\(seed)-\(worker)")
            settings.requestTimeoutMs = Self.requestTimeoutMs
            settings.callDeadlineMs = Self.callDeadlineMs
            let client = try! LicenseClient(settings: settings)
            group.enter()
            Thread.detachNewThread { [self] in
                defer { group.leave() }
                do {
                    try enter()
                } catch {
                    fail("worker \(worker) cannot start: \(error)")
                    return
                }
                if worker < Self.scanWorkers {
                    scan(client, product: scanProduct)
                } else {
                    var random = SplitMix64(seed: seed &+ UInt64(worker))
                    holdSeats(client, product: seatProduct, random: &random)
                }
            }
        }
    }

    private func scan(_ client: LicenseClient, product: String) {
        while isRunning { _ = authorize(client, product: product) }
    }

    private func holdSeats(_ client: LicenseClient, product: String, random: inout SplitMix64) {
        var held: [(grantId: String, until: Date)] = []
        while isRunning {
            let now = Date()
            for lease in held where lease.until <= now { release(client, lease.grantId) }
            held.removeAll { $0.until <= now }
            if held.count < Self.leasesPerSeatWorker {
                if let grantId = authorize(client, product: product) {
                    held.append((grantId, Date().addingTimeInterval(Double(random.uniform(Self.holdMs)) / 1_000)))
                }
            } else if let next = held.map(\.until).min() {
                Thread.sleep(until: next) // Holds the leases: a client's own pace, not a wait for an event.
            }
        }
        for lease in held { release(client, lease.grantId) }
    }

    /// One authorize call under a new requestId, retried until a server
    /// answers or the load stops; returns the grantId when granted.
    private func authorize(_ client: LicenseClient, product: String) -> String? {
        let requestId = LicenseClient.newRequestId()
        while isRunning {
            do {
                let grant = try client.authorize(product: product, requestId: requestId)
                record(RecordedAnswer(requestId: requestId, outcome: .granted(grantId: grant.grantId, term: grant.term),
                                      node: node(grant.server), at: Date()), leaseDelta: grant.leaseSeconds > 0 ? 1 : 0)
                return grant.grantId
            } catch let refusal as LicenseClient.Refusal {
                record(RecordedAnswer(requestId: requestId, outcome: .refused(code: refusal.code),
                                      node: node(client.rememberedServer), at: Date()), leaseDelta: 0)
                usleep(Self.refusalPauseMicroseconds)
                return nil
            } catch {
                // No server answered in time: the same request again.
            }
        }
        return nil
    }

    private func release(_ client: LicenseClient, _ grantId: String) {
        lock.lock()
        changes.append((Date(), -1))
        lock.unlock()
        // A release no server took leaves the lease to expire on its own.
        try? client.release(grantId: grantId)
    }

    private func node(_ server: String?) -> Int { urls.firstIndex { $0 == server } ?? -1 }

    private var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return running
    }

    private func record(_ answer: RecordedAnswer, leaseDelta: Int) {
        lock.lock()
        recorded.append(answer)
        if case .granted = answer.outcome { grantCount += 1 }
        if leaseDelta != 0 { changes.append((answer.at, leaseDelta)) }
        lock.broadcast()
        lock.unlock()
    }

    private func fail(_ message: String) {
        lock.lock()
        failures.append(message)
        lock.unlock()
    }

    /// Grants acknowledged so far.
    var acknowledged: Int {
        lock.lock()
        defer { lock.unlock() }
        return grantCount
    }

    /// Waits until `count` more grants than now were acknowledged; false on timeout.
    func waitForMore(_ count: Int, timeoutSeconds: Double = 30) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let target = grantCount + count
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while grantCount < target {
            guard lock.wait(until: deadline) else { return false }
        }
        return true
    }

    /// Stops the workers (each ends its call under way, then releases its
    /// leases) and waits for them.
    /// - Returns: every answer, the lease changes, and why workers could not start.
    func stop() -> (answers: [RecordedAnswer], leaseChanges: [(at: Date, delta: Int)], failures: [String]) {
        lock.lock()
        running = false
        lock.unlock()
        group.wait()
        lock.lock()
        defer { lock.unlock() }
        return (recorded, changes, failures)
    }
}
