import ArgumentParser
import Foundation
import Platform
import Transport

/// `lts bench authorize`: runs an `AuthorizeLoad` on its own loop for a
/// while and prints its grants per second and latencies.
public struct AuthorizeBench {
    let server: String
    let codes: [String]
    let product: String
    let clients: Int
    let seconds: Int
    let json: Bool
    let requestIds: Bool

    public init(server: String, codes: [String], product: String, clients: Int, seconds: Int, json: Bool, requestIds: Bool = true) {
        self.server = server
        self.codes = codes
        self.product = product
        self.clients = clients
        self.seconds = seconds
        self.json = json
        self.requestIds = requestIds
    }

    public func run(trust: () throws -> TLSTrust) throws {
        guard let url = URLComponents(string: server), url.host != nil, let scheme = url.scheme else {
            throw ValidationError("--server must be a URL like https://127.0.0.1:48080/dls/")
        }
        let loop = EventLoop()
        var tls: TLSClientContext?
        if scheme == "https" { tls = try TLSClientContext(trust: try trust()) }
        var result: AuthorizeLoad.Summary?
        let load = AuthorizeLoad(loop: loop, url: url, tls: tls, codes: codes, product: product, requestIds: requestIds)
        let start = LoopTimer(loop: loop, delayMs: 0) {
            load.run(clients: clients, seconds: seconds) { summary in
                result = summary
                loop.stop()
            }
        }
        loop.run()
        start.cancel()
        loop.close()
        guard let summary = result else { throw ExitCode(1) }
        let elapsed = Double(summary.elapsedNs) / 1e9
        let rate = Double(summary.grants) / elapsed
        let p50 = summary.percentileMs(0.5)
        let p99 = summary.percentileMs(0.99)
        let maxMs = summary.percentileMs(1)
        if json {
            let fields: [String: Any] = ["grants": summary.grants, "grantsPerSecond": Int(rate), "refused": summary.refusals,
                                         "errors": summary.errors, "p50Ms": p50, "p99Ms": p99, "maxMs": maxMs]
            let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            let counts = "\(summary.grants) grants, \(summary.refusals) refused, \(summary.errors) errors"
            print("authorize: \(clients) clients, \(String(format: "%.1f", elapsed)) s, \(requestIds ? "a new requestId per call" : "no requestIds"), \(server)")
            print("  grants/s   \(Int(rate))  (\(counts))")
            print(String(format: "  latency    p50 %.2f ms, p99 %.2f ms, max %.2f ms", p50, p99, maxMs))
            if let firstError = summary.firstError { print("  first error: \(firstError)") }
        }
        if summary.grants == 0 { throw ExitCode(1) }
    }
}
