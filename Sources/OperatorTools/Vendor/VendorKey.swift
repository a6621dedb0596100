import ArgumentParser
import Foundation
import Platform

/// A vendor's signing key pair on disk: `DIR/issuer.key` (private) and
/// `DIR/issuer.pub`, as `lts license keygen` writes it.
public enum VendorKey {
    /// Writes a new key pair into `directory`; refuses to overwrite a key.
    /// - Returns: what was written, for the user.
    public static func write(into directory: String) throws -> String {
        let files = FileManager.default
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keyPath = directory + "/issuer.key"
        guard !files.fileExists(atPath: keyPath) else {
            printError("lts: \(keyPath) exists; refusing to overwrite a vendor key")
            throw ExitCode(1)
        }
        let key = Ed25519PrivateKey()
        guard files.createFile(atPath: keyPath, contents: Data(key.pem.utf8), attributes: [.posixPermissions: 0o600]) else {
            printError("lts: cannot write \(keyPath)")
            throw ExitCode(1)
        }
        try key.publicKey.pem.write(toFile: directory + "/issuer.pub", atomically: true, encoding: .utf8)
        return "wrote \(keyPath) and \(directory)/issuer.pub (key ID \(key.publicKey.keyId))"
    }
}
