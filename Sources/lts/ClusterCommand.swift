import ArgumentParser
import ClusterNode
import Foundation
import OperatorTools

/// `lts cluster init` on the main and `lts cluster join TOKEN` on the
/// standby: a pair formed with no file edited and no fingerprint copied.
struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Pair two nodes: init on the main, join on the standby.",
        subcommands: [Init.self, Join.self]
    )

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make this node the main of a pair and print a join token for its standby.",
            discussion: """
            Writes the configuration (publicUrl, a new cluster secret unless it has one; other settings \
            kept) and, in the data dir it names, the node's certificate and the token's invitation. \
            Prints the token alone on the last line. The node (started now, or already running) \
            answers one join with it before it expires; it then rewrites its configuration as the main \
            of the pair and restarts itself.
            """
        )

        @Option(name: .long, help: "This node's URL as the standby and clients reach it, like https://main.site-a:48080/dls/.")
        var publicUrl: String

        @Option(name: .long, help: "The configuration file (default: as lts serve looks for one, else lts.json).")
        var config: String?

        @Option(name: .long, help: "Hours the token stays valid.")
        var validHours: Int = ClusterInit.defaultValidHours

        func run() throws {
            guard (1...24 * 30).contains(validHours) else { throw ValidationError("--valid-hours must be 1 to 720") }
            try ClusterCommand.report("init") {
                try ClusterInit.run(configPath: config, publicURL: publicUrl, validSeconds: Int64(validHours) * 3_600,
                                    nowSeconds: Int64(Date().timeIntervalSince1970), defaultPaths: ServeCommand.defaultConfigPaths)
            }
        }
    }

    struct Join: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make this node the standby of the main whose token this is.",
            discussion: """
            Checks the main by the certificate fingerprint the token carries, registers this node's \
            certificate and URL there, and writes this node's configuration (servers, the cluster \
            secret, the main's fingerprint pinned, the pair's timings; other settings kept). Run it \
            while this node is stopped, then start it with lts serve.
            """
        )

        @Argument(help: "The token lts cluster init printed on the main.")
        var token: String

        @Option(name: .long, help: "This node's URL as the main and clients reach it, like https://standby.site-b:48080/dls/.")
        var publicUrl: String

        @Option(name: .long, help: "The configuration file (default: as lts serve looks for one, else lts.json).")
        var config: String?

        func run() throws {
            try ClusterCommand.report("join") {
                try ClusterJoin.run(token: token, configPath: config, publicURL: publicUrl, nowSeconds: Int64(Date().timeIntervalSince1970),
                                    defaultPaths: ServeCommand.defaultConfigPaths)
            }
        }
    }

    /// Prints the lines of a step; a refusal exits 1 with its reason, a
    /// configuration the node would refuse exits 2 naming the key.
    static func report(_ step: String, _ body: () throws -> [String]) throws {
        do {
            for line in try body() { print(line) }
        } catch let error as PairingError {
            printError("lts cluster \(step): \(error)")
            throw ExitCode(1)
        } catch let error as ConfigError {
            printError("lts cluster \(step): \(error)")
            throw ExitCode(2)
        }
    }
}
