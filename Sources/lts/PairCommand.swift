import ArgumentParser
import OperatorTools

/// `lts pair`: a demo main + standby pair on this machine, with a vendor
/// key, an admin password and the demo license imported, ready for drills.
///
/// Invariant: both nodes run as supervised child `lts serve` processes (one
/// that dies is started again); the command ends only after both have
/// stopped (Ctrl-C or SIGTERM stops them gracefully), and exits non-zero if
/// either could not start.
struct PairCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pair",
        abstract: "Run a demo main + standby pair on 127.0.0.1.",
        discussion: """
        The main listens on --port, the standby on --port + 1, with their data, configuration, \
        certificates, a demo vendor key, license file and admin password under --dir (kept between \
        runs). The admin password is set and the demo license imported on first start. A node that \
        dies (a failover drill kills one) is started again after a second. Ctrl-C stops both. \
        With --witness, a witness runs on --port + 2 too (its files under --dir/witness).
        """
    )

    @Option(name: .long, help: "The directory for both nodes, the vendor key and the demo license.")
    var dir = "lts-pair"

    @Option(name: .long, help: "The main's port; the standby takes the next one.")
    var port = 48080

    @Option(name: .long, help: "sync or async replication.")
    var replication = "sync"

    @Flag(name: .long, help: "Leave the admin password unset and the demo license unimported (the portal's first visit).")
    var noSetup = false

    @Flag(name: .long, help: "Also run a witness (lts witness) on --port + 2, which decides the pair's terms: a cut link then never makes two primaries.")
    var witness = false

    func validate() throws {
        guard (1...(witness ? 65533 : 65534)).contains(port) else { throw ValidationError("--port must be 1 to \(witness ? 65533 : 65534)") }
        guard ["sync", "async"].contains(replication) else { throw ValidationError("--replication must be sync or async") }
    }

    func run() throws {
        try DemoPair(directory: dir, port: port, replication: replication, setUp: !noSetup, witness: witness).run()
    }
}
