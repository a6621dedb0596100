import COpenSSL
import Foundation

/// SHA-256 over bytes given a piece at a time (files too large to hold at
/// once: backups).
///
/// Invariant: `finish` is called at most once; no bytes are taken after it.
public final class SHA256Stream {
    private let context: OpaquePointer

    public init() {
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Hashes `bytes` after those given before.
    public func update<Bytes: ContiguousBytes>(_ bytes: Bytes) {
        bytes.withUnsafeBytes { input in
            _ = EVP_DigestUpdate(context, input.baseAddress, input.count)
        }
    }

    /// The digest of everything given.
    public func finish() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return digest
    }
}
