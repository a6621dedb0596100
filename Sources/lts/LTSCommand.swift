import ArgumentParser
import ClusterNode
import Foundation

/// The `lts` command line: the server and the tools around it.
@main
struct LTSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lts",
        abstract: "lts, the License Tracking Server: counts client usage against signed license items, as a main + standby pair.",
        discussion: """
        Start a node:      lts serve --config /etc/lts/lts.json
        Check a node:      lts health --server https://127.0.0.1:48080/dls/ --fingerprint SHA256
        Pair two sites:    lts cluster init --public-url URL (on the main), lts cluster join TOKEN --public-url URL (on the standby)
        The portal is at https://HOST:PORT/dls/page/#/index.html once a node runs.
        """,
        version: Version.current,
        subcommands: [ServeCommand.self, PairCommand.self, HealthCommand.self, LicenseCommand.self, ClientCommand.self, DrillCommand.self, BenchCommand.self,
                      AdminCommand.self, AlertsCommand.self, WitnessCommand.self, TLSCommand.self, ClusterCommand.self,
                      BackupCommand.self, RestoreCommand.self]
    )
}
