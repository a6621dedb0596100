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
        130 on Ctrl-C (the load is always stopped). The load runs on the drill item, which uses no \
        customer quota and stays out of usage statistics and alerts; with --code it runs on a customer's \
        handshake code instead and counts against its license items. The admin password comes from \
        --password, --password-file, the environment variable LTS_PASSWORD, or a prompt on the terminal. \
        The report is kept in the pair's log: GET /dls/api/admin/cluster/drills lists it on either node.
        """,
        subcommands: [DrillFailoverCommand.self, DrillSwitchoverCommand.self]
    )
}

/// What every drill needs: the pair, how to trust and log into it, the load.
struct DrillOptions: ParsableArguments {
    @Option(name: .long, help: "The pair's servers in order (main first), comma-separated.")
    var servers: String

    @Option(name: .long, help: "The admin password (the same on both nodes); prefer --password-file or LTS_PASSWORD.")
    var password: String?

    @Option(name: .long, help: "A file whose first line is the admin password.")
    var passwordFile: String?

    @Option(name: .long, help: "The directory of a pair started by `lts pair`: trust its certificates, find its pid files.")
    var pairDir: String?

    @OptionGroup var trust: TrustOptions

    @Option(name: .long, help: "Concurrent clients of the built-in load.")
    var clients = 16

    @Option(name: .long, help: "A customer's handshake code for the load, whose quota it then uses (default: the drill item, which uses none).")
    var code: String?

    @Option(name: .long, help: "The product the load asks for under --code (default: the product of the code's first item).")
    var product: String?

    @Option(name: .long, help: "How long the load runs in all, in seconds (at least): half before the fault or switchover, the rest after the takeover.")
    var seconds = 4.0

    @Option(name: .long, help: "Longest wait, in seconds, for a pair that is still electing a primary or attaching its standby.")
    var readyTimeout = 30.0

    @Option(name: .long, help: "Longest wait for any one step, in seconds.")
    var stepTimeout = 60.0

    @Flag(name: .long, help: "Print the report as one JSON object.")
    var json = false

    func validate() throws {
        guard (1...256).contains(clients) else { throw ValidationError("--clients must be 1 to 256") }
        guard urls.count == 2, Set(urls).count == 2 else { throw ValidationError("--servers names the two nodes of the pair") }
        // The load's drill pass lasts an hour, and each step may take --step-timeout besides.
        guard (0.5...1_800).contains(seconds) else { throw ValidationError("--seconds must be 0.5 to 1800") }
        guard (0...3_600).contains(readyTimeout) else { throw ValidationError("--ready-timeout must be 0 to 3600") }
        guard product == nil || code != nil else { throw ValidationError("--product goes with --code") }
        guard password == nil || passwordFile == nil else { throw ValidationError("give --password or --password-file, not both") }
    }

    var urls: [String] { servers.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }

    /// As given, else the certificates of the `lts pair` in --pair-dir, else the system's CAs.
    func trusts() throws -> [TLSTrust] {
        if !trust.isGiven, let pairDir { return PairFiles.names.map { .caFile(pairDir + "/\($0)/data/tls/node.crt") } }
        return try trust.resolve(count: 2)
    }

    /// What the drill runs with.
    func settings() throws -> DrillSettings {
        DrillSettings(urls: urls, password: try AdminPasswordSource.resolve(password: password, passwordFile: passwordFile), pairDir: pairDir,
                      trusts: try trusts(), clients: clients, code: code, product: product, seconds: seconds, readySeconds: readyTimeout,
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
