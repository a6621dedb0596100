import Foundation
import Platform

/// The node's data directory, held under an exclusive lock for the life of
/// the process, with the node UUID made there once.
///
/// Invariant: while a `DataDirectory` exists, no other lts process holds the
/// same directory; `nodeUUID` never changes once written.
final class DataDirectory {
    let path: String
    let nodeUUID: String
    private let lock: DurableFile.Lock

    static let certificateFile = "/tls/node.crt"
    static let keyFile = "/tls/node.key"

    var certificatePath: String { path + Self.certificateFile }
    /// The keys of the peer's certificates this node verified (`PeerKeys`).
    var peerKeysPath: String { path + "/tls/peer-keys" }
    /// The node UUID of the peer this node paired with (`PairedPeer`).
    var pairedPeerPath: String { path + "/peer-node" }
    /// The keys of the witness's certificates this node verified.
    var witnessKeysPath: String { path + "/tls/witness-keys" }
    var keyPath: String { path + Self.keyFile }
    var pidPath: String { path + "/lts.pid" }

    /// Creates the directory if needed, takes its lock and reads or makes the UUID.
    /// - Throws: `DataDirectory.Failure` when the directory cannot be used.
    init(path: String) throws {
        self.path = path
        let files = FileManager.default
        do {
            try files.createDirectory(atPath: path + "/tls", withIntermediateDirectories: true,
                                      attributes: [.posixPermissions: 0o700])
        } catch {
            throw Failure("cannot create the data directory \(path): \(error.localizedDescription)")
        }
        let lock: DurableFile.Lock?
        do {
            lock = try DurableFile.Lock(path: path + "/lock")
        } catch {
            throw Failure("\(error)")
        }
        guard let lock else {
            let holder = (try? String(contentsOfFile: path + "/lts.pid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            throw Failure("the data directory \(path) is in use by another lts process\(holder.map { " (pid \($0))" } ?? ""); stop it first or use another dataDir")
        }
        self.lock = lock
        nodeUUID = try Self.readOrCreateUUID(at: path + "/node.uuid")
        try? "\(getpid())\n".write(toFile: path + "/lts.pid", atomically: true, encoding: .utf8)
    }

    deinit {
        DurableFile.remove(pidPath)
    }

    private static func readOrCreateUUID(at file: String) throws -> String {
        if let text = try? String(contentsOfFile: file, encoding: .utf8) {
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard UUID(uuidString: trimmed) != nil else {
                throw Failure("\(file) does not hold a UUID; restore it from a backup (licenses may be bound to it)")
            }
            return trimmed.lowercased()
        }
        let uuid = UUID().uuidString.lowercased()
        do {
            try (uuid + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        } catch {
            throw Failure("cannot write \(file): \(error.localizedDescription)")
        }
        return uuid
    }

    /// Why the data directory cannot be used.
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
