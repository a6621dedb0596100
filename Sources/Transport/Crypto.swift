import CH2O
import Foundation

/// Hashes, MACs, key derivation and randomness from libcrypto.
///
/// Invariant: every function is pure apart from `randomBytes`, and every
/// comparison of secrets goes through `constantTimeEqual`.
public enum Crypto {
    /// SHA-256 of `bytes`.
    public static func sha256<Bytes: ContiguousBytes>(_ bytes: Bytes) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        bytes.withUnsafeBytes { input in
            _ = EVP_Digest(input.baseAddress, input.count, &digest, &length, EVP_sha256(), nil)
        }
        return digest
    }

    /// HMAC-SHA-256 of `message` under `key`.
    public static func hmacSHA256<Key: ContiguousBytes, Message: ContiguousBytes>(key: Key, message: Message) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                _ = HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                         messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count, &mac, &length)
            }
        }
        return mac
    }

    /// PBKDF2-HMAC-SHA-256 with `iterations` rounds, 32 bytes out.
    /// Slow on purpose: call it off the loop (see `ThreadPoolWork`).
    public static func pbkdf2SHA256(password: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        let status = PKCS5_PBKDF2_HMAC(password, Int32(password.utf8.count), salt, Int32(salt.count), Int32(iterations),
                                       EVP_sha256(), Int32(output.count), &output)
        precondition(status == 1, "PBKDF2 failed")
        return output
    }

    /// Bytes from the operating system's CSPRNG.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        precondition(RAND_bytes(&bytes, Int32(count)) == 1, "the random number generator failed")
        return bytes
    }

    /// Compares two byte strings in time that depends only on their length.
    public static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return CRYPTO_memcmp(lhs, rhs, lhs.count) == 0
    }
}
