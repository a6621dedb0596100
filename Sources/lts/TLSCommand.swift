import ArgumentParser
import ClusterNode
import Foundation

/// `lts tls renew --config FILE`: a new self-signed certificate for the
/// node's key, before the 30 days ahead of expiry when the node renews it
/// by itself (after a change of host names, say).
struct TLSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls",
        abstract: "Manage the node's self-signed TLS certificate.",
        subcommands: [Renew.self]
    )

    struct Renew: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Renew the self-signed certificate now, for the same key.",
            discussion: """
            Writes a new certificate (825 days, the names from publicUrl and listen) for the key in the \
            data dir's tls/. A running node serves it after SIGHUP or within the hour. Its peer keeps \
            trusting it: the key is one the peer verified before (tls/peer-keys of the peer's data dir). \
            A node renews by itself 30 days before its certificate expires.
            """
        )

        @Option(name: .long, help: "The node's configuration file.")
        var config: String

        func run() throws {
            let settings: Config
            do {
                settings = try Config.load(path: config)
                let (old, new) = try ServerCertificate.renewNow(config: settings)
                print("renewed the TLS certificate: SHA-256 fingerprint \(new) (was \(old))")
                print("a running node serves it after `kill -HUP` or within the hour")
            } catch let error as ConfigError {
                FileHandle.standardError.write(Data("lts tls renew: \(config): \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
    }
}
