import ArgumentParser
import OperatorTools

/// `lts backup --server URL --out FILE --password-file F`: an online,
/// consistent backup of one node's store (primary or standby).
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a running node's store (primary or standby) into a backup file.",
        discussion: """
        Logs in as admin, has the node copy its store without stopping it, and writes the copy with a header \
        (cluster and node UUID, log position, state digest, SHA-256) to FILE (mode 0600), which appears only \
        once it is complete and checked. Restore it with lts restore. Exits 0 when FILE was written.
        """
    )

    @Option(name: .long, help: "The node's URL, e.g. https://127.0.0.1:48080/dls/")
    var server: String

    @Option(name: .long, help: "The backup file to write.")
    var out: String

    @Option(name: .long, help: "A file holding the admin password (one trailing newline is ignored).")
    var passwordFile: String

    @Flag(name: .long, help: "Replace FILE if it exists.")
    var force = false

    @OptionGroup var trust: TrustOptions

    func run() throws {
        try BackupDownload(server: server, out: out, passwordFile: passwordFile, replace: force).run(trust: trust.resolve())
    }
}
