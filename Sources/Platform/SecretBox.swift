import COpenSSL

/// Seals small secrets (an SMTP password) with AES-256-GCM under a node key,
/// so they can sit in the log and the store without being readable there.
///
/// Invariant: `open(seal(x))` gives `x` back under the same key; `open`
/// refuses (nil) anything sealed under another key or changed in any byte.
/// Sealed form: version byte 1, a random 12-byte nonce, the ciphertext, the
/// 16-byte tag; the version byte is authenticated too.
public struct SecretBox {
    public static let keyBytes = 32
    private static let version: UInt8 = 1
    private static let nonceBytes = 12
    private static let tagBytes = 16

    private let key: [UInt8]

    public init(key: [UInt8]) {
        precondition(key.count == Self.keyBytes, "a secret box key is \(Self.keyBytes) bytes")
        self.key = key
    }

    public func seal(_ plaintext: [UInt8]) -> [UInt8] {
        let nonce = Crypto.randomBytes(Self.nonceBytes)
        guard let (ciphertext, tag) = crypt(encrypt: true, nonce: nonce, input: plaintext, tag: nil) else {
            preconditionFailure("AES-256-GCM sealing failed")
        }
        return [Self.version] + nonce + ciphertext + tag
    }

    /// The plaintext, or nil when `sealed` was not sealed under this key or was changed.
    public func open(_ sealed: [UInt8]) -> [UInt8]? {
        guard sealed.count >= 1 + Self.nonceBytes + Self.tagBytes, sealed[0] == Self.version else { return nil }
        let nonce = Array(sealed[1...Self.nonceBytes])
        let ciphertext = Array(sealed[(1 + Self.nonceBytes)..<(sealed.count - Self.tagBytes)])
        let tag = Array(sealed.suffix(Self.tagBytes))
        return crypt(encrypt: false, nonce: nonce, input: ciphertext, tag: tag)?.output
    }

    private func crypt(encrypt: Bool, nonce: [UInt8], input: [UInt8], tag: [UInt8]?) -> (output: [UInt8], tag: [UInt8])? {
        guard let context = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(context) }
        let initialize = encrypt ? EVP_EncryptInit_ex : EVP_DecryptInit_ex
        let update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate
        guard initialize(context, EVP_aes_256_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_IVLEN, Int32(nonce.count), nil) == 1,
              initialize(context, nil, nil, key, nonce) == 1 else { return nil }
        var length: Int32 = 0
        guard update(context, nil, &length, [Self.version], 1) == 1 else { return nil }
        var output = [UInt8](repeating: 0, count: input.count + 16)
        var produced: Int32 = 0
        if !input.isEmpty {
            guard update(context, &output, &produced, input, Int32(input.count)) == 1 else { return nil }
        }
        var tagOut = tag ?? [UInt8](repeating: 0, count: Self.tagBytes)
        if !encrypt {
            guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(Self.tagBytes), &tagOut) == 1 else { return nil }
        }
        var final: Int32 = 0
        let finished = output.withUnsafeMutableBufferPointer { buffer in
            (encrypt ? EVP_EncryptFinal_ex : EVP_DecryptFinal_ex)(context, buffer.baseAddress! + Int(produced), &final)
        }
        guard finished == 1 else { return nil }
        if encrypt {
            guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(Self.tagBytes), &tagOut) == 1 else { return nil }
        }
        return (Array(output.prefix(Int(produced + final))), tagOut)
    }
}
