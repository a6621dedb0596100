import Foundation
import LicenseState
import Platform

/// The vendor public keys this node accepts license files from (config
/// `trustedIssuers`), and the signature check of a file against them.
///
/// Invariant: every key is a valid Ed25519 public key read at start.
struct TrustedIssuers {
    private let keys: [Ed25519PublicKey]

    init(keys: [Ed25519PublicKey]) {
        self.keys = keys
    }

    /// Reads the PEM files; a missing or wrong file is a configuration error.
    static func load(paths: [String]) throws -> TrustedIssuers {
        TrustedIssuers(keys: try paths.map { path in
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigError(key: "trustedIssuers", reason: "cannot read \(path)")
            }
            do {
                return try Ed25519PublicKey(pem: text)
            } catch {
                throw ConfigError(key: "trustedIssuers", reason: "\(path) is not an Ed25519 public key in PEM form")
            }
        })
    }

    /// Checks that a trusted vendor signed `file`: unknown issuer when the
    /// file names a key this node does not trust (or no key is trusted), bad
    /// signature when the named (or no) trusted key verifies it.
    func verify(_ file: LicenseFile) throws {
        let candidates = file.issuerKeyId.map { id in keys.filter { $0.keyId == id } } ?? keys
        guard !candidates.isEmpty else { throw LicenseError.unknownIssuer() }
        guard candidates.contains(where: { $0.verify(file.signature, of: file.signedBytes) }) else {
            throw LicenseError.badSignature()
        }
    }
}
