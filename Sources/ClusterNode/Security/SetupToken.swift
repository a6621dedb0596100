import Foundation
import Logging
import Platform

/// What stands between a fresh node and whoever reaches it first: the first
/// admin password may be set from this machine (a loopback client address,
/// not passed on by a proxy the node does not trust) as it is, but from
/// anywhere else only with this token, which the node makes on
/// the start that finds no password, logs, and keeps in `setup-token` in its
/// data dir (0600): only someone who can read the node's log or its data
/// dir can use it.
///
/// Invariant: the token is 32 random hex digits, compared in constant time;
/// once the password is set the file is removed and nothing is accepted.
final class SetupToken {
    static let fileName = "setup-token"

    let path: String
    private var token: [UInt8]?

    /// Reads or makes the token when no admin password is set yet.
    init(dataDirectory: String, passwordSet: Bool, logger: Logger) throws {
        path = dataDirectory + "/" + Self.fileName
        guard !passwordSet else {
            DurableFile.remove(path)
            return
        }
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            token = Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
            logger.notice("no admin password is set yet: set it from this machine, or from elsewhere with the setup token in \(path)")
            return
        }
        let text = Crypto.hex(Crypto.randomBytes(16))
        try DurableFile.write(Data((text + "\n").utf8), to: path, mode: 0o600)
        token = Array(text.utf8)
        logger.notice("no admin password is set yet: set it in the portal from this machine, or from elsewhere with the setup token \(text) (also in \(path))")
    }

    /// Whether a first password sent from `address` with `given` may be set.
    /// - Parameter forwardedByUntrustedPeer: the request carries
    ///   X-Forwarded-For from a peer that is no trusted proxy: a proxy on
    ///   this machine passed it on, so a loopback peer does not mean it was
    ///   sent from here.
    func accepts(_ given: String?, from address: String, forwardedByUntrustedPeer: Bool) -> Bool {
        if Self.isLoopback(address), !forwardedByUntrustedPeer { return true }
        guard let token, let given else { return false }
        return Crypto.constantTimeEqual(Array(given.utf8), token)
    }

    /// The password is set: the token is of no further use.
    func used() {
        token = nil
        DurableFile.remove(path)
    }

    static func isLoopback(_ address: String) -> Bool {
        address.hasPrefix("127.") || address == "::1" || address.hasPrefix("::ffff:127.")
    }
}
