import Foundation
import Platform

/// The main's side of a join token: `join-invitation` in its data dir holds
/// the SHA-256 of the token's secret and its expiry, until a standby joins
/// with it or `lts cluster init` makes another.
///
/// Invariant: at most one invitation is open per data dir; the secret itself
/// is never stored, and it is compared in constant time.
enum JoinInvitation {
    static let fileName = "join-invitation"

    static func path(dataDir: String) -> String { dataDir + "/" + fileName }

    /// Opens the invitation `token` stands for, replacing any other.
    static func open(dataDir: String, token: JoinToken) throws {
        let object: [String: Any] = ["secretSha256": Crypto.hex(Crypto.sha256(token.secret)), "expiresAt": token.expiresAt]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        try DurableFile.write(data, to: path(dataDir: dataDir), mode: 0o600)
    }

    /// Whether `secret` opens the open invitation now (none open: false).
    static func opens(dataDir: String, secret: [UInt8], nowSeconds: Int64) -> Bool {
        guard let data = FileManager.default.contents(atPath: path(dataDir: dataDir)),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let digestText = object["secretSha256"] as? String, let digest = SelfSignedCertificate.parseFingerprint(digestText),
              let expiresAt = object["expiresAt"] as? Int else {
            return false
        }
        return Crypto.constantTimeEqual(Crypto.sha256(secret), digest) && nowSeconds <= Int64(expiresAt)
    }

    /// Ends the invitation: a token opens one join.
    static func close(dataDir: String) {
        DurableFile.remove(path(dataDir: dataDir))
    }
}
