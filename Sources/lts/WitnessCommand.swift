import ArgumentParser
import ClusterNode
import Foundation
import Logging
import OperatorTools
import Transport

/// `lts witness`: runs the third party that decides a pair's terms.
struct WitnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness",
        abstract: "Run the witness of a pair (a tie-breaker in a third place).",
        discussion: """
        Reads {"listen", "dataDir", "clusterSecret", "tls"} (listen defaults to 0.0.0.0:48090; \
        TLS as for a node: a self-signed certificate in the data dir unless tls.certificate/tls.key \
        are set, its SHA-256 fingerprint logged for the nodes' "witness": {"url", "fingerprint"}). \
        It holds no license data: only the highest term granted, its holder and the lease. \
        A bad configuration exits with code 2 and names the key at fault.
        """
    )

    @Option(name: .long, help: "The witness configuration file.")
    var config: String

    func run() throws {
        guard SupervisorLink.endWithSupervisor() else {
            printError("lts witness: the supervisor that started it is gone")
            throw ExitCode(1)
        }
        let settings: WitnessConfig
        do {
            settings = try WitnessConfig.load(path: config)
        } catch let error as ConfigError {
            printError("lts witness: \(config): \(error)")
            throw ExitCode(2)
        }
        LoggingSystem.bootstrap(settings.logFormat.handler)
        do {
            try WitnessServer(config: settings, logger: Logger(label: "lts-witness")).run()
        } catch {
            printError("lts witness: \(error)")
            throw ExitCode(1)
        }
    }
}
