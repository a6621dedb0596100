import Foundation
import Platform
import LicenseState

/// `DATADIR/admin-password.reset`: the hash of a new admin password that an
/// operator left with `lts admin reset-password`, waiting for the node to
/// log it (see `PendingPasswordReset`).
///
/// Form: a JSON object `{"format","iterations","salt","hash"}`, salt and
/// hash in base64. Only the hash is stored, never the password; the file is
/// mode 0600 and written atomically (a node never reads half of one).
///
/// Invariant: a decoded file holds a well-formed `PasswordHash` (16-byte
/// salt, 32-byte hash, 1 to `iterationsMax` iterations).
public enum PasswordResetFile {
    static let fileName = "admin-password.reset"
    static let format = "lts-admin-password-reset/1"
    /// Largest file read (a real one is about 150 bytes).
    static let fileBytesMax = 4096
    /// Most PBKDF2 iterations accepted: bounds the work of each login.
    static let iterationsMax = 10_000_000

    /// The reset file of a data directory.
    public static func path(dataDirectory: String) -> String {
        dataDirectory + "/" + fileName
    }

    /// The file's bytes for `hash`.
    public static func encode(_ hash: PasswordHash) -> Data {
        let object: [String: Any] = ["format": format, "iterations": hash.iterations,
                                     "salt": Data(hash.salt).base64EncodedString(), "hash": Data(hash.hash).base64EncodedString()]
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }

    /// The password hash in a file's bytes.
    /// - Throws: `Failure` naming what is wrong.
    static func decode(_ bytes: Data) throws -> PasswordHash {
        guard bytes.count <= fileBytesMax, let object = (try? JSONSerialization.jsonObject(with: bytes)) as? [String: Any] else {
            throw Failure("it is not a JSON object of at most \(fileBytesMax) bytes")
        }
        guard object["format"] as? String == format else { throw Failure("its \"format\" is not \"\(format)\"") }
        guard let iterations = object["iterations"] as? Int, (1...iterationsMax).contains(iterations) else {
            throw Failure("\"iterations\" must be a number from 1 to \(iterationsMax)")
        }
        guard let salt = (object["salt"] as? String).flatMap({ Data(base64Encoded: $0) }), salt.count == 16 else {
            throw Failure("\"salt\" must be 16 bytes in base64")
        }
        guard let hash = (object["hash"] as? String).flatMap({ Data(base64Encoded: $0) }), hash.count == 32 else {
            throw Failure("\"hash\" must be 32 bytes in base64")
        }
        return PasswordHash(salt: Array(salt), iterations: iterations, hash: Array(hash))
    }

    /// Writes `bytes` to `path` atomically with mode 0600: a temporary file
    /// beside it, synced, renamed over it, and the directory synced, so a
    /// crash leaves the old file or the new one, never part of one.
    public static func writeAtomically(_ bytes: Data, to path: String) throws {
        try DurableFile.write(bytes, to: path)
    }

    /// Why a reset file cannot be read or written.
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
