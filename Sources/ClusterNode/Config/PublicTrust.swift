import Foundation
import Platform

/// How clients verify a server named in client keys (config `publicTrust`
/// for `publicUrl`, `peerPublicTrust` for `peerPublicUrl`): what they will
/// really meet there, which behind a proxy is the proxy's certificate, not
/// the node's.
///
/// Invariant: a fingerprint is 32 bytes; a certificate file path is
/// absolute (resolved against the configuration's directory) and, once
/// `Config.load` returned, held a PEM certificate.
enum PublicTrust: Equatable {
    /// A certificate from a CA the clients trust: the key carries no pin.
    case system
    /// The SHA-256 of the certificate clients meet, pinned in the key.
    case pinnedSHA256([UInt8])
    /// A PEM file whose first certificate is the one clients meet (the
    /// proxy's `ssl_certificate`): its SHA-256 is pinned in the key.
    case certificateFile(String)

    /// Reads `"system"`, a fingerprint (64 hex digits, colons allowed) or a
    /// certificate file path. Text of hex digits and colons only is a
    /// fingerprint or refused, never taken for a file name.
    static func parse(_ text: String, key: String, baseDirectory: String) throws -> PublicTrust {
        if text == "system" { return .system }
        let hexAndColons = CharacterSet(charactersIn: "0123456789abcdefABCDEF:")
        if !text.isEmpty, text.unicodeScalars.allSatisfy(hexAndColons.contains) {
            guard let bytes = SelfSignedCertificate.parseFingerprint(text) else {
                throw ConfigError(key: key, reason: "\"\(text)\" is no SHA-256 fingerprint (64 hex digits, colons allowed)")
            }
            return .pinnedSHA256(bytes)
        }
        guard !text.isEmpty else {
            throw ConfigError(key: key, reason: "must be \"system\", a SHA-256 certificate fingerprint or a PEM certificate file")
        }
        return .certificateFile(Config.resolve(text, against: baseDirectory))
    }

    /// The pin a client key carries: nil for `system`.
    /// - Throws: a `ConfigError` naming `key` when the certificate file
    ///   cannot be read.
    func pin(key: String) throws -> [UInt8]? {
        switch self {
        case .system: return nil
        case .pinnedSHA256(let bytes): return bytes
        case .certificateFile(let path):
            guard let bytes = SelfSignedCertificate.parseFingerprint(try SelfSignedCertificate.fingerprint(certificatePath: path)) else {
                throw ConfigError(key: key, reason: "\"\(path)\" holds no PEM certificate")
            }
            return bytes
        }
    }
}
