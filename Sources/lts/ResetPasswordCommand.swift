import ArgumentParser
import OperatorTools

/// `lts admin reset-password --data DIR [--password-file FILE]`: sets a new
/// admin password without the old one, for the operator who holds the data
/// directory (nobody remote can).
///
/// It writes only the new password's hash to `DIR/admin-password.reset`;
/// the node on DIR logs it when it is (or next becomes) primary or
/// standalone, so a pair's other node gets it through replication (see
/// `PendingPasswordReset`). It works whether that node runs or not.
struct ResetPasswordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset-password",
        abstract: "Set a new admin password without the old one (needs the node's data directory).",
        discussion: """
        Writes the new password's hash to DIR/admin-password.reset (mode 0600). The node on DIR \
        applies it within a few seconds when it is primary or standalone, or when it next becomes \
        one: it logs the new password (replicated to the standby), ends every admin session and \
        deletes the file. Without --password-file the password is asked twice on the terminal.
        """
    )

    @Option(name: .long, help: "The node's data directory (its \"dataDir\").")
    var data: String

    @Option(name: .long, help: "A file holding the new password (one trailing newline is ignored).")
    var passwordFile: String?

    func run() throws {
        try AdminPasswordReset(data: data, passwordFile: passwordFile).run()
    }
}
