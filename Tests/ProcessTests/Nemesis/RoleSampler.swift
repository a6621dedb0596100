import Foundation
import LTSTestSupport
import Platform

/// One health answer: what a node said it was, and when.
struct RoleSample {
    let node: Int
    /// When the answer arrived: the node held `role` in `term` by then.
    let at: Date
    let role: String
    let term: Int
}

/// Asks each node of a pair for its health every `interval`, each node on a
/// thread of its own (a paused node delays only its own samples), from the
/// test's namespace (which reaches both nodes whatever the clients'
/// cut). A node that does not answer gives no sample.
///
/// Invariant: `stop()` returns every answered sample, and no thread runs after it.
final class RoleSampler: @unchecked Sendable {
    static let interval = 0.1
    /// How old a node's latest answer may be and still say what it is now:
    /// three sampling periods.
    static let freshSeconds = 3 * interval
    static let timeoutMs = 500

    private let lock = NSLock()
    private var samples: [RoleSample] = []
    private var running = true
    private let group = DispatchGroup()

    /// Starts sampling the nodes at `healthURLs` (by index), each trusted by its fingerprint.
    init(healthURLs: [String], fingerprints: [[UInt8]]) {
        for (node, url) in healthURLs.enumerated() {
            let client = HTTPClient(trust: .pinnedSHA256(fingerprints[node]), timeoutMs: Self.timeoutMs, connectTimeoutMs: Self.timeoutMs)
            group.enter()
            Thread.detachNewThread { [self] in
                defer { group.leave() }
                while isRunning {
                    let asked = Date()
                    if let health = try? client.send("GET", url).json, let role = health["role"] as? String, let term = health["term"] as? Int {
                        append(RoleSample(node: node, at: Date(), role: role, term: term))
                    }
                    Thread.sleep(until: asked.addingTimeInterval(Self.interval)) // The sampling period.
                }
            }
        }
    }

    private var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return running
    }

    private func append(_ sample: RoleSample) {
        lock.lock()
        samples.append(sample)
        lock.unlock()
    }

    func stop() -> [RoleSample] {
        lock.lock()
        running = false
        lock.unlock()
        group.wait()
        lock.lock()
        defer { lock.unlock() }
        return samples.sorted { $0.at < $1.at }
    }
}
