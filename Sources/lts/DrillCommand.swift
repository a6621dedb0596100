import ArgumentParser
import OperatorTools
import Platform
import Transport

/// `lts drill failover|switchover`: proves, under a built-in client load,
/// that a pair survives a fault or hands over, and that no acknowledged
/// grant was lost or counted twice.
struct DrillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Run a failover or switchover drill against a pair under load and report what clients saw.",
        discussion: """
        Exit status: 0 when nothing acknowledged was lost and nothing was counted twice; 1 when \
        something was; 2 when the pair was not healthy before the drill or the drill could not run; \
        130 on Ctrl-C (the load is always stopped). The grants count against the license items of \
        the handshake code used: drill on a code meant for it (--code).
        """,
        subcommands: [DrillFailoverCommand.self, DrillSwitchoverCommand.self]
    )
}

/// What every drill needs: the pair, how to trust and log into it, the load.
struct DrillOptions: ParsableArguments {
    @Option(name: .long, help: "The pair's servers in order (main first), comma-separated.")
    var servers: String

    @Option(name: .long, help: "The admin password (the same on both nodes).")
    var password: String

    @Option(name: .long, help: "The directory of a pair started by `lts pair`: trust its certificates, find its pid files.")
    var pairDir: String?

    @OptionGroup var trust: TrustOptions

    @Option(name: .long, help: "Concurrent clients of the built-in load.")
    var clients = 16

    @Option(name: .long, help: "The handshake code of the load (default: the primary's first).")
    var code: String?

    @Option(name: .long, help: "The product the load asks for (default: the product of the code's first item).")
    var product: String?

    @Option(name: .long, help: "Longest wait for any one step, in seconds.")
    var stepTimeout = 60.0

    @Flag(name: .long, help: "Print the report as one JSON object.")
    var json = false

    func validate() throws {
        guard (1...256).contains(clients) else { throw ValidationError("--clients must be 1 to 256") }
        guard urls.count == 2, Set(urls).count == 2 else { throw ValidationError("--servers names the two nodes of the pair") }
    }

    var urls: [String] { servers.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }

    /// As given, else the certificates of the `lts pair` in --pair-dir, else the system's CAs.
    func trusts() throws -> [TLSTrust] {
        if !trust.isGiven, let pairDir { return PairFiles.names.map { .caFile(pairDir + "/\($0)/data/tls/node.crt") } }
        return try trust.resolve(count: 2)
    }

    /// What the drill runs with.
    func settings() throws -> DrillSettings {
        DrillSettings(urls: urls, password: password, pairDir: pairDir, trusts: try trusts(), clients: clients, code: code, product: product,
                      stepTimeout: stepTimeout, json: json)
    }
}

struct DrillFailoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Inject a fault into the primary under load; wait for the standby to take over (and the old primary to rejoin).",
        discussion: """
        The fault is --fault-command, run with /bin/sh (e.g. 'ssh main sudo systemctl kill -s KILL lts'); \
        for a pair started by `lts pair` (--pair-dir) it is SIGKILL of the primary's pid from its pid file, \
        and `lts pair` starts the node again, so the drill also waits for it to rejoin. With \
        --restart-command the drill runs it after the takeover and waits for the rejoin.
        """
    )

    @OptionGroup var options: DrillOptions

    @Option(name: .long, help: "A shell command that injects the fault.")
    var faultCommand: String?

    @Option(name: .long, help: "A shell command that starts the failed node again.")
    var restartCommand: String?

    func validate() throws {
        guard faultCommand != nil || options.pairDir != nil else {
            throw ValidationError("give --fault-command, or --pair-dir for a pair started by `lts pair`")
        }
    }

    func run() throws {
        try Drill(settings: options.settings(), kind: "failover").failover(faultCommand: faultCommand, restartCommand: restartCommand)
    }
}

struct DrillSwitchoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchover",
        abstract: "Hand the primary role to the standby under load (and, with --back, back again)."
    )

    @OptionGroup var options: DrillOptions

    @Flag(name: .long, help: "Switch back to the first primary afterwards.")
    var back = false

    func run() throws {
        try Drill(settings: options.settings(), kind: "switchover").switchover(back: back)
    }
}
