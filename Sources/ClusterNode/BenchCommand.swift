import ArgumentParser
import Foundation
import Transport

/// `lts bench`: load generators that print their numbers.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure a node under load.",
        subcommands: [Authorize.self, Failover.self]
    )

    /// `lts bench authorize`
    struct Authorize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Authorization throughput and latency: keep-alive HTTPS clients calling authorize in a loop.",
            discussion: "The handshake code should draw on a scan item with a large quantity; every grant consumes one scan."
        )

        @Option(name: .long, help: "The node's URL, e.g. https://127.0.0.1:48080/dls/")
        var server: String

        @Option(name: .long, help: "The handshake code to authorize under, or a comma-separated list: client i uses code i mod n.")
        var code: String

        /// The codes of `--code`, in order.
        var codes: [String] { code.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }

        @Option(name: .long, help: "The product to ask for.")
        var product = "dbr"

        @Option(name: .long, help: "Concurrent connections.")
        var clients = 64

        @Option(name: .long, help: "How long to run.")
        var seconds = 20

        @OptionGroup var trust: TrustOptions

        @Flag(name: .long, help: "Print one JSON object instead of text.")
        var json = false

        func validate() throws {
            guard (1...10_000).contains(clients) else { throw ValidationError("--clients must be 1 to 10000") }
            guard (1...3600).contains(seconds) else { throw ValidationError("--seconds must be 1 to 3600") }
            guard !codes.isEmpty else { throw ValidationError("--code must name at least one handshake code") }
        }

        func run() throws {
            guard let url = URLComponents(string: server), url.host != nil, let scheme = url.scheme else {
                throw ValidationError("--server must be a URL like https://127.0.0.1:48080/dls/")
            }
            let loop = EventLoop()
            var tls: TLSClientContext?
            if scheme == "https" { tls = try TLSClientContext(trust: try trust.resolve()) }
            var result: AuthorizeLoad.Summary?
            let load = AuthorizeLoad(loop: loop, url: url, tls: tls, codes: codes, product: product)
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
                print("authorize: \(clients) clients, \(String(format: "%.1f", elapsed)) s, \(server)")
                print("  grants/s   \(Int(rate))  (\(counts))")
                print(String(format: "  latency    p50 %.2f ms, p99 %.2f ms, max %.2f ms", p50, p99, maxMs))
                if let firstError = summary.firstError { print("  first error: \(firstError)") }
            }
            if summary.grants == 0 { throw ExitCode(1) }
        }
    }
}
