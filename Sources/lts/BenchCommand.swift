import ArgumentParser
import Foundation
import OperatorTools

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

        @Flag(name: .long, help: "Send calls without a requestId, which real clients never do (LicenseClient sends one per call, for retries): measures the node without remembering answers.")
        var withoutRequestIds = false

        func validate() throws {
            guard (1...10_000).contains(clients) else { throw ValidationError("--clients must be 1 to 10000") }
            guard (1...3600).contains(seconds) else { throw ValidationError("--seconds must be 1 to 3600") }
            guard !codes.isEmpty else { throw ValidationError("--code must name at least one handshake code") }
        }

        func run() throws {
            try AuthorizeBench(server: server, codes: codes, product: product, clients: clients, seconds: seconds, json: json,
                               requestIds: !withoutRequestIds).run(trust: trust.resolve)
        }
    }

    /// `lts bench failover`: rounds of SIGKILL of the primary of a local
    /// pair under continuous authorizations, with what clients saw.
    ///
    /// Invariant: every process it starts is stopped before it returns;
    /// it exits 1 when an acknowledged grant is missing at the end.
    struct Failover: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Kill the primary of a local pair under load, round after round, and report the outage.",
            discussion: """
            Starts a main + standby pair on 127.0.0.1 (--port and --port + 1) under a temporary \
            directory, imports a demo license and runs --clients failing-over clients. Each round \
            kills the primary with SIGKILL, waits for the standby to serve, restarts the killed node \
            as standby and waits until it caught up. Prints detection (the silence the standby \
            measured), promotion (kill until the standby answers as primary) and client-visible \
            outage (the largest gap between two acknowledged grants) as min/median/max, and the \
            acknowledged grants missing at the end (must be 0 in sync mode).
            """
        )

        @Option(name: .long, help: "Rounds of kill, failover and rejoin.")
        var rounds = 20

        @Option(name: .long, help: "Concurrent clients.")
        var clients = 16

        @Option(name: .long, help: "The main's port; the standby takes the next one.")
        var port = 48180

        @Option(name: .long, help: "sync or async replication.")
        var replication = "sync"

        @Flag(name: .long, help: "Give the pair a witness (on --port + 2): a takeover then needs its grant.")
        var witness = false

        @Flag(name: .long, help: "Print one JSON object instead of text.")
        var json = false

        func validate() throws {
            guard (1...1000).contains(rounds) else { throw ValidationError("--rounds must be 1 to 1000") }
            guard (1...256).contains(clients) else { throw ValidationError("--clients must be 1 to 256") }
            guard ["sync", "async"].contains(replication) else { throw ValidationError("--replication must be sync or async") }
        }

        func run() throws {
            try FailoverBench(rounds: rounds, clients: clients, port: port, replication: replication, witness: witness, json: json).run()
        }
    }
}
