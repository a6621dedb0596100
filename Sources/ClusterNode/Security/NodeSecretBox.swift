import Foundation
import Platform
import Transport

/// The node's box for secrets kept in the log (the SMTP password). In a pair
/// its key is derived from the cluster secret, so either node can open what
/// the other sealed; a standalone node keeps a random key in its data dir.
enum NodeSecretBox {
    static func make(config: Config, dataDirectory: String) throws -> SecretBox {
        if let secret = config.clusterSecret {
            return SecretBox(key: Crypto.hmacSHA256(key: Array(secret.utf8), message: Array("lts secret box v1".utf8)))
        }
        let path = dataDirectory + "/secret-box.key"
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count == SecretBox.keyBytes else {
                throw StoreFailure("\(path) is not a \(SecretBox.keyBytes)-byte key; restore it from a backup, or delete it and save the SMTP password again")
            }
            return SecretBox(key: Array(data))
        }
        let key = Crypto.randomBytes(SecretBox.keyBytes)
        guard FileManager.default.createFile(atPath: path, contents: Data(key), attributes: [.posixPermissions: 0o600]) else {
            throw StoreFailure("cannot write \(path)")
        }
        return SecretBox(key: key)
    }
}
