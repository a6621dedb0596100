import ArgumentParser
import ClusterNode
import Foundation
import Logging
import OperatorTools
import Platform
import Transport

/// `lts serve`: runs one node until SIGINT or SIGTERM.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a node.",
        discussion: """
        Reads the configuration (lts.json, or the legacy dls.json), takes the data \
        directory's lock, creates a self-signed TLS certificate on first start unless \
        tls.certificate/tls.key are set, and serves the API and portal under /dls/ and /lts/. \
        A bad configuration exits with code 2 and names the key at fault.
        """
    )

    /// Where a configuration is looked for when --config is not given.
    static let defaultConfigPaths = ["lts.json", "dls.json", "Config/lts.json", "Config/dls.json", "/etc/lts/lts.json"]

    @Option(name: .long, help: "The configuration file (default: the first of \(ServeCommand.defaultConfigPaths.joined(separator: ", ")) that exists).")
    var config: String?

    @Flag(name: .long, help: "Serve a log that ends before what this data dir last held (its database was deleted or rolled back), losing the rest.")
    var acceptDataLoss = false

    func run() throws {
        guard SupervisorLink.endWithSupervisor() else {
            printError("lts: the supervisor that started it is gone")
            throw ExitCode(1)
        }
        guard let path = config ?? Self.defaultConfigPaths.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            printError("lts: no configuration file; pass --config FILE (see Config/lts.json.sample)")
            throw ExitCode(2)
        }
        let settings: Config
        do {
            settings = try Config.load(path: path)
        } catch let error as ConfigError {
            printError("lts: \(path): \(error)")
            throw ExitCode(2)
        }
        LoggingSystem.bootstrap(settings.logFormat.handler)
        let logger = Logger(label: "lts")
        let node: Node
        do {
            node = try Node(config: settings, logger: logger, acceptDataLoss: acceptDataLoss)
            try node.run()
        } catch let error as ConfigError {
            printError("lts: \(path): \(error)")
            throw ExitCode(2)
        } catch let error as DataLossRefusal {
            printError("lts: \(error)")
            throw ExitCode(2)
        } catch {
            printError("lts: \(error)")
            throw ExitCode(1)
        }
        if node.restartRequested {
            logger.notice("starting again on \(path)")
            printError("lts: cannot start again: \(ProcessImage.restart(arguments: CommandLine.arguments)); start it with lts serve --config \(path)")
            throw ExitCode(1)
        }
    }
}
