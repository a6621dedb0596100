import ArgumentParser
import OperatorTools

/// `lts health`: asks one node for its health and prints it.
struct HealthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Show a node's role, term, log position and version.",
        discussion: "Exits 0 when the node answered, 1 otherwise."
    )

    @Option(name: .long, help: "The node's URL, e.g. https://127.0.0.1:48080/dls/")
    var server: String

    @OptionGroup var trust: TrustOptions

    @Flag(name: .long, help: "Print the JSON answer as it came.")
    var json = false

    func run() throws {
        try HealthCheck(server: server, json: json).run(trust: trust.resolve())
    }
}
