import Foundation
import Platform

/// The node UUID of the peer this node paired with, kept in `peer-node` of
/// the data dir once a first replication stream from it authenticated: a
/// third node that holds the cluster secret cannot then take the peer's
/// place.
///
/// Invariant: once set, `uuid` changes only by the operator deleting the
/// file (the peer was rebuilt); the file holds one well-formed node UUID.
final class PairedPeer {
    let path: String
    private(set) var uuid: String?

    /// Reads the file (none yet: not paired). Throws for a file that holds
    /// anything but one node UUID.
    init(path: String) throws {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard ReplicationHandshake.isWellFormed(nodeUUID: text) else {
            throw StoreFailure("\(path) holds \"\(text.prefix(80))\", not a node UUID; delete it to pair with whichever node connects next")
        }
        uuid = text
    }

    /// Whether a stream from node `uuid` may be the peer's: the first one
    /// is recorded (when the file cannot be written, it is let in and
    /// recorded next time).
    func admits(_ candidate: String) -> Bool {
        if let uuid { return uuid == candidate }
        guard (try? DurableFile.write(Data((candidate + "\n").utf8), to: path)) != nil else { return true }
        uuid = candidate
        return true
    }
}
