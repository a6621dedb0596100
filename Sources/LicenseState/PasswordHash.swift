/// A PBKDF2-HMAC-SHA-256 password hash as stored in the log: salt,
/// iteration count and derived key. Computing and checking it is the shell's
/// work (libcrypto); the domain only carries it.
///
/// Invariant: `salt` has 16 bytes, `hash` 32, `iterations > 0`.
public struct PasswordHash: Equatable, Hashable {
    /// Iterations for the admin password (OWASP 2023 figure for PBKDF2-SHA-256).
    public static let adminIterations = 600_000
    /// Iterations for handshake session passwords, checked on client calls
    /// behind a cache of verified passwords.
    public static let sessionIterations = 100_000

    public var salt: [UInt8]
    public var iterations: Int
    public var hash: [UInt8]

    public init(salt: [UInt8], iterations: Int, hash: [UInt8]) {
        precondition(salt.count == 16 && hash.count == 32 && iterations > 0, "malformed password hash")
        self.salt = salt
        self.iterations = iterations
        self.hash = hash
    }
}
