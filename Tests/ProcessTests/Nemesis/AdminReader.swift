import Foundation
import LTSTestSupport
import Platform
import Transport

/// Reads a node's whole grant list (`limit=10000`) again and again as the
/// admin, for a while.
///
/// Invariant: `summary` counts every read made and the slowest.
final class AdminReader {
    private let node: NodeProcess
    private let client: HTTPClient
    private let token: String
    private var reads = 0, failures = 0, slowestSeconds = 0.0

    init(node: NodeProcess) throws {
        self.node = node
        client = HTTPClient(trust: .pinnedSHA256(node.fingerprint), timeoutMs: 30_000)
        let login = try client.send("POST", node.url("/api/admin/login"), body: json(["password": NodePair.adminPassword]))
        guard let token = login.json?["token"] as? String else { throw TransportError("login on \(node.host) failed: \(login.status)") }
        self.token = token
    }

    func read(forSeconds seconds: Double) {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            let started = Date()
            let response = try? client.send("GET", node.url("/api/admin/grants?since=0&limit=10000"), headers: ["Authorization": "Bearer \(token)"])
            if response?.status == 200 { reads += 1 } else { failures += 1 }
            slowestSeconds = max(slowestSeconds, Date().timeIntervalSince(started))
        }
    }

    var summary: String {
        "\(node.host): \(reads) grant lists read, \(failures) failed, slowest \(String(format: "%.2f", slowestSeconds)) s"
    }
}
