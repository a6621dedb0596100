import CH2O
import CLtsShim
import Foundation

/// How a TLS client decides to trust a server.
public enum TLSTrust: Equatable {
    /// The system's CA store and the host name.
    case system
    /// A CA (or self-signed certificate) file and the host name.
    case caFile(String)
    /// The SHA-256 of the server's leaf certificate (for self-signed nodes).
    case pinnedSHA256([UInt8])
    /// No verification. Only ever set by an explicit `--insecure` flag.
    case insecure
}

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

/// An OpenSSL client context that verifies servers as `trust` says.
///
/// Invariant: the SSL_CTX is valid for the life of the object and freed once.
public final class TLSClientContext {
    let ctx: OpaquePointer
    public let trust: TLSTrust

    public init(trust: TLSTrust) throws {
        self.trust = trust
        var error = [CChar](repeating: 0, count: 512)
        let made: OpaquePointer?
        switch trust {
        case .system: made = lts_tls_client_ctx(nil, nil, 0, &error, error.count)
        case .caFile(let path): made = lts_tls_client_ctx(path, nil, 0, &error, error.count)
        case .insecure: made = lts_tls_client_ctx(nil, nil, 1, &error, error.count)
        case .pinnedSHA256(let pin):
            precondition(pin.count == 32, "a SHA-256 pin has 32 bytes")
            made = lts_tls_client_ctx(nil, pin, 0, &error, error.count)
        }
        guard let made else { throw TransportError(String(cString: error)) }
        ctx = made
    }

    deinit { SSL_CTX_free(ctx) }
}

/// The node's own certificate when the operator configured none: EC P-256,
/// self-signed, made once in the data dir.
public enum SelfSignedCertificate {
    /// Days a generated certificate is valid.
    public static let validityDays = 3650

    /// Creates the certificate and key unless both files exist.
    /// - Returns: true when new files were written.
    @discardableResult
    public static func ensure(certificatePath: String, keyPath: String, hostNames: [String]) throws -> Bool {
        let files = FileManager.default
        if files.fileExists(atPath: certificatePath), files.fileExists(atPath: keyPath) { return false }
        var names = ["DNS:localhost", "IP:127.0.0.1", "IP:::1"]
        for host in hostNames where !host.isEmpty {
            let entry = isIPAddress(host) ? "IP:\(host)" : "DNS:\(host)"
            if !names.contains(entry) { names.append(entry) }
        }
        var error = [CChar](repeating: 0, count: 512)
        let commonName = hostNames.first { !$0.isEmpty && !isIPAddress($0) } ?? "localhost"
        guard lts_tls_generate_self_signed(certificatePath, keyPath, commonName, names.joined(separator: ","),
                                           Int32(validityDays), &error, error.count) == 0 else {
            throw TransportError(String(cString: error))
        }
        return true
    }

    /// The SHA-256 fingerprint of a PEM certificate, as colon-separated hex.
    public static func fingerprint(certificatePath: String) throws -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        guard lts_tls_cert_fingerprint(certificatePath, &digest) == 0 else {
            throw TransportError("cannot read the certificate \(certificatePath)")
        }
        return digest.map { String(format: "%02X", $0) }.joined(separator: ":")
    }

    /// Parses a fingerprint written as hex, with or without colons.
    public static func parseFingerprint(_ text: String) -> [UInt8]? {
        let hex = text.filter { $0 != ":" }
        guard hex.count == 64 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
