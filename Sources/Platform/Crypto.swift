import COpenSSL
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

    /// A random (version 4) UUID in lower-case text. Foundation's `UUID()`
    /// opens /dev/urandom on every call, which showed in the authorize
    /// profile; libcrypto's generator stays in the process.
    public static func randomUUID() -> String {
        var bytes = randomBytes(16)
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        return uuidText(bytes)
    }

    /// A time-ordered (version 7, RFC 9562) UUID in lower-case text: 48 bits
    /// of `unixMs`, then 74 random bits. IDs made later sort after earlier
    /// ones (to the millisecond), so a B-tree index on them grows at its
    /// right edge instead of touching a random page per insert.
    public static func timeOrderedUUID(unixMs: UInt64) -> String {
        var bytes = randomBytes(16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: unixMs >> UInt64(40 - 8 * index)) }
        bytes[6] = bytes[6] & 0x0F | 0x70
        bytes[8] = bytes[8] & 0x3F | 0x80
        return uuidText(bytes)
    }

    /// 16 bytes as `8-4-4-4-12` lower-case hex.
    private static func uuidText(_ bytes: [UInt8]) -> String {
        precondition(bytes.count == 16, "a UUID has 16 bytes")
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// `bytes` as lower-case hex digits, two per byte.
    public static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Compares two byte strings in time that depends only on their length.
    public static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return CRYPTO_memcmp(lhs, rhs, lhs.count) == 0
    }
}
