import Foundation
import Platform

/// The client UUID a client presents, kept in a file so that the same
/// installation stays the same device across runs.
///
/// Invariant: once written, the file's UUID is returned on every load.
public enum ClientIdentity {
    public static let fileName = "client-uuid"

    /// The UUID in `directory`, made (and written, mode 0600) on first use.
    public static func load(directory: String) throws -> String {
        let path = directory + "/" + fileName
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let uuid = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard UUID(uuidString: uuid) != nil else {
                throw TransportError("\(path) holds no UUID; remove it to make a new client identity")
            }
            return uuid
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let uuid = Crypto.randomUUID()
        guard FileManager.default.createFile(atPath: path, contents: Data((uuid + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw TransportError("cannot write \(path)")
        }
        return uuid
    }

    /// `$XDG_STATE_HOME/lts-client`, else `~/.local/state/lts-client`.
    public static var defaultDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/lts-client" }
        return NSHomeDirectory() + "/.local/state/lts-client"
    }
}
