import COpenSSL
import Foundation

/// Ed25519 keys from libcrypto, stored as PEM (PKCS#8 private, SPKI public).
///
/// Invariant: a key object wraps a valid EVP_PKEY of type Ed25519 and frees
/// it once.
public final class Ed25519PrivateKey {
    let key: OpaquePointer

    /// A new random key.
    public init() {
        var made: OpaquePointer?
        let context = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil)
        defer { EVP_PKEY_CTX_free(context) }
        precondition(EVP_PKEY_keygen_init(context) == 1 && EVP_PKEY_keygen(context, &made) == 1 && made != nil,
                     "Ed25519 key generation failed")
        key = made!
    }

    /// Reads a PEM private key; throws when it is not an Ed25519 key.
    public init(pem: String) throws {
        guard let parsed = Ed25519PrivateKey.read(pem: pem, private: true) else {
            throw TransportError("not an Ed25519 private key in PEM form")
        }
        key = parsed
    }

    deinit { EVP_PKEY_free(key) }

    /// The PEM text (PKCS#8) of the private key.
    public var pem: String {
        Ed25519PrivateKey.write { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
    }

    /// The matching public key.
    public var publicKey: Ed25519PublicKey {
        let text = Ed25519PrivateKey.write { PEM_write_bio_PUBKEY($0, key) }
        return try! Ed25519PublicKey(pem: text)
    }

    /// The 64-byte signature of `message`.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        let context = EVP_MD_CTX_new()
        defer { EVP_MD_CTX_free(context) }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = signature.count
        precondition(EVP_DigestSignInit(context, nil, nil, nil, key) == 1 &&
                     EVP_DigestSign(context, &signature, &length, message, message.count) == 1, "Ed25519 signing failed")
        return signature
    }

    static func read(pem: String, private isPrivate: Bool) -> OpaquePointer? {
        // The memory BIO borrows the text: it must not outlive withCString.
        let parsed = pem.withCString { text -> OpaquePointer? in
            let bio = BIO_new_mem_buf(text, Int32(strlen(text)))
            defer { BIO_free(bio) }
            return isPrivate ? PEM_read_bio_PrivateKey(bio, nil, nil, nil) : PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        guard let parsed else {
            ERR_clear_error()
            return nil
        }
        guard EVP_PKEY_get_id(parsed) == EVP_PKEY_ED25519 else {
            EVP_PKEY_free(parsed)
            return nil
        }
        return parsed
    }

    static func write(_ body: (OpaquePointer?) -> Int32) -> String {
        let bio = BIO_new(BIO_s_mem())
        defer { BIO_free(bio) }
        precondition(body(bio) == 1, "writing a PEM key failed")
        var pointer: UnsafeMutablePointer<CChar>?
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &pointer)
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }
}

/// An Ed25519 public key: verifies signatures of license files and tokens.
public final class Ed25519PublicKey {
    let key: OpaquePointer

    public init(pem: String) throws {
        guard let parsed = Ed25519PrivateKey.read(pem: pem, private: false) else {
            throw TransportError("not an Ed25519 public key in PEM form")
        }
        key = parsed
    }

    deinit { EVP_PKEY_free(key) }

    /// The PEM text (SubjectPublicKeyInfo).
    public var pem: String {
        Ed25519PrivateKey.write { PEM_write_bio_PUBKEY($0, key) }
    }

    /// A short stable name of the key: the first 16 hex digits of the
    /// SHA-256 of its 32 raw bytes.
    public var keyId: String {
        var raw = [UInt8](repeating: 0, count: 32)
        var length = raw.count
        precondition(EVP_PKEY_get_raw_public_key(key, &raw, &length) == 1 && length == 32, "Ed25519 raw key")
        return Crypto.hex(Crypto.sha256(raw).prefix(8))
    }

    /// True when `signature` is this key's signature of `message`.
    public func verify(_ signature: [UInt8], of message: [UInt8]) -> Bool {
        let context = EVP_MD_CTX_new()
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, nil, nil, key) == 1 else { return false }
        let ok = EVP_DigestVerify(context, signature, signature.count, message, message.count) == 1
        ERR_clear_error()
        return ok
    }
}
