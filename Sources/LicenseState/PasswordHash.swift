/// A PBKDF2-HMAC-SHA-256 password hash as stored in the log: salt,
/// iteration count and derived key. Computing and checking it is the shell's
/// work (libcrypto); the domain only carries it.
///
/// Invariant: `salt` has 16 bytes, `hash` 32, `iterations > 0`.
public struct PasswordHash: Equatable, Hashable {
    /// Iterations for the admin password (OWASP 2023 figure for PBKDF2-SHA-256).
    public static let adminIterations = 600_000
    /// Iterations of the session passwords of earlier versions (PBKDF2,
    /// checked on client calls behind a cache of verified passwords).
    public static let sessionIterations = 100_000
    /// The iteration count that marks a keyed session password: one PBKDF2
    /// round over an HMAC of the password under the node's key, so checking
    /// it costs microseconds (a session password is a secret shared with
    /// client programs, not a person's password) and the log alone does not
    /// allow guessing it offline.
    public static let keyedIterations = 1

    /// Whether the hash is a keyed session password (`keyedIterations`).
    public var isKeyed: Bool { iterations == Self.keyedIterations }

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
