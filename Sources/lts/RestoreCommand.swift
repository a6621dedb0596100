import ArgumentParser
import ClusterNode
import Foundation
import OperatorTools

/// `lts restore --data DIR FILE`: makes a stopped node's data directory
/// hold the store of a backup.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup file into a stopped node's data directory.",
        discussion: """
        Checks FILE whole first (its SHA-256s, SQLite's integrity check, a replay of its state against the \
        log position, cluster UUID and digest its header states) and changes nothing if any check fails. \
        Refuses a directory a running node holds, and one that holds a store unless --force. The node's own \
        files there (node UUID, certificates, pinned peer keys) stay. The restored node starts without \
        --accept-data-loss; in a pair, start it first: the other node catches up from it.
        """
    )

    @Option(name: .long, help: "The node's data directory (its \"dataDir\"); created if missing.")
    var data: String

    @Flag(name: .long, help: "Replace the store the directory holds.")
    var force = false

    @Argument(help: "The backup file (from lts backup).")
    var file: String

    func run() throws {
        var reported = -1
        do {
            let summary = try DataRestore(backup: file, dataDir: data, force: force).run { copied, total in
                let percent = Int(copied * 100 / max(total, 1))
                if percent / 10 != reported / 10, total > 64 << 20 {
                    reported = percent
                    printError("lts: \(percent) % copied")
                }
            }
            print("restored the backup of node \(summary.nodeUuid) (\(summary.role), \(summary.createdAt)) into \(data): lsn \(summary.lsn), term \(summary.term), cluster \(summary.clusterUuid ?? "without a UUID yet")")
        } catch let failure as BackupFailure {
            printError("lts: \(failure)")
            throw ExitCode(1)
        }
    }
}
