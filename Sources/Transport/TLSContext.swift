import COpenSSL
import CServerShim
import CTLSShim
import Foundation
import Platform

/// An OpenSSL server context (TLS 1.2+) with the node's certificate.
///
/// Invariant: the SSL_CTX is valid for the life of the object and freed once.
public final class TLSServerContext {
    let ctx: OpaquePointer

    public init(certificatePath: String, keyPath: String, http2: Bool) throws {
        var error = [CChar](repeating: 0, count: 512)
        guard let ctx = lts_tls_server_ctx(certificatePath, keyPath, http2 ? 1 : 0, &error, error.count) else {
            throw TransportError("\(String(cString: error)) (certificate \(certificatePath), key \(keyPath))")
        }
        self.ctx = ctx
    }

    deinit { SSL_CTX_free(ctx) }
}

/// An OpenSSL client context that verifies servers as `trust` says, and
/// also accepts a server whose key has one of `keyPins` (the SHA-256 of its
/// SubjectPublicKeyInfo: what a renewed self-signed certificate keeps).
///
/// Invariant: the SSL_CTX is valid for the life of the object and freed once.
public final class TLSClientContext {
    let ctx: OpaquePointer
    public let trust: TLSTrust
    public let keyPins: [[UInt8]]

    public init(trust: TLSTrust, keyPins: [[UInt8]] = []) throws {
        precondition(keyPins.allSatisfy { $0.count == 32 }, "a key pin has 32 bytes")
        self.trust = trust
        self.keyPins = keyPins
        var error = [CChar](repeating: 0, count: 512)
        let keys = keyPins.flatMap { $0 }
        let made: OpaquePointer?
        switch trust {
        case .system: made = lts_tls_client_ctx_pinned(nil, nil, 0, keys, keyPins.count, 0, &error, error.count)
        case .caFile(let path): made = lts_tls_client_ctx_pinned(path, nil, 0, keys, keyPins.count, 0, &error, error.count)
        case .insecure: made = lts_tls_client_ctx(nil, nil, 1, &error, error.count)
        case .pinnedSHA256(let pin):
            precondition(pin.count == 32, "a SHA-256 pin has 32 bytes")
            made = lts_tls_client_ctx_pinned(nil, pin, 1, keys, keyPins.count, 0, &error, error.count)
        }
        guard let made else { throw TransportError(String(cString: error)) }
        ctx = made
    }

    deinit { SSL_CTX_free(ctx) }

    /// The certificate digest of the last server this context was shown,
    /// accepted or not, with a count that grows with each (nil before the
    /// first, and always with `.insecure`).
    public var lastPresentedPeer: (certificate: [UInt8], count: UInt)? {
        var certificate = [UInt8](repeating: 0, count: 32)
        let count = lts_tls_last_presented(ctx, &certificate)
        return count == 0 ? nil : (certificate, count)
    }

    /// The certificate and key digests of the last server this context
    /// accepted (nil before the first, and always with `.insecure`).
    public var lastVerifiedPeer: (certificate: [UInt8], key: [UInt8])? {
        var certificate = [UInt8](repeating: 0, count: 32)
        var key = [UInt8](repeating: 0, count: 32)
        guard lts_tls_last_verified(ctx, &certificate, &key) == 0 else { return nil }
        return (certificate, key)
    }
}
