import LicenseState
import Platform
import Transport

/// Makes and checks `PasswordHash`es with PBKDF2 from libcrypto. Slow on
/// purpose: callers run it on the thread pool.
public enum PasswordHasher {
    /// Shortest admin password accepted.
    public static let adminPasswordLengthMin = 10
    /// Longest password accepted (PBKDF2 input is bounded).
    public static let passwordLengthMax = 256

    /// Whether `password` may be the admin password: long enough, and not
    /// only spaces (or other white space).
    public static func isAcceptable(_ password: String) -> Bool {
        password.count >= adminPasswordLengthMin && !password.allSatisfy(\.isWhitespace)
    }

    public static func hash(_ password: String, iterations: Int) -> PasswordHash {
        let salt = Crypto.randomBytes(16)
        return PasswordHash(salt: salt, iterations: iterations,
                            hash: Crypto.pbkdf2SHA256(password: password, salt: salt, iterations: iterations))
    }

    static func verify(_ password: String, against stored: PasswordHash) -> Bool {
        let derived = Crypto.pbkdf2SHA256(password: password, salt: stored.salt, iterations: stored.iterations)
        return Crypto.constantTimeEqual(derived, stored.hash)
    }

    /// A keyed session password hash (`PasswordHash.keyedIterations`): fast
    /// to check on the loop, useless without `key`.
    static func keyedHash(_ password: String, key: [UInt8]) -> PasswordHash {
        hash(keyed(password, key: key), iterations: PasswordHash.keyedIterations)
    }

    /// Checks a keyed session password hash.
    static func verifyKeyed(_ password: String, against stored: PasswordHash, key: [UInt8]) -> Bool {
        stored.isKeyed && verify(keyed(password, key: key), against: stored)
    }

    private static func keyed(_ password: String, key: [UInt8]) -> String {
        Crypto.hex(Crypto.hmacSHA256(key: key, message: Array("lts session password ".utf8) + Array(password.utf8)))
    }
}
