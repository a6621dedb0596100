import ArgumentParser
import OperatorTools
import Transport

/// `lts alerts`: usage alert tools.
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Usage alert tools.",
        subcommands: [AlertsTestCommand.self]
    )
}

/// `lts alerts test`: has the primary send a test email to the alert
/// recipients now, and says whether the mail server took it.
///
/// Exit status: 0 the mail server took the email, 1 the node could not send
/// it (the message says why), 4 no server answered.
struct AlertsTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Send a test email to the usage alert recipients through the primary.",
        discussion: "Example: lts alerts test --servers https://127.0.0.1:48080/dls/,https://127.0.0.1:48081/dls/ --password … --cacert main.crt,standby.crt"
    )

    @Option(name: .long, help: "The node, or the pair's servers in order, comma-separated; the primary sends.")
    var servers: String

    @Option(name: .long, help: "The admin password.")
    var password: String

    @OptionGroup var trust: TrustOptions

    func run() throws {
        try AlertTest(servers: servers, password: password).run(trust: trust.resolve(count:))
    }
}
